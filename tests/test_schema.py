"""The OpenAPI schema: generated without warnings, valid, served with Swagger UI."""

import pytest
import yaml
from django.core.management import call_command


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
