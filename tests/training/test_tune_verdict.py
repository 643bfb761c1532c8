"""The verdict tuner (training/tune_verdict.py) replays exactly what the service records."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from detection.postprocess import Detection
from detection.replay import read_sequences
from tests.prints.test_evaluate_alerts import folders  # noqa: F401 - the fixture
from training import tune_verdict
from training.tune_verdict import PureReplayer, as_served, rules_with, score_frames


def test_as_served_applies_the_calibration_then_the_services_threshold():
    detections = [Detection(0.5, 1, 1, 1, 1), Detection(0.05, 2, 2, 1, 1)]

    assert as_served(detections, None) == [detections[0]]
    # sigmoid(2 * logit(0.05) + 4) = 0.13: a detection under the threshold may rise over it.
    served = as_served(detections, (2.0, 4.0))
    assert [round(d.confidence, 2) for d in served] == [0.98, 0.13]


def test_rules_with_overrides_the_named_constants_only():
    rules = rules_with({"ADAPTIVE_WARNING": 0.45, "ADAPTATION_RATE_FLOOR": 0.1, "VERDICT_RULE": "obico"})

    assert (rules.name, rules.adaptive.warning, rules.adaptation.rate_floor) == ("obico", 0.45, 0.1)
    assert rules.adaptive.span == rules_with({}).adaptive.span


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_pure_replay_records_the_same_alerts_as_the_service(folders, detection_settings, tmp_path):  # noqa: F811
    clean, failing = folders
    out = StringIO()
    call_command(
        "evaluate_alerts", f"cam={failing}", f"cam={clean}", f"--history=cam={clean}", "--min-snapshots=40",
        f"--details={tmp_path / 'service.json'}", stdout=out,
    )  # fmt: skip
    service = {(d["sequence"], d["history"]): d["alerts"] for d in json.loads((tmp_path / "service.json").read_text())}

    sequences = read_sequences(failing, "cam") + read_sequences(clean, "cam")
    history = read_sequences(clean, "cam")
    frames = {f for s in sequences + history for f in s.frames}
    replayer = PureReplayer(score_frames(detection_settings["MODEL_PATH"], frames), rules_with({}), None, 40)
    pure = {
        (s.name, h): [list(alert) for alert in replayer.replay(s, h, history).alerts]
        for s in sequences
        for h in tune_verdict.HISTORIES
    }

    assert pure == service
    assert any(service.values())
