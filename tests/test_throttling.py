"""Rate limits per token: 429 with Retry-After, the predict limit tighter than the API's."""

import pytest

from obico_api.api.throttling import TokenRateThrottle
from tests.conftest import snapshot

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
    monkeypatch.setattr(TokenRateThrottle, "timer", staticmethod(clock))
    return clock


@pytest.fixture
def rates(monkeypatch, clock):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"api": "5/min", "predict": "2/min"})


def test_the_api_limit_is_per_token_with_retry_after(user, make_client, rates):
    first, second = make_client(user), make_client(user)

    answers = [first.get("/api/v1/printers/").status_code for _ in range(6)]
    limited = first.get("/api/v1/printers/")

    assert answers == [200] * 5 + [429]
    assert limited.json()["code"] == "throttled"
    assert limited.json()["error"].startswith("Request was throttled.")
    assert limited["Retry-After"] == "50"  # the window ends 50 s later
    assert second.get("/api/v1/printers/").status_code == 200  # another token has its own budget


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
