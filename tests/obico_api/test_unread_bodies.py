"""A body the view never read is read to its end before the answer (obico_api.api.middleware).

Behind nginx, gunicorn resetting a connection whose body was left unread turned our 401 into nginx's
502; tests/e2e/test_production.py shows that end to end. Here: the body is read, whoever answers.
"""

import io

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.test import RequestFactory
from django.test.client import ClientHandler

from obico_api.api.middleware import UnreadBodyDrainMiddleware
from tests.factories import AccessTokenFactory

pytestmark = pytest.mark.django_db

BODY = b"\xff" * (570 * 1024)


def environ(path: str, stream: io.BytesIO, headers: dict[str, str] | None = None) -> dict:
    """A POST of ``BODY`` as an image to ``path``, its body read from ``stream`` (gunicorn's socket)."""
    request = RequestFactory().post(path, data=b"", content_type="image/jpeg", headers=headers or {})
    return {**request.environ, "wsgi.input": stream, "CONTENT_LENGTH": str(len(BODY))}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}], ids=["no token", "unknown token"])
def test_a_401_reads_the_body_it_never_looked_at_to_its_end(printer, headers):
    stream = io.BytesIO(BODY)

    response = ClientHandler()(environ(f"/api/v1/printers/{printer.id}/predict/", stream, headers))

    assert response.status_code == 401
    assert stream.tell() == len(BODY)


def test_a_body_refused_for_its_media_type_is_read_to_its_end(printer):
    token = AccessTokenFactory(user=printer.owner, scope="read write")
    stream = io.BytesIO(BODY)

    response = ClientHandler()(environ("/api/v1/printers/", stream, {"Authorization": f"Bearer {token.raw_token}"}))

    assert response.status_code == 415
    assert stream.tell() == len(BODY)


def test_nothing_past_the_declared_length_is_read():
    stream = io.BytesIO(BODY + b"GET /next-request HTTP/1.1\r\n")
    request = WSGIRequest(environ("/", stream))

    UnreadBodyDrainMiddleware(lambda request: None)(request)

    assert stream.tell() == len(BODY)
