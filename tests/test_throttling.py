"""Rate limits per token: 429 with Retry-After, the predict limit tighter than the API's."""

import pytest

from obico_api.api.throttling import TokenRateThrottle
from tests.conftest import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"api": "5/min", "predict": "2/min"})


def test_the_api_limit_is_per_token_with_retry_after(user, make_client, rates):
    first, second = make_client(user), make_client(user)

    answers = [first.get("/api/v1/printers/").status_code for _ in range(6)]
    limited = first.get("/api/v1/printers/")

    assert answers == [200] * 5 + [429]
    assert limited.json()["code"] == "throttled"
    assert limited.json()["error"].startswith("Request was throttled.")
    assert 0 < int(limited["Retry-After"]) <= 60
    assert second.get("/api/v1/printers/").status_code == 200  # another token has its own budget


def test_predict_has_its_own_tighter_limit_and_counts_nothing_when_refused(api, printer, rates):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")

    answers = [
        api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot()}, format="multipart").status_code
        for _ in range(3)
    ]

    assert answers == [200, 200, 429]
    assert api.get(f"/api/v1/printers/{printer.id}/").json()["status"]["temporal_stats"]["prediction_num"] == 2
