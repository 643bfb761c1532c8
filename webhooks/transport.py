"""The HTTP POST of a delivery, connected to the address that was checked (no second DNS lookup).

``requests`` would resolve the host again when it connects, and a rebinding resolver can answer a
public address to the check and 127.0.0.1 to the connection. Here the connection pool is keyed on
the checked address, while TLS still sends the host name (SNI) and checks the certificate against
it, and the ``Host`` header names it: the receiver sees an ordinary request to its name.

Why not a library: requests-hardened (Saleor's, maintained) pins the same way, but checks only the
first address of a lookup and has its own address rule, which registration could not share;
advocate is unmaintained since 2020. The adapter is the part we need of both.
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.connection import HAS_IPV6

from webhooks.destinations import destination_resolve


class PinnedAddressAdapter(HTTPAdapter):
    """Send requests for ``host`` to ``address`` and refuse requests for any other host."""

    def __init__(self, *, host: str, address: str):
        super().__init__()
        self.host = host.lower()
        self.address = address

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        """Key the pool on the pinned address, keep the host name for SNI, certificate and ``Host``."""
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host = (host_params["host"] or "").lower()
        if host != self.host:  # e.g. a redirect, were one ever followed: its host was never checked
            raise requests.exceptions.InvalidURL(f"{host} is not the checked host {self.host}.")
        host_params["host"] = self.address
        if host_params["scheme"] == "https":
            # urllib3 2.x: SNI from server_hostname, the certificate matched against assert_hostname
            # (without a fully qualified name's final dot, which certificates do not carry).
            pool_kwargs["server_hostname"] = self.host.rstrip(".")
            pool_kwargs["assert_hostname"] = self.host.rstrip(".")
        host_header = f"[{self.host}]" if ":" in self.host else self.host
        if host_params["port"] is not None:
            host_header += f":{host_params['port']}"
        request.headers["Host"] = host_header
        return host_params, pool_kwargs


def webhook_post(
    url: str,
    *,
    data: bytes,
    headers: dict[str, str],
    timeout: float,
    allow_private: bool,
    resolve_timeout: float,
    verify: bool | str = True,
) -> requests.Response:
    """POST ``data`` to ``url`` once, after checking every address of its host, to one of them.

    Redirects are not followed. Proxies and CA bundles from the environment are ignored
    (``trust_env``): a proxy would resolve the name again. Raises ``DestinationRefused`` for a URL
    webhooks may not use, and ``requests``' exceptions for network errors.
    """
    destination = destination_resolve(url, allow_private=allow_private, timeout=resolve_timeout)
    usable = [a for a in destination.addresses if HAS_IPV6 or ":" not in a] or list(destination.addresses)
    with requests.Session() as session:
        session.trust_env = False
        adapter = PinnedAddressAdapter(host=destination.host, address=usable[0])
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session.post(url, data=data, headers=headers, timeout=timeout, allow_redirects=False, verify=verify)
