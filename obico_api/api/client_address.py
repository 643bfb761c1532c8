"""The address of the client that made a request, as seen by the first proxy we run.

Contract, for anything keyed on the client (rate limits, lockouts, logs):

- ``TRUSTED_PROXY_COUNT = 0`` (the default, gunicorn facing clients): ``REMOTE_ADDR``. Any
  ``X-Forwarded-For`` is the client's own words and is ignored.
- ``TRUSTED_PROXY_COUNT = N`` (docker-compose sets 1 for its nginx): each of our N proxies appends
  the address that connected to it (nginx's ``$proxy_add_x_forwarded_for``), so the client is the
  N-th entry from the right; entries further left were written by the client and are never read.
- A header with fewer than N entries, or an entry that is not an IP address, means the request did
  not come through our proxies (a health probe inside the network): ``REMOTE_ADDR`` again.

The result is a normalised IP address string, or ``""`` when the server gave no address at all.
``client_network`` widens it to what counts as one client (rate limits, django-axes' lockouts).
"""

import ipaddress

from django.conf import settings

# An IPv6 client is counted by its /64: the smallest network an ISP or a cloud host hands out
# (RFC 6177), so one client can use 2**64 addresses. django-ratelimit's default mask too.
IPV6_PREFIX = 64


def client_address(request) -> str:
    """The client's IP address: ``X-Forwarded-For`` from our own proxies only, else ``REMOTE_ADDR``."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote_addr
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote_addr
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote_addr


def client_network(request) -> str:
    """The client's address for counting: an IPv4 address, or the /64 an IPv6 address is in.

    ``""`` when the server gave no address (a Unix socket with no proxy in front).
    """
    address = client_address(request)
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False).network_address)
    return str(ip)
