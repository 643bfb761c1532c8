"""PUBLIC_BASE_URL: the one origin every link we hand out is built on, never a request's Host."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def loaded(**environment: str) -> subprocess.CompletedProcess:
    """A fresh process loading the settings with only ``environment`` (and PATH) set."""
    code = "import json; from config import settings as s; print(json.dumps(s.PUBLIC_BASE_URL))"
    env = {"PATH": os.environ["PATH"], "SECRET_KEY": "test-only", **environment}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)  # noqa: S603


def public_base_url(**environment: str) -> str:
    done = loaded(**environment)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_in_development_links_point_at_the_development_server():
    assert public_base_url() == "http://127.0.0.1:8000"


def test_in_production_it_defaults_to_https_on_the_first_allowed_host():
    assert public_base_url(DEBUG="0") == "https://localhost"
    assert public_base_url(DEBUG="0", ALLOWED_HOSTS="print.example.com,10.0.0.2") == "https://print.example.com"


@pytest.mark.parametrize("hosts", ["*", ".example.com,print.example.com"])
def test_in_production_a_wildcard_first_host_cannot_make_a_link_so_the_start_is_refused(hosts):
    done = loaded(DEBUG="0", ALLOWED_HOSTS=hosts)

    assert done.returncode != 0
    assert "ImproperlyConfigured: Set PUBLIC_BASE_URL" in done.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://print.example.com", "https://print.example.com"),
        ("https://print.example.com/", "https://print.example.com"),
        ("https://print.example.com:8443", "https://print.example.com:8443"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
    ],
)
def test_a_configured_origin_is_used_as_written_without_its_trailing_slash(value, expected):
    assert public_base_url(DEBUG="0", PUBLIC_BASE_URL=value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "print.example.com",
        "ftp://print.example.com",
        "https://",
        "https://print.example.com/api",
        "https://print.example.com/?a=1",
        "https://print.example.com/#top",
        "https://user:pass@print.example.com",
    ],
)
def test_anything_but_an_http_origin_refuses_to_start(value):
    done = loaded(PUBLIC_BASE_URL=value)

    assert done.returncode != 0
    assert "ImproperlyConfigured: PUBLIC_BASE_URL must be" in done.stderr


def test_compose_gives_the_web_service_and_the_worker_the_same_https_origin_which_the_operator_may_set():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name in ("web", "worker"):
        assert services[name]["environment"]["PUBLIC_BASE_URL"] == "${PUBLIC_BASE_URL:-https://localhost}"
