"""What the benchmarks share: a real webcam-like JPEG, percentiles, and a gunicorn server on PostgreSQL.

Nothing here is a test: these scripts print numbers for bench/README.md.
"""

from __future__ import annotations

import http.client
import io
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import requests

PROJECT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("DATASETS", PROJECT.parent / "shared" / "datasets"))
BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/obico_bench")
# Production shares one Redis between the workers (docker-compose): rate limits and token lookups.
BENCH_CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/15")


def webcam_jpeg(size=(1280, 720), quality=85) -> bytes:
    """A real in-printer webcam frame (webcam-clean) re-encoded at ``size``, as a webcam would send it.

    Falls back to a synthetic frame only when the data set is absent (numbers then say so).
    """
    from PIL import Image

    frames = sorted((DATASETS / "webcam-clean" / "images").glob("*/*.jpg"))
    if frames:
        image = Image.open(frames[len(frames) // 2]).convert("RGB").resize(size, Image.Resampling.LANCZOS)
    else:
        print("# webcam-clean not found: using a synthetic frame", file=sys.stderr)
        image = Image.effect_mandelbrot(size, (-2, -1.2, 1, 1.2), 100).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


BOUNDARY = "benchboundary"


def multipart(jpeg: bytes) -> bytes:
    """A predict's multipart/form-data body (``img``), encoded once and sent as often as needed."""
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="img"; filename="s.jpg"\r\n'
    return (head + "Content-Type: image/jpeg\r\n\r\n").encode() + jpeg + f"\r\n--{BOUNDARY}--\r\n".encode()


class PredictClient:
    """One webcam's keep-alive connection posting a pre-encoded snapshot, as lean as a client gets.

    The clients share the server's two cores, so their own Python counts against it: this one costs
    a fraction of a millisecond a call where ``requests`` builds the multipart body and the
    request anew each time. A kept-alive connection that the server closed is reopened once.
    """

    def __init__(self, base: str, token: str, printer_id: int, jpeg: bytes) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.path = f"/api/v1/printers/{printer_id}/predict/"
        self.body = multipart(jpeg)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        }
        self.connection: http.client.HTTPConnection | None = None

    def post(self) -> int | str:
        """Send the snapshot; the HTTP status, or the error's repr when there was no answer."""
        for attempt in range(2):
            reused = self.connection is not None
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.request("POST", self.path, body=self.body, headers=self.headers)
                response = self.connection.getresponse()
                response.read()
                return response.status
            except (OSError, http.client.HTTPException) as exc:
                self.connection.close()
                self.connection = None
                if not reused or attempt:
                    return repr(exc)
        raise AssertionError("unreachable")


def wsgi_predict(handler, *, printer_id: int, token: str, body: bytes) -> tuple[str, bytes]:
    """One predict through Django's WSGI ``handler`` in this process, as gunicorn calls it: (status, body).

    ``body`` is a ``multipart()`` body. No HTTP, so what is timed or counted around it is the
    request's own work in this thread.
    """
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": f"/api/v1/printers/{printer_id}/predict/",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(body),
    }
    statuses = []
    answer = b"".join(handler(environ, lambda status, headers: statuses.append(status)))
    return statuses[0], answer


def spaghetti_jpegs(limit=16) -> list[bytes]:
    """Real photos of failed prints (val split), for load with detections in the answers."""
    paths = sorted((DATASETS / "spaghetti" / "val" / "images").glob("*.jpg"))[:limit]
    return [p.read_bytes() for p in paths]


def median_ms(function, runs: int) -> float:
    """The median wall time of ``runs`` calls of ``function``, in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(q):
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(pick(0.95), 2),
        "p99": round(pick(0.99), 2),
        "n": len(ordered),
    }


def django_setup(database_url: str = BENCH_DATABASE_URL) -> None:
    """Use the project's models from this process, against the benchmark database."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(PROJECT))
    import django

    django.setup()


def prepare_database(database_url: str = BENCH_DATABASE_URL) -> None:
    """Create the benchmark database if needed and migrate it."""
    name = database_url.rsplit("/", 1)[1]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True, check=False)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=PROJECT,
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
    )


def make_printing_owner(count: int, *, prefix: str):
    """A fresh user with ``count`` printers, each printing, and a 'read write' token.

    Returns (bearer token, printer ids, user).
    """
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application, set_token_value

    from printers.services import printer_create
    from prints.services.lifecycle import print_start

    user = get_user_model().objects.create(username=f"{prefix}-{secrets.token_hex(4)}")
    application = Application.objects.create(
        name="bench",
        user=user,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://bench.example.com/cb",
    )
    raw = secrets.token_urlsafe(32)
    token = AccessToken(
        user=user, application=application, scope="read write", expires=timezone.now() + timedelta(hours=2)
    )
    set_token_value(token, raw)
    token.save()
    printers = [printer_create(owner=user, name=f"{prefix} {n}") for n in range(count)]
    for printer in printers:
        print_start(printer=printer, filename=f"{prefix}.gcode")
    return raw, [printer.pk for printer in printers], user


def production_settings(detection_threads: int) -> dict[str, str]:
    """The environment of a production deployment on loopback, as every benchmark runs the service."""
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "CACHE_URL": BENCH_CACHE_URL,
        "DETECTION_THREADS": str(detection_threads),
        # The benchmarks measure the server, not our rate limits.
        "THROTTLE_RATE_API": "1000000/min",
        "THROTTLE_RATE_PREDICT": "1000000/min",
        "LOG_LEVEL": "ERROR",  # 404s of raced predicts are expected in the soak
    }


@contextmanager
def gunicorn(*, workers: int, threads: int, detection_threads: int, port: int = 8765, extra_env: dict | None = None):
    """The production server as the Dockerfile runs it (gunicorn.conf.py), on loopback."""
    env = {
        **os.environ,
        **production_settings(detection_threads),
        "DATABASE_URL": BENCH_DATABASE_URL,
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": str(workers),
        "WEB_THREADS": str(threads),
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null"],
        cwd=PROJECT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still booting
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def worker_pids(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
