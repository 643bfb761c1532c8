"""Scopes, one allow/deny table of every API operation (accounts.permissions).

For each operation: a token with only the scope it needs is let in, a token with only the other
scope is the 403 that names the missing one and changes nothing, and no token is the 401 with the
bearer challenge. The table must list exactly the operations the schema documents.
"""

import io
from typing import NamedTuple

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from oauth2_provider.models import Application
from PIL import Image
from rest_framework.test import APIClient

from detection.models import Prediction, PrinterStats
from printers.models import Printer
from prints.models import Alert, Print
from tests.factories import AccessTokenFactory, AlertFactory, ApplicationFactory, PrinterFactory, PrintFactory
from webhooks.models import Webhook
from webhooks.services import webhook_set

pytestmark = pytest.mark.django_db

READ, WRITE = "read", "write"
# A public address, so registering a webhook needs no DNS answer (webhooks' SSRF check).
WEBHOOK_URL = "https://93.184.215.14/hooks"


class Operation(NamedTuple):
    method: str
    path: str  # the schema's path; {printer_id}, {print_id} and {alert_id} are filled from the world
    scope: str  # the one scope it needs
    status: int  # its answer to a token with that scope
    body: dict | None = None  # JSON; predict's multipart snapshot is added in call()
    printing: bool = False  # called on a printing printer
    app_token: bool = False  # takes a confidential application's own token, not a user's


OPERATIONS = [
    Operation("GET", "/api/v1/printers/", READ, 200),
    Operation("POST", "/api/v1/printers/", WRITE, 201, {"name": "new"}),
    Operation("GET", "/api/v1/printers/{printer_id}/", READ, 200),
    Operation("PATCH", "/api/v1/printers/{printer_id}/", WRITE, 200, {"name": "renamed"}),
    Operation("DELETE", "/api/v1/printers/{printer_id}/", WRITE, 204),
    Operation("POST", "/api/v1/printers/{printer_id}/start_print/", WRITE, 200, {"filename": "a.gcode"}),
    Operation("POST", "/api/v1/printers/{printer_id}/predict/", WRITE, 200, printing=True),
    Operation("POST", "/api/v1/printers/{printer_id}/finish_print/", WRITE, 200, {}, printing=True),
    Operation("GET", "/api/v1/prints/", READ, 200),
    Operation("GET", "/api/v1/prints/{print_id}/", READ, 200),
    Operation("GET", "/api/v1/prints/{print_id}/predictions/", READ, 200),
    Operation("GET", "/api/v1/prints/{print_id}/alerts/", READ, 200),
    Operation("GET", "/api/v1/alerts/{alert_id}/snapshot/", READ, 200),
    Operation("POST", "/api/v1/alerts/{alert_id}/feedback/", WRITE, 200, {"outcome": "failure"}),
    Operation("GET", "/api/v1/webhook/", READ, 200, app_token=True),
    Operation("PUT", "/api/v1/webhook/", WRITE, 200, {"url": WEBHOOK_URL}, app_token=True),
    Operation("DELETE", "/api/v1/webhook/", WRITE, 204, app_token=True),
]
IDS = [f"{operation.method} {operation.path}" for operation in OPERATIONS]


class World(NamedTuple):
    user: object
    printer: Printer
    print_: Print
    alert: Alert
    application: Application  # confidential, with a webhook


@pytest.fixture
def world(user):
    printer = PrinterFactory(owner=user)
    print_ = PrintFactory(printer=printer)
    application = ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL)
    webhook_set(application=application, url=WEBHOOK_URL)
    return World(user, printer, print_, AlertFactory(print=print_), application)


def client_with(world: World, operation: Operation, scope: str) -> APIClient:
    """A client with a token of ``scope`` of the kind ``operation`` takes."""
    if operation.app_token:
        token = AccessTokenFactory(user=None, application=world.application, scope=scope)
    else:
        token = AccessTokenFactory(user=world.user, scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.raw_token}")
    return client


def prepare(world: World, operation: Operation) -> None:
    """Put the world in the state the operation is called in."""
    if operation.printing:
        started = client_with(world, operation, f"{READ} {WRITE}").post(
            f"/api/v1/printers/{world.printer.pk}/start_print/", {"filename": "a.gcode"}, format="json"
        )
        assert started.status_code == 200


def call(client: APIClient, world: World, operation: Operation):
    url = operation.path.format(printer_id=world.printer.pk, print_id=world.print_.pk, alert_id=world.alert.pk)
    if operation.path.endswith("/predict/"):
        frame = io.BytesIO()
        Image.new("RGB", (64, 48), (255, 255, 255)).save(frame, format="JPEG")
        upload = SimpleUploadedFile("snapshot.jpg", frame.getvalue(), content_type="image/jpeg")
        return client.post(url, {"img": upload}, format="multipart")
    return getattr(client, operation.method.lower())(url, operation.body, format="json")


def stored() -> list:
    """Every row a refused request might have written."""
    models = [Printer, PrinterStats, Print, Prediction, Alert, Webhook]
    return [list(model.objects.order_by("pk").values()) for model in models]


def test_the_table_lists_every_operation_of_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}

    assert {(operation.method, operation.path) for operation in OPERATIONS} == documented
    assert len(OPERATIONS) == 17


@pytest.mark.parametrize("operation", OPERATIONS, ids=IDS)
def test_a_token_with_only_the_scope_an_operation_needs_is_let_in(world, operation):
    prepare(world, operation)

    response = call(client_with(world, operation, operation.scope), world, operation)

    assert response.status_code == operation.status, response.content


@pytest.mark.parametrize("operation", OPERATIONS, ids=IDS)
def test_a_token_without_the_scope_an_operation_needs_is_403_and_changes_nothing(world, operation):
    client = client_with(world, operation, WRITE if operation.scope == READ else READ)
    prepare(world, operation)
    before = stored()

    response = call(client, world, operation)

    assert response.status_code == 403
    assert response.json() == {
        "error": f"This token lacks the '{operation.scope}' scope this request needs.",
        "code": "permission_denied",
    }
    assert stored() == before


@pytest.mark.parametrize("operation", OPERATIONS, ids=IDS)
def test_no_token_is_401_with_the_bearer_challenge_and_changes_nothing(world, operation):
    prepare(world, operation)
    before = stored()

    response = call(APIClient(), world, operation)

    assert response.status_code == 401
    assert response.json() == {"error": "Authentication credentials were not provided.", "code": "not_authenticated"}
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert stored() == before


# --- The rules on top of the toolkit's ---------------------------------------------------------------


@pytest.mark.parametrize(("scope", "status"), [(READ, 200), (WRITE, 403)])
def test_head_needs_what_get_needs(world, scope, status):
    client = client_with(world, OPERATIONS[0], scope)

    assert client.head("/api/v1/printers/").status_code == status


@pytest.mark.parametrize("scope", [READ, WRITE, f"{READ} {WRITE}"])
def test_options_is_declared_by_no_view_and_refused_to_every_token(world, scope):
    response = client_with(world, OPERATIONS[0], scope).options("/api/v1/printers/")

    assert response.status_code == 403
    assert response.json() == {
        "error": "This endpoint declares no scope for OPTIONS, so no token may use it.",
        "code": "permission_denied",
    }


@pytest.mark.parametrize("scope", [READ, WRITE])
def test_a_method_a_view_does_not_serve_is_405_with_any_token_and_401_without(world, scope):
    assert client_with(world, OPERATIONS[0], scope).put("/api/v1/printers/").status_code == 405
    assert APIClient().put("/api/v1/printers/").status_code == 401
