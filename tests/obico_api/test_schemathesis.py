"""Schemathesis over our own OpenAPI schema: no 5xx, and every response as the schema says.

Two runs over every operation: with a valid token, and with none, as anyone on the internet
calls it. CI runs each bounded and derandomized (the same 25 cases an operation every time, so a
red CI is reproducible). For a longer exploratory run:
``SCHEMATHESIS_EXAMPLES=500 SCHEMATHESIS_RANDOM=1 scripts/test tests/obico_api/test_schemathesis.py``.

A third run calls every operation on the real objects of a printing printer (a print with a prediction
and an alert with its snapshot; predict on an idle printer): so the conflicts (already printing,
deleting a printing printer), the not-printing 404s and the alerts' answers, the binary snapshot
included, are checked against the schema too, which random ids almost never reach.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from config.wsgi import application
from detection.region import InvalidRegion, parse_region
from prints.services.lifecycle import print_start
from prints.services.predict import print_snapshot_predict
from tests.factories import AccessTokenFactory, AlertFactory, PrinterFactory
from tests.fixtures.images import make_image_bytes

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# The same 25 cases an operation every run, so a red CI is reproducible (see the module docstring).
BOUNDED_RUN = settings(
    max_examples=int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25")),
    derandomize=not os.environ.get("SCHEMATHESIS_RANDOM"),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def keep_test_connection():
    """Django closes connections after each WSGI request; the test client prevents that, and so must we."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(user, printer, keep_test_connection):
    """A user with one printer, so small ids hit a real row as well as 404s."""
    token = AccessTokenFactory(user=user)
    return {"Authorization": f"Bearer {token.raw_token}"}


@pytest.mark.django_db
@schema.parametrize()
@BOUNDED_RUN
@pytest.mark.fuzz
@pytest.mark.slow
def test_api_conforms_to_its_schema(case, bearer):
    excluded = []
    if case.operation.path.endswith("/predict/"):
        # OpenAPI can only type the upload as binary; random bytes are not a JPEG, PNG or WebP, so
        # the 400 they get is right. Every other check (documented statuses, bodies, no 5xx) still runs.
        excluded.append(positive_data_acceptance)
    if case.operation.path.endswith("/start_print/"):
        # Examples share one test's database: after the first valid start the printer is printing, and
        # every later start is rightly a 400 already_printing, a state the schema cannot express.
        excluded.append(positive_data_acceptance)
    if isinstance(case.body, dict) and not region_accepted(case.body.get("roi")):
        # JSON Schema cannot say x1 < x2, y1 < y2 or "at least 5 % of the frame", so a schema-valid
        # roi may be refused; its 400 is right. Every other body keeps the check.
        excluded.append(positive_data_acceptance)
    case.call_and_validate(headers=bearer, excluded_checks=excluded)


def region_accepted(value) -> bool:
    """Whether the API takes this ``roi`` (absent or null included)."""
    try:
        parse_region(value)
    except InvalidRegion:
        return False
    return True


@pytest.mark.django_db
@schema.parametrize()
@BOUNDED_RUN
@pytest.mark.fuzz
@pytest.mark.slow
def test_api_without_credentials_is_a_documented_4xx(case, user, printer, keep_test_connection):
    # Valid data is refused (401) and so is invalid data, for the same reason: both checks are
    # about input validation, which a caller without a token never reaches.
    response = case.call_and_validate(excluded_checks=[positive_data_acceptance, negative_data_rejection])

    # 401 with WWW-Authenticate; a path no route matches (an id of letters) is a 404 before that.
    # An alert's snapshot also opens to a signature instead of a token: a made-up one is a 403.
    signed = case.operation.path.endswith("/snapshot/") and "signature" in (case.query or {})
    assert response.status_code in ((403, 404) if signed else (401, 404)), response.text
    if response.status_code == 401:
        assert response.headers["www-authenticate"][0].startswith("Bearer")
    if response.status_code == 403:
        assert response.json()["code"] == "invalid_signature"
    assert set(response.json()) == {"error", "code"}


@pytest.fixture
def printing_state(user, keep_test_connection):
    """The user's printer printing, its print with a prediction and an alert (with a snapshot), an idle printer."""
    # Through the services: the test client would reconnect the signals keep_test_connection took off.
    printing = print_start(printer=PrinterFactory(owner=user), filename="benchy.gcode")
    print_snapshot_predict(owner=user, printer_id=printing.pk, image_bytes=make_image_bytes())
    alert = AlertFactory(print=printing.current_print)
    idle = PrinterFactory(owner=user)
    return {
        # Every printer operation is on the printing printer but predict, on the idle one: the conflicts
        # (start while printing, delete while printing), finish (once 200, then the not-printing 404)
        # and predict's not-printing 404.
        "printer_id": lambda case: idle.pk if case.path.endswith("/predict/") else printing.pk,
        "print_id": lambda case: printing.current_print_id,
        "alert_id": lambda case: alert.pk,
    }


# What the run from a printing printer may answer, whatever the generated body or query: never a start or a
# delete (the printer is printing), never a predict (its printer is idle), always the snapshot.
FROM_PRINTING = {
    ("POST", "/api/v1/printers/{printer_id}/start_print/"): {400, 415},
    ("DELETE", "/api/v1/printers/{printer_id}/"): {400},
    ("POST", "/api/v1/printers/{printer_id}/predict/"): {400, 404, 415},
    ("GET", "/api/v1/alerts/{alert_id}/snapshot/"): {200},
}


@pytest.mark.django_db
@schema.parametrize()
@BOUNDED_RUN
@pytest.mark.fuzz
@pytest.mark.slow
def test_api_from_a_printing_printer_conforms_to_its_schema(case, bearer, printing_state):
    """Every operation on real objects of a printing printer: states the other runs never reach."""
    for name in case.path_parameters or {}:
        case.path_parameters[name] = printing_state[name](case)
    # A valid body refused for the state (already printing, printing) is right here; and an id generated
    # invalid was just replaced by a valid one. The first run checks both; this one, every answer's shape.
    response = case.call_and_validate(
        headers=bearer, excluded_checks=[positive_data_acceptance, negative_data_rejection]
    )

    assert response.status_code in FROM_PRINTING.get((case.method.upper(), case.path), {response.status_code})
