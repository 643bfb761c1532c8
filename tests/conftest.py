"""Shared fixtures: users with OAuth tokens, API clients, printers, snapshots, tiny models."""

from __future__ import annotations

import io
import os

import environ
import pytest
from django.core.cache import cache
from oauth2_provider.models import Application
from PIL import Image
from rest_framework.test import APIClient

from tests.factories import OWNER_PASSWORD, AccessTokenFactory, ApplicationFactory, PrinterFactory, UserFactory
from tests.onnx_models import write_detector_model

# Two overlapping boxes and one apart; with a white image the confidences are as written.
TINY_BOXES = [[0.10, 0.20, 0.30, 0.60], [0.12, 0.22, 0.32, 0.62], [0.60, 0.50, 0.90, 0.90]]
TINY_CONFS = [0.50, 0.40, 0.20]


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """A real ONNX model whose confidences scale with image brightness (white: 0.5, 0.4, 0.2)."""
    return write_detector_model(
        tmp_path_factory.mktemp("models") / "tiny.onnx",
        boxes=TINY_BOXES,
        confs=TINY_CONFS,
        scale_by_brightness=True,
    )


@pytest.fixture(autouse=True)
def detection_settings(settings, tiny_model_path):
    """API tests run the tiny model through the real runner; model tests name their own file.

    Returns the new ``settings.DETECTION``: a test may set its keys in place, since
    ``detection.conf.detection_settings`` looks each value up in it on use.
    """
    settings.DETECTION = {**settings.DETECTION, "MODEL_PATH": tiny_model_path, "THREADS": 1}
    return settings.DETECTION


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Files the code stores (alert snapshots) go to a folder of the test's own, never the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()


# A Redis database the tests may empty (.ci/run sets it); without it the Redis cases are skipped.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.fixture(params=["memory", "redis"])
def cache_backend(request, settings):
    """Run a test with the per-process cache and with Redis, the cache production shares."""
    if request.param == "redis":
        if not TEST_REDIS_URL:
            pytest.skip("TEST_REDIS_URL is not set")
        # The same translation of the URL as settings.CACHE_URL, so the same backend.
        settings.CACHES = {"default": environ.Env.cache_url_config(TEST_REDIS_URL)}
    cache.clear()
    yield request.param
    cache.clear()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def admin_browser(client, django_user_model):
    """The test client signed in as a superuser, for the admin's pages."""
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-not-used")
    client.force_login(admin)
    return client


@pytest.fixture
def owner(db):
    """A printer owner named "owner" who signs in with ``OWNER_PASSWORD``."""
    user = UserFactory(username="owner")
    user.set_password(OWNER_PASSWORD)
    user.save()
    return user


@pytest.fixture
def make_client():
    """An API client authenticated with a fresh token of ``user`` carrying ``scope``."""

    def make(user, scope: str = "read write") -> APIClient:
        return bearer_client(AccessTokenFactory(user=user, scope=scope).raw_token)

    return make


def bearer_client(raw_token: str) -> APIClient:
    """An API client that sends ``raw_token`` in the Authorization header."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    return client


def app_client(application=None, *, scope: str = "read write", user=None) -> APIClient:
    """A client with a token of ``application`` (a new confidential app if none), with no user unless given.

    Without a user it is the app's own client-credentials token, the one its webhook endpoint takes.
    """
    if application is None:
        application = ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL)
    return bearer_client(AccessTokenFactory(user=user, application=application, scope=scope).raw_token)


@pytest.fixture
def api(user, make_client) -> APIClient:
    return make_client(user)


@pytest.fixture
def printer(user):
    return PrinterFactory(owner=user)


@pytest.fixture
def printing(api, printer):
    """The user's printer, printing (started through the API)."""
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    return printer


def make_image_bytes(size=(640, 480), color=(255, 255, 255), image_format="JPEG", mode="RGB", **save_args) -> bytes:
    """An in-memory picture of one colour."""
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=image_format, **save_args)
    return buffer.getvalue()


def snapshot(data: bytes | None = None, name: str = "snapshot.jpg") -> io.BytesIO:
    """A file object for a multipart upload."""
    upload = io.BytesIO(data if data is not None else make_image_bytes())
    upload.name = name
    return upload
