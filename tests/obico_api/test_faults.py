"""Faults inside us: a JSON 5xx, nothing half-written, and recovery once the fault is gone."""

import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import OperationalError, connection

from detection.models import Prediction, PrinterStats
from tests.fixtures.images import snapshot

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parents[2]


@contextmanager
def database_down():
    """Every query fails as it would with the database server gone."""

    def refuse(execute, sql, params, many, context):
        raise OperationalError("connection refused (database is down)")

    with connection.execute_wrapper(refuse):
        yield


def test_database_unreachable_is_a_json_503_and_the_api_recovers(api, printer):
    with database_down():
        down = api.get("/api/v1/printers/")

    assert down.status_code == 503
    assert down.json() == {"error": "The database is unavailable; try again shortly.", "code": "database_unavailable"}
    assert down["Retry-After"] == "5"
    assert api.get("/api/v1/printers/").status_code == 200


def test_readyz_reports_the_database_down(client):
    with database_down():
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_a_failure_midway_through_a_predict_leaves_the_statistics_untouched(api, printer):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot()}, format="multipart")
    before = PrinterStats.objects.get(printer=printer)

    history_table = Prediction._meta.db_table

    def crash(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if f'INSERT INTO "{history_table}"' in sql:  # both writes have run, the commit has not
            raise RuntimeError("the worker died after writing, before the commit")
        return result

    with connection.execute_wrapper(crash):
        response = api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot()}, format="multipart")

    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error.", "code": "server_error"}
    after = PrinterStats.objects.get(printer=printer)
    assert after.temporal_stats() == before.temporal_stats()
    assert (after.last_p, after.last_predicted_at) == (before.last_p, before.last_predicted_at)
    assert Prediction.objects.count() == 1


@pytest.mark.slow
def test_production_settings_pass_the_deploy_check():
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "api.example.com",
    }
    env.pop("DATABASE_URL", None)

    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**os.environ, "DEBUG": "0"}
    env.pop("SECRET_KEY", None)

    completed = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=PROJECT, env=env, capture_output=True, text=True, check=False
    )

    assert completed.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in completed.stderr
