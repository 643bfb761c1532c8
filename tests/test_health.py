"""Liveness and readiness probes."""

import pytest


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_with_the_database_and_the_model(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "model": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_when_the_model_cannot_load(client, detection_settings, tmp_path):
    detection_settings["MODEL_PATH"] = tmp_path / "missing.onnx"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "model": "unavailable"}
