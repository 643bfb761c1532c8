"""nginx's own errors are JSON in the API's shape, never its HTML pages (deploy/nginx.conf.template).

nginx answers some requests itself, before or instead of gunicorn: a request line or headers too
large, a malformed request, a method it refuses, plain HTTP on the HTTPS port, a body over the
limit, an upstream that is down. Each answer here is checked for its status, its Content-Type and
its exact body, as the API's own errors are.
"""

import socket
import ssl
from urllib.parse import urlparse

import pytest
import requests

from tests.e2e.conftest import free_port, nginx
from tests.e2e.test_production import production_session

JSON = "application/json"


def raw_request(url: str, request: bytes, *, certificate: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as written (no client would send it so) and read the answer to the end.

    nginx closes the connection after each of these errors, so the answer ends at end of stream.
    """
    parsed = urlparse(url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as plain:
        sock = plain
        if certificate:
            sock = ssl.create_default_context(cafile=certificate).wrap_socket(plain, server_hostname=parsed.hostname)
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


@pytest.fixture
def client(production):
    with production_session(production) as session:
        yield session


def test_uri_too_long_is_a_json_414(production, client):
    response = client.get(f"{production.url}/api/v1/printers/?q={'a' * 9000}", timeout=10)

    assert response.status_code == 414
    assert response.headers["Content-Type"] == JSON
    assert response.json() == {"error": "The request URI is too long.", "code": "uri_too_long"}


def test_oversized_header_is_a_json_400(production, client):
    response = client.get(f"{production.url}/api/v1/printers/", headers={"X-Large": "a" * 9000}, timeout=10)

    assert response.status_code == 400
    assert response.headers["Content-Type"] == JSON
    assert response.json() == {"error": "The request headers are too large.", "code": "headers_too_large"}


@pytest.mark.parametrize(
    "request_",
    [b"GARBAGE\r\n\r\n", b"GET /api/v1/printers/ HTTP/1.1\r\nHost\r\n\r\n"],
    ids=["request line", "header"],
)
def test_malformed_request_is_a_json_400(production, request_):
    status, headers, body = raw_request(production.url, request_, certificate=production.certificate)

    assert status == 400
    assert headers["content-type"] == JSON
    assert body == b'{"error": "The request is malformed.", "code": "bad_request"}'


def test_trace_is_a_json_405(production):
    status, headers, body = raw_request(
        production.url, b"TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", certificate=production.certificate
    )

    assert status == 405
    assert headers["content-type"] == JSON
    assert body == b'{"error": "Method not allowed.", "code": "method_not_allowed"}'


def test_unknown_transfer_encoding_is_a_json_501(production):
    request = b"POST /o/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n"

    status, headers, body = raw_request(production.url, request, certificate=production.certificate)

    assert status == 501
    assert headers["content-type"] == JSON
    assert body == b'{"error": "The request uses a feature this server does not implement.", "code": "not_implemented"}'


def test_unsupported_http_version_is_a_json_505(production):
    status, headers, body = raw_request(
        production.url, b"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", certificate=production.certificate
    )

    assert status == 505
    assert headers["content-type"] == JSON
    assert body == b'{"error": "The HTTP version is not supported.", "code": "http_version_not_supported"}'


def test_plain_http_to_the_https_port_is_a_json_400(production):
    response = requests.get(production.url.replace("https://", "http://") + "/healthz", timeout=10)

    assert response.status_code == 400
    assert response.headers["Content-Type"] == JSON
    assert response.json() == {"error": "This port speaks HTTPS only; use an https:// URL.", "code": "https_required"}


def test_oversized_body_is_a_json_413_whatever_the_url_ends_with(production, client):
    # A URL ending in .html would give the error nginx's type for .html (text/html) but for "types { }".
    response = client.post(f"{production.url}/index.html", data=b"x" * (10 * 1024 * 1024 + 1), timeout=30)

    assert response.status_code == 413
    assert response.headers["Content-Type"] == JSON
    assert response.json() == {
        "error": "The request body is larger than the limit of 10485760 bytes.",
        "code": "too_large",
    }


def test_errors_on_the_plain_http_port_are_json_too(production):
    uri_too_long = requests.get(f"{production.http_url}/?q={'a' * 9000}", allow_redirects=False, timeout=10)
    header_too_large = requests.get(
        f"{production.http_url}/", headers={"X-Large": "a" * 9000}, allow_redirects=False, timeout=10
    )

    assert (uri_too_long.status_code, uri_too_long.headers["Content-Type"]) == (414, JSON)
    assert uri_too_long.json() == {"error": "The request URI is too long.", "code": "uri_too_long"}
    assert (header_too_large.status_code, header_too_large.headers["Content-Type"]) == (400, JSON)
    assert header_too_large.json() == {"error": "The request headers are too large.", "code": "headers_too_large"}


def test_upstream_down_is_a_json_502(compose, tls_pair):
    # Nothing listens on the upstream's port: nginx cannot connect, as while gunicorn restarts.
    with nginx(compose, upstream=f"127.0.0.1:{free_port()}", tls_pair=tls_pair, ready_status=502) as (url, _):
        response = requests.get(f"{url}/api/v1/printers/", verify=str(tls_pair[0]), timeout=10)

    assert response.status_code == 502
    assert response.headers["Content-Type"] == JSON
    assert response.json() == {"error": "The service is unavailable; try again shortly.", "code": "bad_gateway"}


def test_errors_of_the_service_itself_pass_through_unchanged(production, client):
    response = client.get(f"{production.url}/no/such/page/", timeout=10)

    assert response.status_code == 404
    assert response.json() == {"error": "Not found.", "code": "not_found"}
    assert response.headers["X-Request-ID"]  # gunicorn's answer, not nginx's
