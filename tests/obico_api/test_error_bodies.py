"""Every error an integrator meets, over HTTP from a live server, against the schema that server serves.

Each answer's status must be one the operation documents, and its body must validate against the
schema of that status (the one error shape, closed to other keys). schemathesis only sees these by
chance; here each is made on purpose.
"""

import pytest
import requests
import schemathesis

from tests.factories import AccessTokenFactory, PrinterFactory
from tests.fixtures.images import make_image_bytes

pytestmark = pytest.mark.django_db(transaction=True)

PRINTER = "/api/v1/printers/{printer_id}/"
START = "/api/v1/printers/{printer_id}/start_print/"
PREDICT = "/api/v1/printers/{printer_id}/predict/"
FINISH = "/api/v1/printers/{printer_id}/finish_print/"
PRINTERS = "/api/v1/printers/"
JPEG = make_image_bytes((64, 48))
UNKNOWN_ID = 987654321


@pytest.fixture
def server(live_server, user):
    """The live server, its schema, a printing and an idle printer of ``user`` and a session with their token."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {AccessTokenFactory(user=user).raw_token}"
    printing, idle = PrinterFactory(owner=user), PrinterFactory(owner=user)
    started = session.post(f"{live_server.url}{START.format(printer_id=printing.pk)}", json={"filename": "a.gcode"})
    assert started.status_code == 200, started.text
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    yield {"url": live_server.url, "schema": schema, "session": session, "printing": printing.pk, "idle": idle.pk}
    session.close()  # a kept-alive connection holds a server thread, and its database connection, open


def call(server, method, template, *, printer="idle", session=None, **kwargs) -> requests.Response:
    """``method`` on ``template`` (its printer id filled in), validated against the served schema.

    With the token's session unless another is given (``requests`` itself: no token).
    """
    path = template.format(printer_id=server[printer] if printer in ("idle", "printing") else printer)
    response = (session or server["session"]).request(method, f"{server['url']}{path}", timeout=30, **kwargs)
    operation = server["schema"][template][method]
    assert operation.responses.find_by_status_code(response.status_code) is not None, (
        f"{method} {template} answered an undocumented {response.status_code}: {response.text}"
    )
    operation.validate_response(response)
    return response


@pytest.mark.parametrize(
    ("method", "template", "printer", "kwargs", "code"),
    [
        ("POST", START, "printing", {"json": {"filename": "b.gcode"}}, "already_printing"),
        ("DELETE", PRINTER, "printing", {}, "printer_printing"),
        ("POST", START, "idle", {"json": {}}, "invalid"),
        ("PATCH", PRINTER, "idle", {"json": {"roi": {"x1": 2, "y1": 0, "x2": 1, "y2": 1}}}, "invalid"),
        ("POST", PREDICT, "printing", {"files": {"img": ("a.jpg", b"not an image", "image/jpeg")}}, "invalid"),
        ("POST", FINISH, "printing", {"json": {"status": "maybe"}}, "invalid"),
    ],
    ids=["already-printing", "delete-printing", "no-filename", "bad-roi", "bad-image", "bad-status"],
)
def test_400_bodies_validate_against_the_schema(server, method, template, printer, kwargs, code):
    response = call(server, method, template, printer=printer, **kwargs)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert all(isinstance(messages, list) for messages in body["details"].values())


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "not_authenticated"), ({"Authorization": "Bearer not-a-token"}, "invalid_token")],
    ids=["no-token", "wrong-token"],
)
@pytest.mark.parametrize(
    ("method", "template", "kwargs"),
    [("GET", PRINTERS, {}), ("POST", START, {"json": {"filename": "a.gcode"}}), ("GET", PRINTER, {})],
)
def test_401_bodies_validate_against_the_schema(server, headers, code, method, template, kwargs):
    response = call(server, method, template, session=requests, headers=headers, **kwargs)

    assert response.status_code == 401
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    ("method", "template", "printer", "kwargs"),
    [
        ("GET", PRINTER, UNKNOWN_ID, {}),
        ("POST", PREDICT, "idle", {"files": {"img": ("a.jpg", JPEG, "image/jpeg")}}),
        ("POST", FINISH, "idle", {"json": {}}),
    ],
    ids=["unknown-printer", "predict-not-printing", "finish-not-printing"],
)
def test_404_bodies_validate_against_the_schema(server, method, template, printer, kwargs):
    response = call(server, method, template, printer=printer, **kwargs)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_413_body_validates_against_the_schema(server, settings):
    settings.UPLOAD_MAX_BYTES = 1000

    response = call(server, "POST", PREDICT, printer="printing", files={"img": ("a.jpg", b"\xff" * 5000)})

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_503_body_validates_against_the_schema(server, detection_settings, tmp_path):
    detection_settings["MODEL_PATH"] = tmp_path / "missing.onnx"

    response = call(server, "POST", PREDICT, printer="printing", files={"img": ("a.jpg", JPEG, "image/jpeg")})

    assert response.status_code == 503
    assert response.json() == {"error": "Failed to perform failure detection.", "code": "model_unavailable"}
