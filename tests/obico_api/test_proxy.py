"""Behind our nginx: client_address() finds the real client, never an address the client wrote
itself, and X-Forwarded-Proto is trusted only when TRUSTED_PROXY_COUNT says a proxy of ours is there."""

import json
import os
import subprocess
import sys

import pytest
from django.test import RequestFactory

from obico_api.api.client_address import client_address


def request_from(remote_addr: str, forwarded_for: str | None = None):
    headers = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


@pytest.mark.parametrize(
    ("proxies", "remote_addr", "forwarded_for", "expected"),
    [
        # Not behind a proxy (the default): the header is the client's own words, ignored.
        (0, "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        (0, "203.0.113.7", None, "203.0.113.7"),
        # Behind our nginx: it appends the address that connected to it; earlier entries are the client's.
        (1, "172.18.0.5", "198.51.100.1", "198.51.100.1"),
        (1, "172.18.0.5", "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (1, "172.18.0.5", "6.6.6.6,198.51.100.1 ", "198.51.100.1"),
        (1, "172.18.0.5", "2001:db8::1", "2001:db8::1"),
        # A load balancer in front of nginx: two hops are ours, the client is second from the right.
        (2, "172.18.0.5", "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        # Fewer entries than proxies, or garbage: the request did not come through the proxies.
        (1, "172.18.0.5", None, "172.18.0.5"),
        (1, "172.18.0.5", "", "172.18.0.5"),
        (2, "172.18.0.5", "198.51.100.1", "172.18.0.5"),
        (1, "172.18.0.5", "6.6.6.6, not-an-address", "172.18.0.5"),
    ],
)
def test_client_address(settings, proxies, remote_addr, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(request_from(remote_addr, forwarded_for)) == expected


def test_client_address_without_remote_addr_is_empty(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_address(request) == ""


def production_settings(**environment: str) -> dict:
    """The settings module as a fresh ``DEBUG=0`` process loads it, with ``environment`` added."""
    code = (
        "import json; from config import settings as s; "
        "print(json.dumps({'header': s.SECURE_PROXY_SSL_HEADER if hasattr(s, 'SECURE_PROXY_SSL_HEADER') else None, "
        "'proxies': s.TRUSTED_PROXY_COUNT}))"
    )
    env = {"PATH": os.environ["PATH"], "DEBUG": "0", "SECRET_KEY": "test-only", **environment}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60, check=True)  # noqa: S603
    return json.loads(done.stdout)


def test_forwarded_proto_is_ignored_without_a_trusted_proxy():
    assert production_settings() == {"header": None, "proxies": 0}


def test_forwarded_proto_is_trusted_behind_our_proxy():
    loaded = production_settings(TRUSTED_PROXY_COUNT="1")
    assert loaded["header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert loaded["proxies"] == 1
