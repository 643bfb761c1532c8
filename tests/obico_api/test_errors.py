"""Every error is JSON in the spec's shape: unknown URLs, wrong methods, model faults, our own bugs."""

import logging

import pytest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from rest_framework.exceptions import ValidationError

from detection.models import PrinterStats
from obico_api.api.exceptions import api_exception_handler
from tests.fixtures.images import snapshot
from tests.onnx_models import write_failing_model

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v2/printers/", "/api/v1/printers/1/explode/", "/nowhere"])
def test_unknown_urls_are_json_404(api, path, settings):
    settings.DEBUG = True  # even where Django would show its HTML debug page

    response = api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Not found.", "code": "not_found"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("put", "/api/v1/printers/"), ("delete", "/api/v1/prints/"), ("get", "/api/v1/printers/{id}/predict/")],
)
def test_wrong_methods_are_json_405(api, printer, method, path):
    response = getattr(api, method)(path.format(id=printer.id))

    assert response.status_code == 405
    assert response.json()["error"].startswith("Method")


def test_malformed_json_is_400(api):
    response = api.generic("POST", "/api/v1/printers/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def broken_model(kind, tmp_path):
    if kind == "missing":
        return tmp_path / "missing.onnx"
    if kind == "corrupt":
        path = tmp_path / "corrupt.onnx"
        path.write_bytes(b"not an onnx model at all")
        return path
    return write_failing_model(tmp_path / "failing.onnx")


@pytest.mark.parametrize("kind", ["missing", "corrupt", "inference-error"])
def test_model_faults_are_the_specs_503_with_nothing_counted_and_logged(
    api, printing, detection_settings, tmp_path, caplog, kind
):
    detection_settings["MODEL_PATH"] = broken_model(kind, tmp_path)

    with caplog.at_level(logging.ERROR):
        response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot()}, format="multipart")

    assert response.status_code == 503
    assert response.json() == {"error": "Failed to perform failure detection.", "code": "model_unavailable"}
    assert PrinterStats.objects.get(printer=printing).prediction_num == 0
    assert "Failure detection failed" in caplog.text
    # The rest of the API keeps working.
    assert api.get(f"/api/v1/printers/{printing.id}/").status_code == 200


def test_bad_image_is_still_400_while_the_model_is_down(api, printing, detection_settings, tmp_path):
    detection_settings["MODEL_PATH"] = tmp_path / "missing.onnx"

    response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(b"junk")}, format="multipart")

    assert response.status_code == 400


def test_an_unexpected_error_is_a_json_500_that_is_logged(api, monkeypatch, caplog):
    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("printers.selectors.printer_list", explode)

    with caplog.at_level(logging.ERROR):
        response = api.get("/api/v1/printers/")

    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error.", "code": "server_error"}
    assert "boom" in caplog.text


@pytest.mark.parametrize(
    ("exception", "status", "body"),
    [
        (SuspiciousOperation("forged"), 400, {"error": "Bad request.", "code": "bad_request"}),
        (TooManyFieldsSent("x"), 400, {"error": "The request has more than 1000 fields.", "code": "too_many_fields"}),
        (TooManyFilesSent("x"), 400, {"error": "The request has more than 100 files.", "code": "too_many_files"}),
        (
            RequestDataTooBig("x"),
            413,
            {"error": "The request body is larger than the limit of 10485760 bytes.", "code": "too_large"},
        ),
    ],
    ids=["suspicious", "too-many-fields", "too-many-files", "too-big"],
)
def test_djangos_suspicious_request_errors_in_a_view_are_json_4xx_and_logged(
    api, monkeypatch, caplog, exception, status, body
):
    def refuse(**kwargs):
        raise exception

    monkeypatch.setattr("printers.selectors.printer_list", refuse)

    with caplog.at_level(logging.WARNING, logger="django.security"):
        response = api.get("/api/v1/printers/")

    assert response.status_code == status
    assert response.json() == body
    assert f"django.security.{type(exception).__name__}" in {record.name for record in caplog.records}


def test_a_body_over_the_upload_limit_is_413_before_it_is_read(api, printing, settings):
    settings.UPLOAD_MAX_BYTES = 1000

    response = api.post(
        f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(b"\xff" * 5000)}, format="multipart"
    )

    assert response.status_code == 413
    assert response.json() == {"error": "The request body is larger than the limit of 1000 bytes.", "code": "too_large"}
    assert PrinterStats.objects.get(printer=printing).prediction_num == 0


@pytest.mark.parametrize(
    ("detail", "details"),
    [
        (["Not now.", "Not ever."], {"non_field_errors": ["Not now.", "Not ever."]}),
        ("Not now.", {"non_field_errors": ["Not now."]}),
        ({"name": ["Too long."]}, {"name": ["Too long."]}),
        ({"roi": {"x1": ["Too big."], "y1": ["Too small."]}}, {"roi.x1": ["Too big."], "roi.y1": ["Too small."]}),
        ({"urls": {0: ["Not a URL."]}}, {"urls.0": ["Not a URL."]}),
        ({"items": [{"a": ["Bad."]}, {}]}, {"items.0.a": ["Bad."]}),
    ],
    ids=["list", "string", "fields", "nested-object", "list-field", "list-of-objects"],
)
def test_validation_details_are_always_field_to_messages(detail, details):
    """The schema's ``details``: an object of string lists, whatever shape DRF's error had."""
    response = api_exception_handler(ValidationError(detail), {})

    assert response.status_code == 400
    assert response.data["details"] == details
    assert response.data["code"] == "invalid"
