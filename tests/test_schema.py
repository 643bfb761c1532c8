"""The OpenAPI schema: generated without warnings, valid, served with Swagger UI."""

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from obico_api.api.converters import ObjectIdConverter


def test_schema_generates_without_warnings_and_validates(tmp_path):
    path = tmp_path / "schema.yaml"

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(path))

    schema = yaml.safe_load(path.read_text())
    predict = schema["paths"]["/api/v1/printers/{printer_id}/predict/"]["post"]
    assert predict["security"] == [{"oauth2": ["write"]}]
    assert set(predict["responses"]) == {"200", "400", "401", "403", "404", "413", "415", "429", "503"}
    assert schema["paths"]["/api/v1/printers/"]["get"]["security"] == [{"oauth2": ["read"]}]
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
