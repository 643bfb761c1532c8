"""The service as production runs it: the Dockerfile's own commands, gunicorn behind nginx.

Nothing here restates the Dockerfile or docker-compose.yml. The collectstatic step, the ENV and the
CMD are read from the Dockerfile; gunicorn's further settings from compose's ``web`` service; nginx's
configuration is deploy/nginx.conf.template, rendered with the variables compose's ``proxy`` service
names, as the official nginx image renders it. Only what cannot be the same on one machine is
replaced: the database (the test database), the cache (``TEST_REDIS_URL`` or per process), addresses
(127.0.0.1 and free ports), the TLS pair (self-signed, by scripts/dev-cert) and folders.

Every process listens on 127.0.0.1, is stopped at teardown, and every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
NGINX = os.environ.get("NGINX", shutil.which("nginx") or "/usr/sbin/nginx")
NGINX_TEMPLATE = REPO / "deploy" / "nginx.conf.template"
# Where compose mounts the template in the official nginx image.
NGINX_TEMPLATE_MOUNT = "./deploy/nginx.conf.template:/etc/nginx/templates/default.conf.template:ro"
STARTUP_SECONDS = 60  # gunicorn imports Django and onnxruntime; a busy CI machine is slow

# The official nginx:1.27 image's own /etc/nginx/nginx.conf, the copy .ci/containers runs in its nginx
# image. Its http { } block is kept directive for directive, so a directive the template repeats (as
# keepalive_timeout once did) fails here as it fails in compose.
NGINX_IMAGE_CONF = REPO / ".ci" / "containers" / "images" / "nginx" / "nginx.conf"
# What cannot be the same on one machine, each (pattern, replacement) found exactly once: no user (the
# image's nginx user need not exist here; as root nginx's workers run as nobody), our own folder for
# the pid, logs and the rendered file (compose's conf.d), and the temporary files' folders (the
# image's are compiled in). ``daemon off;`` is the image's CMD's ``-g``.
NGINX_CONF_CHANGES = [
    (r"^user\s+\S+;\n", ""),
    (r"^pid\s+\S+;", "pid {folder}/nginx.pid;"),
    (r"^error_log\s+\S+", "error_log {folder}/error.log"),
    (r"^([ \t]*)access_log\s+\S+", r"\1access_log {folder}/access.log"),
    (
        r"^([ \t]*)include\s+/etc/nginx/conf\.d/\*\.conf;",
        r"\1client_body_temp_path {folder}/client_body;\n"
        r"\1proxy_temp_path {folder}/proxy;\n"
        r"\1fastcgi_temp_path {folder}/fastcgi;\n"
        r"\1uwsgi_temp_path {folder}/uwsgi;\n"
        r"\1scgi_temp_path {folder}/scgi;\n"
        r"\1include {folder}/conf.d/*.conf;",
    ),
]


def nginx_main_conf(folder: Path) -> str:
    """The image's nginx.conf, changed only by NGINX_CONF_CHANGES, in the foreground, for ``folder``."""
    text = NGINX_IMAGE_CONF.read_text()
    for pattern, replacement in NGINX_CONF_CHANGES:
        text, found = re.subn(pattern, replacement.replace("{folder}", str(folder)), text, flags=re.MULTILINE)
        assert found == 1, f"{NGINX_IMAGE_CONF} has {found} lines like {pattern!r}, not one"
    return "daemon off;\n" + text


@dataclass(frozen=True)
class Dockerfile:
    """What the tests take from the Dockerfile."""

    build_env: dict[str, str]  # ENV in force at the collectstatic step
    collectstatic: str  # that RUN line's shell command, as written
    env: dict[str, str]  # ENV of the built image
    cmd: list[str]


def read_dockerfile(path: Path = REPO / "Dockerfile") -> Dockerfile:
    """Parse the ENV lines, the one collectstatic RUN line and the exec-form CMD."""
    text = re.sub(r"\\\n", " ", path.read_text())  # join continuation lines
    env: dict[str, str] = {}
    build_env, collectstatic, cmd = None, None, None
    for line in text.splitlines():
        instruction, _, argument = line.strip().partition(" ")
        if instruction == "ENV":
            pairs = shlex.split(argument)
            assert all("=" in pair for pair in pairs), f"ENV must be KEY=value pairs: {line}"
            env.update(pair.split("=", 1) for pair in pairs)
        elif instruction == "RUN" and "manage.py collectstatic" in argument:
            assert collectstatic is None, "the Dockerfile runs collectstatic twice"
            build_env, collectstatic = dict(env), argument.strip()
        elif instruction == "CMD":
            cmd = json.loads(argument)
    assert collectstatic is not None, "the Dockerfile does not run collectstatic"
    assert isinstance(cmd, list), "the Dockerfile's CMD is not in exec form"
    return Dockerfile(build_env=build_env, collectstatic=collectstatic, env=env, cmd=cmd)


def read_compose(path: Path = REPO / "docker-compose.yml") -> dict:
    return yaml.safe_load(path.read_text())


def interpolate(value, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?message}``, from ``variables``."""

    def replace(match: re.Match) -> str:
        name, operator, argument = match.groups()
        if variables.get(name):
            return variables[name]
        if operator == ":-":
            return argument
        raise KeyError(f"docker-compose.yml needs {name} ({argument or 'no default'})")

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", replace, str(value))


def free_port() -> int:
    """A port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env() -> dict[str, str]:
    """A clean environment, as in the image: the virtualenv's python and gunicorn first on PATH."""
    return {
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", str(REPO)),
        "LANG": "C.UTF-8",
    }


def wait_until_up(url: str, *, process: subprocess.Popen, log: Path, verify=True, status: int = 200) -> None:
    """Poll ``url`` until it answers ``status``; fail with the log if the process dies or time runs out."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2, verify=verify).status_code == status:
                return
        except requests.RequestException:  # not listening yet
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


@contextmanager
def running(args: list[str], *, env: dict[str, str], log: Path):
    """Start a process in its own process group; stop the whole group on the way out."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (our own command lines)
            args, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process's group (it may have exited already), SIGKILL if it lingers."""
    for sig, grace in [(signal.SIGTERM, 20), (signal.SIGKILL, 10)]:
        with suppress(ProcessLookupError):  # the group is gone already
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def dockerfile() -> Dockerfile:
    return read_dockerfile()


@pytest.fixture(scope="session")
def compose() -> dict:
    return read_compose()


@pytest.fixture(scope="session")
def static_root(dockerfile, tmp_path_factory) -> Path:
    """Static files built by the Dockerfile's own collectstatic line, under the ENV in force there."""
    root = tmp_path_factory.mktemp("staticfiles")
    env = {**base_env(), **dockerfile.build_env, "STATIC_ROOT": str(root)}
    done = subprocess.run(  # noqa: S603 (the Dockerfile's RUN line, run by a shell as Docker does)
        ["/bin/sh", "-c", dockerfile.collectstatic], cwd=REPO, env=env, capture_output=True, timeout=300
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return root


@pytest.fixture(scope="session")
def tls_pair(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made as the README says for compose."""
    folder = tmp_path_factory.mktemp("certs")
    subprocess.run([str(REPO / "scripts" / "dev-cert"), str(folder)], check=True, timeout=60)  # noqa: S603
    return folder / "fullchain.pem", folder / "privkey.pem"


@pytest.fixture(scope="session")
def test_database_url(django_db_setup) -> str:
    """The URL of the test database pytest-django made (migrated), for the server processes."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}{port}/{db['NAME']}"


@pytest.fixture(scope="session")
def gunicorn_env(dockerfile, compose, static_root, test_database_url) -> dict[str, str]:
    """The image's ENV, then compose's settings for the web service, then what must differ here."""
    web = compose["services"]["web"]
    assert "command" not in web, "compose's web service must run the image's CMD, as the tests do"
    operator_shell = {"SECRET_KEY": secrets.token_urlsafe(50)}
    settings = {name: interpolate(value, operator_shell) for name, value in web["environment"].items()}
    return {
        **base_env(),
        # The image's user cannot write its home (/app). The tests may run as root, who can write any
        # folder, so a home that nobody can create anything under stands for it.
        "HOME": "/dev/null",
        **dockerfile.env,
        **settings,
        # Compose's host names (db, redis) do not exist here.
        "DATABASE_URL": test_database_url,
        "CACHE_URL": os.environ.get("TEST_REDIS_URL", "locmemcache://"),
        "STATIC_ROOT": str(static_root),
    }


@contextmanager
def gunicorn(dockerfile: Dockerfile, env: dict[str, str], folder: Path):
    """gunicorn as the image's CMD starts it, on a free port of 127.0.0.1; yields its URL and its log."""
    port = free_port()
    log = folder / f"gunicorn-{port}.log"
    with running(dockerfile.cmd, env={**env, "BIND": f"127.0.0.1:{port}"}, log=log) as process:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/healthz", process=process, log=log)
        yield url, log


def render_nginx_config(compose: dict, values: dict[str, str]) -> str:
    """deploy/nginx.conf.template with compose's proxy variables replaced, as the nginx image does."""
    proxy = compose["services"]["proxy"]
    assert NGINX_TEMPLATE_MOUNT in proxy["volumes"], "compose no longer mounts deploy/nginx.conf.template"
    assert set(values) == set(proxy["environment"]), "the template's variables differ from compose's"
    text = NGINX_TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"${{{name}}}", value)
    left = re.findall(r"\$\{\w+\}", text)
    assert not left, f"deploy/nginx.conf.template uses {left}, which compose does not set"
    return text


@contextmanager
def nginx(compose: dict, *, upstream: str, tls_pair: tuple[Path, Path], ready_status: int = 200):
    """Debian's nginx running the repo's config in front of ``upstream``; yields (https URL, http URL).

    It is up once ``/healthz`` answers ``ready_status`` (a 502 for an upstream that is down on purpose).
    """
    if not Path(NGINX).exists():
        pytest.fail(f"nginx is not installed ({NGINX}); scripts/test installs Debian's nginx package")
    https_port, http_port = free_port(), free_port()
    # Readable by nginx's workers, which run as another user when the tests run as root.
    folder = Path(tempfile.mkdtemp(prefix="obico-nginx-"))
    folder.chmod(0o755)
    certificate, key = tls_pair
    values = {
        "UPSTREAM": upstream.removeprefix("http://"),
        "HTTP_PORT": f"127.0.0.1:{http_port}",
        "HTTPS_PORT": f"127.0.0.1:{https_port}",
        "TLS_CERTIFICATE": str(certificate),
        "TLS_CERTIFICATE_KEY": str(key),
    }
    (folder / "conf.d").mkdir()
    (folder / "conf.d" / "default.conf").write_text(render_nginx_config(compose, values))
    (folder / "nginx.conf").write_text(nginx_main_conf(folder))
    log = folder / "error.log"
    args = [NGINX, "-p", str(folder), "-e", str(log), "-c", str(folder / "nginx.conf")]
    try:
        with running(args, env=base_env(), log=folder / "stdout.log") as process:
            url = f"https://127.0.0.1:{https_port}"
            wait_until_up(f"{url}/healthz", process=process, log=log, verify=str(certificate), status=ready_status)
            yield url, f"http://127.0.0.1:{http_port}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Production:
    url: str  # https, through nginx
    http_url: str  # nginx's plain-HTTP port
    gunicorn_url: str  # gunicorn itself, which compose never publishes
    certificate: str  # the self-signed certificate to verify ``url`` with
    gunicorn_log: Path  # what gunicorn wrote, from its start


@pytest.fixture(scope="session")
def production(dockerfile, compose, gunicorn_env, tls_pair, tmp_path_factory) -> Production:
    """gunicorn (the image's CMD and settings) behind nginx (the repo's config), for the session.

    Tests that use it write their rows with ``django_db(transaction=True)``, so the server sees them.
    """
    folder = tmp_path_factory.mktemp("production")
    with (
        gunicorn(dockerfile, gunicorn_env, folder) as (gunicorn_url, gunicorn_log),
        nginx(compose, upstream=gunicorn_url, tls_pair=tls_pair) as (url, http_url),
    ):
        yield Production(
            url=url,
            http_url=http_url,
            gunicorn_url=gunicorn_url,
            certificate=str(tls_pair[0]),
            gunicorn_log=gunicorn_log,
        )


@pytest.fixture
def bare_gunicorn(dockerfile, gunicorn_env, tmp_path) -> str:
    """gunicorn as in ``production`` but facing clients itself, as it did before nginx; yields its URL."""
    with gunicorn(dockerfile, gunicorn_env, tmp_path) as (url, _log):
        yield url
