"""The token-lookup cache: later calls skip the token query, and revoking or changing a token
still takes effect at once."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from oauth2_provider.models import AccessToken

from accounts import token_cache
from tests.factories import AccessTokenFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cache_backend")]


@pytest.fixture(autouse=True)
def token_cache_on(settings):
    settings.ACCESS_TOKEN_CACHE_SECONDS = 60


@pytest.fixture
def token(user):
    return AccessTokenFactory(user=user, scope="read write")


@pytest.fixture
def client(token):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.raw_token}")
    return client


def test_a_second_call_skips_the_token_query(client, django_assert_num_queries):
    assert client.get("/api/v1/printers/").status_code == 200

    with django_assert_num_queries(1):  # the printers only
        assert client.get("/api/v1/printers/").status_code == 200


def test_the_cache_is_off_by_default_without_a_shared_cache(client, settings, django_assert_num_queries):
    settings.ACCESS_TOKEN_CACHE_SECONDS = 0
    client.get("/api/v1/printers/")

    with django_assert_num_queries(2):  # the token, then the printers
        client.get("/api/v1/printers/")


def test_a_revoked_token_is_refused_at_once(client, token):
    assert client.get("/api/v1/printers/").status_code == 200

    token.revoke()

    assert client.get("/api/v1/printers/").status_code == 401


def test_a_token_deleted_with_its_application_is_refused_at_once(client, token):
    assert client.get("/api/v1/printers/").status_code == 200

    token.application.delete()

    assert client.get("/api/v1/printers/").status_code == 401


def test_a_narrowed_scope_applies_at_once(client, token):
    assert client.post("/api/v1/printers/", {"name": "a"}, format="json").status_code == 201

    token.scope = "read"
    token.save()

    assert client.post("/api/v1/printers/", {"name": "b"}, format="json").status_code == 403


def test_a_cached_token_still_expires_on_time(client, token):
    assert client.get("/api/v1/printers/").status_code == 200

    later = token.expires + timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert client.get("/api/v1/printers/").status_code == 401


def test_a_revocation_during_the_lookup_is_not_cached(token):
    """A worker reads the token just before another revokes it: what it read must not be cached."""

    def load_then_revoke(raw):
        found = AccessToken.objects.select_related("user", "application").get(pk=token.pk)
        AccessToken.objects.get(pk=token.pk).revoke()  # another worker, before ours writes the cache
        return found

    token_cache.access_token_load(token.raw_token, load_then_revoke)

    assert token_cache.access_token_load(token.raw_token, lambda raw: None) is None


def test_unknown_tokens_are_not_cached(user):
    calls = []

    def load(raw):
        calls.append(raw)

    token_cache.access_token_load("no-such-token", load)
    token_cache.access_token_load("no-such-token", load)

    assert calls == ["no-such-token", "no-such-token"]


def test_an_expired_entry_goes_back_to_the_database(token):
    loaded = []

    def load(raw):
        loaded.append(raw)
        return AccessToken.objects.get(pk=token.pk)

    token_cache.access_token_load(token.raw_token, load)
    cache.clear()  # as if the entry timed out
    token_cache.access_token_load(token.raw_token, load)

    assert len(loaded) == 2
