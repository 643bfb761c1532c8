"""Rate limits per caller: 429 with Retry-After, the predict limit tighter than the API's.

A caller is a user (all of that user's tokens together), an application for its own
client-credentials tokens, or a client address for calls without a token.
"""

import pytest

from obico_api.api.throttling import ApiRateThrottle
from tests.conftest import app_client, snapshot
from tests.factories import ApplicationFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cache_backend")]


class Clock:
    """The throttles' time, moved by hand: 10 s into a minute-long window."""

    def __init__(self):
        self.now = 1_800_000_010.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(ApiRateThrottle, "timer", staticmethod(clock))
    return clock


@pytest.fixture
def rates(monkeypatch, clock):
    monkeypatch.setattr(ApiRateThrottle, "THROTTLE_RATES", {"api": "5/min", "predict": "2/min"})


def test_the_api_limit_is_per_user_with_retry_after(user, make_client, rates):
    first = make_client(user)

    answers = [first.get("/api/v1/printers/").status_code for _ in range(6)]
    limited = first.get("/api/v1/printers/")

    assert answers == [200] * 5 + [429]
    assert limited.json()["code"] == "throttled"
    assert limited.json()["error"].startswith("Request was throttled.")
    assert limited["Retry-After"] == "50"  # the window ends 50 s later


def test_two_tokens_of_one_user_share_one_budget(user, make_client, rates):
    # Each token comes from an app of its own (the factory): a second app buys no fresh budget.
    first, second = make_client(user), make_client(user)

    answers = [first.get("/api/v1/printers/").status_code for _ in range(3)]
    answers += [second.get("/api/v1/printers/").status_code for _ in range(3)]

    assert answers == [200] * 5 + [429]
    assert first.get("/api/v1/printers/").status_code == 429


def test_two_users_have_budgets_of_their_own(user, make_client, rates):
    for _ in range(5):
        make_client(user).get("/api/v1/printers/")
    assert make_client(user).get("/api/v1/printers/").status_code == 429

    assert make_client(UserFactory()).get("/api/v1/printers/").status_code == 200


def test_client_credentials_tokens_count_per_application(rates):
    application, other = (ApplicationFactory(client_type="confidential") for _ in range(2))

    answers = [app_client(application).get("/api/v1/webhook/").status_code for _ in range(6)]

    assert answers == [404] * 5 + [429]  # no webhook yet: a 404 until the budget is spent
    assert app_client(other).get("/api/v1/webhook/").status_code == 404


def test_calls_without_a_token_count_per_client_address(client, rates):
    answers = [client.get("/api/docs/", REMOTE_ADDR="198.51.100.7").status_code for _ in range(6)]

    assert answers == [200] * 5 + [429]
    assert client.get("/api/docs/", REMOTE_ADDR="198.51.100.8").status_code == 200


def test_ipv6_callers_without_a_token_count_per_64_network(client, rates):
    # One home or one server gets a whole /64; counting each address would give it 2**64 budgets.
    answers = [client.get("/api/docs/", REMOTE_ADDR=f"2001:db8:1:2::{n}").status_code for _ in range(3) for n in (1, 2)]

    assert answers == [200] * 5 + [429]
    assert client.get("/api/docs/", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


def test_predict_has_its_own_tighter_limit_and_counts_nothing_when_refused(api, printer, rates):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")

    answers = [
        api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot()}, format="multipart").status_code
        for _ in range(3)
    ]

    assert answers == [200, 200, 429]
    assert api.get(f"/api/v1/printers/{printer.id}/").json()["status"]["temporal_stats"]["prediction_num"] == 2


def test_the_budget_comes_back_when_the_window_ends(api, rates, clock):
    for _ in range(5):
        api.get("/api/v1/printers/")
    assert api.get("/api/v1/printers/").status_code == 429

    clock.now += 50

    assert api.get("/api/v1/printers/").status_code == 200
