"""The HTTP POST of a delivery, connected to the address that was checked (no second DNS lookup).

``requests`` would resolve the host again when it connects, and a rebinding resolver can answer a
public address to the check and 127.0.0.1 to the connection. Here the connection pool is keyed on
the checked address, while TLS still sends the host name (SNI) and checks the certificate against
it, and the ``Host`` header names it: the receiver sees an ordinary request to its name.

Why not a library: requests-hardened (Saleor's, maintained) pins the same way, but checks only the
first address of a lookup and has its own address rule, which registration could not share;
advocate is unmaintained since 2020. The adapter is the part we need of both.

Each attempt has a deadline for the whole of it (lookup, connect, TLS, sending, the reply's status
line, headers and body). A socket timeout bounds only each read, and a receiver that sends one byte
every few seconds never trips it; so a timer shuts the attempt's socket down when the deadline
passes, which ends any read or write blocked on it, in plain HTTP and TLS alike. Of the reply, only
the status and the first ``max_response_bytes`` of the body are read; the connection is then closed.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.connection import HAS_IPV6

from webhooks.destinations import destination_resolve


class DeadlineExceeded(requests.exceptions.Timeout):
    """The attempt did not end within its deadline; whatever it was waiting for was cut off."""


@dataclass(frozen=True)
class WebhookReply:
    """What a receiver answered: its status and the start of its body (at most ``max_response_bytes``)."""

    status_code: int
    body: bytes


class Watchdog:
    """Shuts down the sockets of one attempt when its deadline passes, whatever they are blocked on.

    It holds a duplicate of each socket (the same connection under another descriptor): TLS takes
    over the original, and a shutdown of either ends the connection for both.
    """

    def __init__(self, seconds: float):
        self.expires = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        """Seconds left, never below a millisecond (a timeout of 0 would mean non-blocking)."""
        return max(0.001, self.expires - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        """Cut ``sock`` off at the deadline (at once if it has passed)."""
        duplicate = sock.dup()
        with self._lock:
            self._sockets.append(duplicate)
            if self.expired:
                self._shutdown(duplicate)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # already closed by the peer or by us
            sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Stop the timer and let go of the duplicates; call when the attempt is over."""
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


class _WatchedConnectionMixin:
    """A urllib3 connection that hands its socket to the attempt's ``Watchdog`` as soon as it is connected."""

    def __init__(self, *args, watchdog: Watchdog, **kwargs):
        super().__init__(*args, **kwargs)
        self.watchdog = watchdog

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self.watchdog.watch(sock)  # before TLS: the handshake is cut off too
        return sock


class _WatchedHTTPConnection(_WatchedConnectionMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnectionMixin, HTTPSConnection):
    pass


class PinnedAddressAdapter(HTTPAdapter):
    """Send requests for ``host`` to ``address`` and refuse requests for any other host."""

    def __init__(self, *, host: str, address: str, watchdog: Watchdog | None = None):
        super().__init__()
        self.host = host.lower()
        self.address = address
        self.watchdog = watchdog

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        """The pool for the request, whose connections report their sockets to the watchdog."""
        pool = super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
        if self.watchdog is not None:
            pool.ConnectionCls = _WatchedHTTPSConnection if pool.scheme == "https" else _WatchedHTTPConnection
            pool.conn_kw["watchdog"] = self.watchdog
        return pool

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
    deadline: float,
    max_response_bytes: int,
    allow_private: bool,
    resolve_timeout: float,
    verify: bool | str = True,
) -> WebhookReply:
    """POST ``data`` to ``url`` once, after checking every address of its host, to one of them.

    The whole attempt, the lookup included, ends within ``deadline`` seconds: ``DeadlineExceeded``
    when the status line and headers have not all come by then, else the reply with as much of the
    body as came in time (at most ``max_response_bytes`` are read). Redirects are not followed.
    Proxies and CA bundles from the environment are ignored (``trust_env``): a proxy would resolve
    the name again. Raises ``DestinationRefused`` for a URL webhooks may not use, and ``requests``'
    exceptions for network errors.
    """
    watchdog = Watchdog(deadline)
    try:
        destination = destination_resolve(
            url, allow_private=allow_private, timeout=min(resolve_timeout, watchdog.remaining())
        )
        usable = [a for a in destination.addresses if HAS_IPV6 or ":" not in a] or list(destination.addresses)
        # A compressed reply is not ours to inflate: its first bytes could stand for gigabytes.
        headers = {**headers, "Accept-Encoding": "identity"}
        with requests.Session() as session:
            session.trust_env = False
            adapter = PinnedAddressAdapter(host=destination.host, address=usable[0], watchdog=watchdog)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            remaining = watchdog.remaining()
            with session.post(
                url,
                data=data,
                headers=headers,
                timeout=(remaining, remaining),
                allow_redirects=False,
                verify=verify,
                stream=True,  # the status and headers now; of the body, only what is read below
            ) as response:
                try:
                    body = response.raw.read(max_response_bytes, decode_content=False) or b""
                except (urllib3.exceptions.HTTPError, OSError):  # cut off, or the receiver hung up
                    body = b""
                # The receiver has answered; a body cut short at the deadline does not change its answer.
                return WebhookReply(status_code=response.status_code, body=body)
    except (requests.RequestException, OSError) as exc:
        if watchdog.expired:
            raise DeadlineExceeded(f"The receiver did not answer within {deadline:g} s.") from exc
        raise
    finally:
        watchdog.close()
