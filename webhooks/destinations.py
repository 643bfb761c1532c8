"""Where a webhook may be sent: one rule, used when a URL is registered and again at each delivery.

Against server-side request forgery a receiver must be public: every address its host resolves to
(all A and AAAA records) must be a global unicast address, IPv4 addresses hidden inside IPv6 ones
included. Delivery then connects to one of the addresses checked here (``webhooks/transport.py``),
never resolving the name again, so a resolver that answers differently the second time (DNS
rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from webhooks.conf import webhook_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64's well-known prefix (RFC 6052): its last 32 bits are an IPv4 address that a gateway reaches.
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")

# getaddrinfo() has no timeout of its own; lookups run here so a caller waits a bounded time. A
# lookup that hangs holds a thread until the system resolver gives up, and later ones queue: twice
# the worker's delivery threads, so receivers whose names hang (one lookup in flight each, per
# ``webhooks/worker.py``) leave threads for everyone else's. Threads start only when used.
_resolver_pool = ThreadPoolExecutor(
    max_workers=max(4, 2 * webhook_settings.WORKER_THREADS), thread_name_prefix="webhook-dns"
)


class DestinationRefused(ValueError):
    """The URL is not one webhooks may be sent to; the message is a sentence for the client."""


@dataclass(frozen=True)
class Destination:
    """A checked receiver: the URL's parts and every address its host resolved to."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4 or NAT64), which is where it really goes."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(address: IPAddress) -> bool:
    """True for a global unicast address: not private, loopback, link-local, multicast, reserved,
    unspecified or shared (carrier-grade NAT), whether written as IPv4 or inside IPv6."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:  # the packets go to the IPv4 address, so that is the one to judge
        return address_is_public(embedded)
    return address.is_global and not (
        address.is_multicast  # ``is_global`` counts 224.0.0.0/4 as global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def _parse(url: str, *, require_https: bool) -> tuple[str, str, int]:
    """Scheme, host and port of a URL webhooks may use, before any lookup."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 literal, "http://[::1"
        raise DestinationRefused("The URL is not well formed.") from None
    try:
        port = parts.port
    except ValueError:  # not a number, or over 65535
        raise DestinationRefused("The URL's port must be between 1 and 65535.") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and require_https:
        raise DestinationRefused("The URL must use https.")
    if scheme not in ("http", "https"):
        raise DestinationRefused("The URL must use http or https.")
    if parts.username is not None or parts.password is not None:
        # requests would send them as Basic credentials to whoever the host is; secrets belong in `secret`.
        raise DestinationRefused("The URL must not contain a user name or password.")
    if not parts.hostname:
        raise DestinationRefused("The URL must name a host.")
    if port is None:
        port = 443 if scheme == "https" else 80
    elif not 1 <= port <= 65535:
        raise DestinationRefused("The URL's port must be between 1 and 65535.")
    return scheme, parts.hostname, port


def destination_resolve(url: str, *, allow_private: bool, timeout: float, require_https: bool = False) -> Destination:
    """Check a webhook URL and resolve its host once, refusing it unless every address is public.

    With ``allow_private`` (development) any resolved address is accepted, but the URL must still be
    well formed and resolvable. ``require_https`` is registration's rule in production; delivery
    does not repeat it, so a URL registered under another setting is still judged by its address.
    Raises ``DestinationRefused`` with a sentence for the client.
    """
    scheme, host, port = _parse(url, require_https=require_https)
    lookup = _resolver_pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=timeout)
    except (OSError, UnicodeError, FutureTimeout):  # no such name, no answer in time, or not a valid name
        lookup.cancel()  # one still queued need not run at all
        raise DestinationRefused("The URL's host could not be resolved.") from None
    addresses: list[str] = []
    for family, _type, _proto, _canonname, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
        if not allow_private and not address_is_public(address):
            shown = f"::ffff:{address.ipv4_mapped}" if getattr(address, "ipv4_mapped", None) else address
            raise DestinationRefused(
                f"The URL's host resolves to a non-public address ({shown}); webhooks go to public receivers only."
            )
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise DestinationRefused("The URL's host could not be resolved.")
    return Destination(scheme=scheme, host=host, port=port, addresses=tuple(addresses))


def validate_webhook_url(url: str) -> None:
    """``registration_check`` for the API's serializer and the admin's form alike.

    A refusal is Django's ``ValidationError``, which both report on the field being cleaned.
    """
    try:
        registration_check(url)
    except DestinationRefused as exc:
        raise ValidationError(str(exc)) from None


def registration_check(url: str) -> Destination:
    """The check at registration (the API's ``PUT`` and the admin): delivery's rule, and https in production."""
    return destination_resolve(
        url,
        allow_private=webhook_settings.ALLOW_PRIVATE_NETWORKS,
        require_https=not webhook_settings.ALLOW_PRIVATE_NETWORKS,
        timeout=webhook_settings.RESOLVE_TIMEOUT_SECONDS,
    )
