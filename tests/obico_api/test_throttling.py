"""Rate limits per caller: 429 with Retry-After, the predict limit tighter than the API's.

A caller is a user (all of that user's tokens together), an application for its own
client-credentials tokens, or a client address for calls without a token. Within a user's limit,
each of the user's apps may spend only its share, so one app cannot starve the others.
"""

import pytest

from obico_api.api.throttling import ApiRateThrottle
from tests.factories import ApplicationFactory, UserFactory
from tests.fixtures.accounts import app_client
from tests.fixtures.images import snapshot

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
def rates(monkeypatch, clock, settings):
    """Per user 6 calls and 4 predicts a minute; each (user, app) pair half of that, 3 and 2."""
    monkeypatch.setattr(ApiRateThrottle, "THROTTLE_RATES", {"api": "6/min", "predict": "4/min"})
    settings.THROTTLE_APP_SHARE = 0.5


def test_the_api_limit_is_per_user_with_retry_after(user, make_client, rates):
    apps = [make_client(user) for _ in range(3)]  # each token from an app of its own (the factory)

    answers = [api.get("/api/v1/printers/").status_code for api in apps for _ in range(3)]
    limited = apps[2].get("/api/v1/printers/")

    assert answers == [200] * 6 + [429] * 3
    assert limited.json()["code"] == "throttled"
    assert limited.json()["error"].startswith("Request was throttled.")
    assert limited["Retry-After"] == "50"  # the window ends 50 s later


def test_one_app_cannot_spend_the_budget_of_the_users_other_apps(user, make_client, rates):
    greedy, other = make_client(user), make_client(user)

    greedy_answers = [greedy.get("/api/v1/printers/").status_code for _ in range(10)]
    other_answers = [other.get("/api/v1/printers/").status_code for _ in range(3)]

    # The greedy app's refused calls are not charged to the user: the other app gets its whole share.
    assert greedy_answers == [200] * 3 + [429] * 7
    assert other_answers == [200] * 3
    assert greedy.get("/api/v1/printers/")["Retry-After"] == "50"


def test_authorizing_the_same_app_again_buys_no_fresh_share(user, rates):
    application = ApplicationFactory()
    first, second = (app_client(application, user=user) for _ in range(2))

    answers = [first.get("/api/v1/printers/").status_code for _ in range(2)]
    answers += [second.get("/api/v1/printers/").status_code for _ in range(2)]

    assert answers == [200] * 3 + [429]


def test_a_share_of_one_lets_one_app_spend_the_whole_user_limit(user, make_client, rates, settings):
    settings.THROTTLE_APP_SHARE = 1
    greedy, other = make_client(user), make_client(user)

    answers = [greedy.get("/api/v1/printers/").status_code for _ in range(7)]

    assert answers == [200] * 6 + [429]
    assert other.get("/api/v1/printers/").status_code == 429


def test_two_users_have_budgets_of_their_own(user, make_client, rates):
    for _ in range(2):
        for _ in range(3):
            make_client(user).get("/api/v1/printers/")
    assert make_client(user).get("/api/v1/printers/").status_code == 429

    assert make_client(UserFactory()).get("/api/v1/printers/").status_code == 200


def test_client_credentials_tokens_count_per_application(rates):
    application, other = (ApplicationFactory(client_type="confidential") for _ in range(2))

    answers = [app_client(application).get("/api/v1/webhook/").status_code for _ in range(7)]

    assert answers == [404] * 6 + [429]  # no webhook yet: a 404 until the budget is spent
    assert app_client(other).get("/api/v1/webhook/").status_code == 404


def test_calls_without_a_token_count_per_client_address(client, rates):
    answers = [client.get("/api/docs/", REMOTE_ADDR="198.51.100.7").status_code for _ in range(7)]

    assert answers == [200] * 6 + [429]
    assert client.get("/api/docs/", REMOTE_ADDR="198.51.100.8").status_code == 200


def test_ipv6_callers_without_a_token_count_per_64_network(client, rates):
    # One home or one server gets a whole /64; counting each address would give it 2**64 budgets.
    answers = [client.get("/api/docs/", REMOTE_ADDR=f"2001:db8:1:2::{n}").status_code for _ in range(4) for n in (1, 2)]

    assert answers == [200] * 6 + [429] * 2
    assert client.get("/api/docs/", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


def test_predict_has_its_own_tighter_limit_and_counts_nothing_when_refused(user, make_client, printer, rates):
    apps = [make_client(user) for _ in range(3)]
    apps[0].post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")

    def predict(api):
        return api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot()}, format="multipart").status_code

    answers = [predict(api) for api in apps for _ in range(3)]

    # Each app's share of the predicts (2), and the user's limit (4) leaves the third app none.
    assert answers == [200, 200, 429, 200, 200, 429, 429, 429, 429]
    printer.stats.refresh_from_db()
    assert printer.stats.prediction_num == 4


def test_the_budget_comes_back_when_the_window_ends(api, rates, clock):
    for _ in range(3):
        api.get("/api/v1/printers/")
    assert api.get("/api/v1/printers/").status_code == 429

    clock.now += 50

    assert api.get("/api/v1/printers/").status_code == 200
