"""The OpenAPI schema: generated without warnings, valid, served with Swagger UI."""

import re
from pathlib import Path

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from obico_api.api.converters import ObjectIdConverter


def test_schema_generates_without_warnings_and_validates(tmp_path):
    path = tmp_path / "schema.yaml"

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(path))

    schema = yaml.safe_load(path.read_text())
    predict = schema["paths"]["/api/v1/printers/{printer_id}/predict/"]["post"]
    assert predict["security"] == [{"oauth2": ["write"]}, {"bearer": []}]
    assert set(predict["responses"]) == {"200", "400", "401", "403", "404", "413", "415", "429", "503"}
    assert schema["paths"]["/api/v1/printers/"]["get"]["security"] == [{"oauth2": ["read"]}, {"bearer": []}]
    flows = schema["components"]["securitySchemes"]["oauth2"]["flows"]
    assert set(flows) == {"authorizationCode"}
    assert set(flows["authorizationCode"]["scopes"]) == {"read", "write"}


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_a_token(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/printers/{printer_id}/start_print/" in schema.content
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()  # assets come from the sidecar package


@pytest.mark.django_db
def test_the_schema_is_generated_once_per_process_not_per_request(client, monkeypatch):
    generated = []
    generate = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        generated.append(1)
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    formats = ["application/vnd.oai.openapi", "application/vnd.oai.openapi+json"]
    first = {accept: client.get("/api/schema/", headers={"Accept": accept}) for accept in formats}
    made_by_the_first = len(generated)  # 0 where an earlier test already had it generated

    again = {accept: client.get("/api/schema/?lang=de&version=2", headers={"Accept": accept}) for accept in formats}

    assert made_by_the_first <= 1
    assert len(generated) == made_by_the_first
    for accept in formats:
        assert again[accept].status_code == 200
        assert again[accept].content == first[accept].content
        assert again[accept].headers["Content-Type"] == first[accept].headers["Content-Type"]
    assert first["application/vnd.oai.openapi"].headers["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert yaml.safe_load(first["application/vnd.oai.openapi"].content) == first[formats[1]].json()


def served_schema(client) -> dict:
    return client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}).json()


@pytest.mark.django_db
def test_every_path_id_is_an_integer_with_the_bounds_the_urls_accept(client):
    """Ids are integers in every response, so generated clients must take integers in paths too."""
    parameters = [
        parameter
        for item in served_schema(client)["paths"].values()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    ]

    assert len(parameters) == 11  # printers 5, prints 4, alerts 2
    for parameter in parameters:
        assert parameter["name"].endswith("_id")
        assert parameter["schema"] == {
            "type": "integer",
            "format": "int64",
            "minimum": 1,
            "maximum": ObjectIdConverter.max_value,
        }


# One style: the path's nouns (ids left out) and DRF's verb; the spec's actions are verbs themselves.
OPERATION_IDS = {
    ("get", "/api/v1/printers/"): "printers_list",
    ("post", "/api/v1/printers/"): "printers_create",
    ("get", "/api/v1/printers/{printer_id}/"): "printers_retrieve",
    ("patch", "/api/v1/printers/{printer_id}/"): "printers_partial_update",
    ("delete", "/api/v1/printers/{printer_id}/"): "printers_destroy",
    ("post", "/api/v1/printers/{printer_id}/start_print/"): "printers_start_print",
    ("post", "/api/v1/printers/{printer_id}/predict/"): "printers_predict",
    ("post", "/api/v1/printers/{printer_id}/finish_print/"): "printers_finish_print",
    ("get", "/api/v1/prints/"): "prints_list",
    ("get", "/api/v1/prints/{print_id}/"): "prints_retrieve",
    ("get", "/api/v1/prints/{print_id}/predictions/"): "prints_predictions_list",
    ("get", "/api/v1/prints/{print_id}/alerts/"): "prints_alerts_list",
    ("get", "/api/v1/alerts/{alert_id}/snapshot/"): "alerts_snapshot_retrieve",
    ("post", "/api/v1/alerts/{alert_id}/feedback/"): "alerts_feedback_create",
    ("get", "/api/v1/webhook/"): "webhook_retrieve",
    ("put", "/api/v1/webhook/"): "webhook_update",
    ("delete", "/api/v1/webhook/"): "webhook_destroy",
}


@pytest.mark.django_db
def test_operation_ids_and_tags_follow_one_style(client):
    paths = served_schema(client)["paths"]

    operations = {(method, path): operation for path, item in paths.items() for method, operation in item.items()}

    assert {key: operation["operationId"] for key, operation in operations.items()} == OPERATION_IDS
    for (_, path), operation in operations.items():
        assert operation["tags"] == [path.split("/")[3]]  # the resource: printers, prints, alerts, webhook


@pytest.mark.django_db
def test_the_alert_snapshot_is_binary_for_generators(client):
    """openapi-python-client reads only octet-stream as bytes; the JPEG is offered under both names."""
    content = served_schema(client)["paths"]["/api/v1/alerts/{alert_id}/snapshot/"]["get"]["responses"]["200"][
        "content"
    ]

    assert content == {
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    }


@pytest.mark.django_db
def test_every_verdict_is_the_verdict_enum(client):
    schemas = served_schema(client)["components"]["schemas"]

    assert schemas["VerdictEnum"]["enum"] == ["ok", "warning", "failure"]
    for name in ("PredictionOutput", "PredictionResult"):
        verdict = schemas[name]["properties"]["verdict"]
        # drf-spectacular wraps a reference in allOf where the field has a description of its own.
        assert verdict.get("allOf", [verdict])[0] == {"$ref": "#/components/schemas/VerdictEnum"}, name
    status_verdict = schemas["PrinterStatus"]["properties"]["verdict"]
    assert status_verdict["nullable"] is True  # idle, or before the print's first prediction
    assert status_verdict["oneOf"] == [
        {"$ref": "#/components/schemas/VerdictEnum"},
        {"$ref": "#/components/schemas/NullEnum"},
    ]


@pytest.mark.django_db
def test_detections_have_an_item_schema_everywhere(client):
    """``[confidence, [xc, yc, w, h]]``: OpenAPI 3.0 has no tuples, so each pair is a two-item array."""
    schemas = served_schema(client)["components"]["schemas"]

    detection = schemas["Detection"]
    assert detection["type"] == "array"
    assert (detection["minItems"], detection["maxItems"]) == (2, 2)
    confidence, box = detection["items"]["oneOf"]
    assert confidence == {"type": "number", "format": "double", "minimum": 0, "maximum": 1}
    assert box == {"type": "array", "items": {"type": "number", "format": "double"}, "minItems": 4, "maxItems": 4}
    for name in ("PredictionOutput", "PredictionResult", "AlertOutput"):
        detections = schemas[name]["properties"]["detections"]
        assert detections["type"] == "array", name
        assert detections["items"] == {"$ref": "#/components/schemas/Detection"}, name


@pytest.mark.django_db
def test_every_operation_takes_a_pasted_bearer_token_beside_oauth2(client):
    """Swagger UI's Authorize dialog then has a field for the demo token, not only the code flow."""
    schema = served_schema(client)

    bearer = schema["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            security = operation["security"]
            assert {"bearer": []} in security, (method, path)
            assert next(requirement for requirement in security if "oauth2" in requirement)["oauth2"] in (
                ["read"],
                ["write"],
            )
    snapshot = schema["paths"]["/api/v1/alerts/{alert_id}/snapshot/"]["get"]
    assert snapshot["security"] == [{"oauth2": ["read"]}, {"bearer": []}, {}]  # {}: the signed link


@pytest.mark.django_db
def test_swagger_uis_oauth2_redirect_page_is_served_where_the_ui_sends_the_browser(client):
    """Swagger UI's default redirect URI is oauth2-redirect.html beside the page; it must not be a JSON 404."""
    docs = client.get("/api/docs/")
    page = client.get("/api/docs/oauth2-redirect.html?code=abc&state=xyz")

    assert b"oauth2RedirectUrl" not in docs.content  # so the UI uses its default, this page
    assert page.status_code == 200
    assert page["Content-Type"] == "text/html; charset=utf-8"
    # Its script hands the code to the Swagger UI that opened the popup.
    script = re.fullmatch(r'(?s).*<script src="/static/([^"]+)"></script>.*', page.content.decode())[1]
    assert "window.opener.swaggerUIRedirectOauth2" in Path(finders.find(script)).read_text()
    # Served here, not redirected to /static/: the page that opened the popup keeps its window.opener
    # only while both answer the same Cross-Origin-Opener-Policy, which static files do not get in runserver.
    assert page["Cross-Origin-Opener-Policy"] == docs["Cross-Origin-Opener-Policy"] == "same-origin"
