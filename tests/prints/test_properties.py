"""Property-based tests (hypothesis): the statistics stay sane, the API never answers 5xx."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detection.models import PrinterStats
from detection.temporal import ROLLING_WINDOW_SHORT, TemporalStats, add_prediction, start_print
from prints.models import Print
from tests.fixtures.images import snapshot

scores = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
django_examples = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(st.lists(scores, max_size=400), st.lists(scores, max_size=50))
@pytest.mark.fuzz
def test_statistics_stay_within_the_range_of_p_and_count_exactly(first_print, second_print):
    stats = TemporalStats()
    for p in first_print:
        stats = add_prediction(stats, p)
    stats = start_print(stats)
    for p in second_print:
        stats = add_prediction(stats, p)

    everything = first_print + second_print
    assert stats.prediction_num == len(second_print)
    assert stats.prediction_num_lifetime == len(everything)
    for value in (stats.ewm_mean, stats.rolling_mean_short, stats.rolling_mean_long):
        assert -1e-9 <= value <= 1 + 1e-9
    if second_print and len(second_print) <= ROLLING_WINDOW_SHORT:
        assert stats.rolling_mean_short == pytest.approx(sum(second_print) / len(second_print))
    if everything:
        assert stats.rolling_mean_long == pytest.approx(sum(everything) / len(everything))


@pytest.mark.django_db
@django_examples
@given(filename=st.text(max_size=300))
@pytest.mark.fuzz
def test_any_filename_is_either_started_unchanged_or_refused_with_a_400(api, printer, filename):
    response = api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": filename}, format="json")

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["printer"]["current_print"]["filename"] == filename.strip()
        api.post(f"/api/v1/printers/{printer.id}/finish_print/", {}, format="json")
    else:
        assert response.json()["error"].startswith("filename: ")
    assert not Print.objects.filter(status="printing").exists()


@pytest.mark.django_db
@django_examples
@given(data=st.binary(max_size=2048))
@pytest.mark.fuzz
def test_any_upload_is_scored_or_refused_never_a_server_error(api, printer, data):
    if not printer.current_print_id:
        api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
        printer.refresh_from_db()
    before = PrinterStats.objects.get(printer=printer).prediction_num

    response = api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(data)}, format="multipart")

    assert response.status_code in (200, 400)
    counted = PrinterStats.objects.get(printer=printer).prediction_num - before
    assert counted == (1 if response.status_code == 200 else 0)
