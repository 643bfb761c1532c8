"""Verdicts over a print, the printer's sensitivity, and the prediction timeline."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from detection import judge
from detection.conf import detection_settings as configured
from detection.models import Prediction
from detection.postprocess import Detection
from detection.temporal import TemporalStats
from detection.verdict import ObicoRule, obico_verdict
from tests.factories import PrinterFactory
from tests.fixtures.images import make_image_bytes, snapshot
from tests.onnx_models import write_detector_model

pytestmark = pytest.mark.django_db

BLACK = make_image_bytes(color=(0, 0, 0), image_format="PNG")
WHITE = make_image_bytes(image_format="PNG")


@pytest.fixture
def one_box_model(detection_settings, tmp_path):
    """White snapshots score p = 1, black ones p = 0."""
    detection_settings["MODEL_PATH"] = write_detector_model(
        tmp_path / "one.onnx", boxes=[[0.2, 0.2, 0.4, 0.4]], confs=[1.0], scale_by_brightness=True
    )


def start_and_predict(api, printer, images):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    return [
        api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(image)}, format="multipart").json()[
            "result"
        ]
        for image in images
    ]


@pytest.mark.parametrize(
    ("value", "status"), [(0.5, 200), (2.0, 200), (1.3, 200), (0.49, 400), (2.01, 400), ("x", 400)]
)
def test_sensitivity_is_patchable_within_half_to_double(api, printer, value, status):
    response = api.patch(f"/api/v1/printers/{printer.id}/", {"sensitivity": value}, format="json")

    assert response.status_code == status
    printer.refresh_from_db()
    assert printer.sensitivity == (value if status == 200 else 1.0)


def test_verdict_is_ok_during_the_warm_up_then_follows_the_adaptive_rule(api, printer, one_box_model):
    printer.sensitivity = 2.0
    printer.save()

    start_and_predict(api, printer, [BLACK] * 40)  # a clean print: the printer learns its scene
    api.post(f"/api/v1/printers/{printer.id}/finish_print/", {}, format="json")

    results = start_and_predict(api, printer, [WHITE] * 20)

    warmup = configured.adaptive_rule().warmup
    assert {r["verdict"] for r in results[: warmup - 1]} == {"ok"}  # however high p is
    assert [r["verdict"] for r in results] == replayed_verdicts(printer, sensitivity=2.0)
    assert results[-1]["verdict"] == "failure"


def replayed_verdicts(printer, *, sensitivity):
    """The current print's verdicts replayed through detection.judge from the printer's recorded history."""
    state, verdicts, current = judge.PrinterState(), [], None
    for prediction in Prediction.objects.filter(print__printer=printer).order_by("print_id", "prediction_num"):
        if prediction.print_id != current:
            state, verdicts, current = judge.print_started(state), [], prediction.print_id
        detections = [Detection(conf, *box) for conf, box in prediction.detections]
        judgement = judge.judge_snapshot(
            state,
            p=prediction.p,
            detections=detections,
            width=640,
            height=480,
            sensitivity=sensitivity,
            rules=configured.rules(),
        )
        state = judgement.state
        verdicts.append(judgement.verdict)
    return verdicts


def test_with_obicos_rule_the_verdict_is_ok_before_30_predictions_then_follows_it(
    api, printer, one_box_model, detection_settings
):
    detection_settings["VERDICT_RULE"] = "obico"
    printer.sensitivity = 2.0
    printer.save()

    start_and_predict(api, printer, [BLACK] * 40)  # a clean print: the printer's normal level is 0
    api.post(f"/api/v1/printers/{printer.id}/finish_print/", {}, format="json")

    results = start_and_predict(api, printer, [WHITE] * 33)

    assert {r["verdict"] for r in results[:29]} == {"ok"}  # however high p is
    for result in results:
        expected = obico_verdict(TemporalStats(**result["temporal_stats"]), sensitivity=2.0, rule=ObicoRule())
        assert result["verdict"] == expected
    assert results[-1]["verdict"] != "ok"


def test_a_print_records_when_it_first_reached_warning_and_failure(api, printer, one_box_model):
    results = start_and_predict(api, printer, [BLACK] * 30 + [WHITE] * 10)

    verdicts = [r["verdict"] for r in results]
    first_warning, first_failure = verdicts.index("warning"), verdicts.index("failure")
    assert 30 <= first_warning < first_failure
    print_ = api.get("/api/v1/prints/").json()["results"][0]
    predictions = Prediction.objects.filter(print_id=print_["id"]).order_by("prediction_num")
    assert print_["warning_at"] == predictions[first_warning].created_at.isoformat().replace("+00:00", "Z")
    assert print_["failure_at"] == predictions[first_failure].created_at.isoformat().replace("+00:00", "Z")
    status = api.get(f"/api/v1/printers/{printer.id}/").json()["status"]
    assert status["verdict"] == verdicts[-1]


def test_predictions_timeline_lists_a_prints_predictions_in_order(api, printer):
    results = start_and_predict(api, printer, [WHITE, BLACK, WHITE])
    print_id = api.get("/api/v1/prints/").json()["results"][0]["id"]

    response = api.get(f"/api/v1/prints/{print_id}/predictions/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [item["p"] for item in body["results"]] == [r["p"] for r in results]
    assert [item["temporal_stats"] for item in body["results"]] == [r["temporal_stats"] for r in results]
    assert body["results"][0]["detections"] == results[0]["detections"]
    assert set(body["results"][0]) == {"created_at", "p", "temporal_stats", "detections", "verdict"}


def test_predictions_timeline_paginates(api, printer):
    start_and_predict(api, printer, [WHITE] * 5)
    print_id = api.get("/api/v1/prints/").json()["results"][0]["id"]

    page = api.get(f"/api/v1/prints/{print_id}/predictions/?page_size=2&page=3").json()

    assert page["count"] == 5
    assert [item["temporal_stats"]["prediction_num"] for item in page["results"]] == [5]


def test_another_users_print_timeline_is_404(api, make_client):
    theirs = PrinterFactory()
    start_and_predict(make_client(theirs.owner), theirs, [WHITE])
    print_id = theirs.prints.get().id

    assert api.get(f"/api/v1/prints/{print_id}/predictions/").status_code == 404


def test_prune_deletes_predictions_past_retention_and_keeps_the_prints_count(api, printer, settings):
    settings.PREDICTION_RETENTION_DAYS = 7
    start_and_predict(api, printer, [WHITE] * 3)
    api.post(f"/api/v1/printers/{printer.id}/finish_print/", {}, format="json")
    Prediction.objects.filter(prediction_num__lte=2).update(created_at=timezone.now() - timedelta(days=8))

    call_command("prune_predictions", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert list(Prediction.objects.values_list("prediction_num", flat=True)) == [3]
    assert api.get("/api/v1/prints/").json()["results"][0]["prediction_num"] == 3
