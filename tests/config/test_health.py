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


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_any_host_over_plain_http(client, settings, path):
    # kubelet names the pod's IP, compose's check 127.0.0.1: neither is in a production ALLOWED_HOSTS,
    # and the probe speaks plain HTTP to a service that redirects everything else to HTTPS.
    settings.ALLOWED_HOSTS = ["print.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(path, HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_other_paths_still_refuse_an_unknown_host(client, settings):
    settings.ALLOWED_HOSTS = ["print.example.com"]

    response = client.get("/api/v1/printers/", HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 400
