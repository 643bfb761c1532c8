"""Logs: one JSON object a line with LOG_FORMAT=json, each with the request id."""

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings

from tests.fixtures.images import snapshot
from tests.onnx_models import write_failing_model


@pytest.fixture
def json_log():
    """Route the root logger through the settings' JSON formatter into a buffer."""
    stream = io.StringIO()
    config = {
        **settings.LOGGING,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
                "stream": stream,
            }
        },
    }
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.django_db
def test_failed_inference_logs_why_as_json_with_the_request_id(api, printer, json_log, detection_settings, tmp_path):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    detection_settings["MODEL_PATH"] = write_failing_model(tmp_path / "failing.onnx")

    response = api.post(
        f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot()}, format="multipart", HTTP_X_REQUEST_ID="req-42"
    )

    assert response.status_code == 503
    assert response["X-Request-ID"] == "req-42"
    records = [json.loads(line) for line in json_log.getvalue().splitlines()]
    failure = next(r for r in records if r["message"].startswith("Failure detection failed"))
    assert failure["level"] == "ERROR"
    assert failure["request_id"] == "req-42"
    assert "Inference failed" in failure["message"]


@pytest.mark.django_db
def test_each_request_gets_an_id_when_the_caller_sends_none_or_a_bad_one(api):
    first = api.get("/api/v1/printers/")
    second = api.get("/api/v1/printers/", HTTP_X_REQUEST_ID="bad id with spaces\n")

    assert len(first["X-Request-ID"]) == 32
    assert len(second["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]
