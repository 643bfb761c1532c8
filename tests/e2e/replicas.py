"""Several replicas of the service, as a scaled deployment runs them, for tests/e2e/test_replicas.py.

Each replica is the production gunicorn of tests/e2e/conftest.py (the image's CMD, its ENV and
compose's settings) on its own port, with its own empty MEDIA_ROOT: replicas share no disk. They
share the test database, the cache (``TEST_REDIS_URL``) and an S3-compatible bucket (moto's server,
a local process), which is what the settings' ``S3_*`` variables are for. One nginx, rendered from
deploy/nginx.conf.template as conftest renders it, fronts them all; webhook workers run compose's
``worker`` command.

Every process listens on 127.0.0.1, is stopped at teardown, and every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
import redis
import requests

from tests.e2e.conftest import (
    REPO,
    STARTUP_SECONDS,
    VENV_BIN,
    base_env,
    free_port,
    nginx,
    running,
    stop_group,
    wait_until_up,
)
from webhooks.signing import verify

S3_BUCKET = "obico-replicas"
S3_REGION = "us-east-1"
# moto takes any key pair; these name no real account.
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "replicas-test", "AWS_SECRET_ACCESS_KEY": "replicas-test-secret"}
# gunicorn's access log line (its default format): the request line, then the status.
ACCESS_LINE = re.compile(rb'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.[01]" (?P<status>\d{3}) ')
# urllib3's DEBUG line for each request a webhook worker sends, in LOG_FORMAT=json (quotes escaped).
DELIVERY_LINE = re.compile(rb'POST /hooks HTTP/1\.1\\?" \d{3}')
# Long enough for the last answered request's access line to reach the log.
LOG_SETTLE_SECONDS = 10


@dataclass(frozen=True)
class S3:
    """moto's S3-compatible server and the bucket the replicas store alert snapshots in."""

    endpoint: str

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=S3_REGION,
            aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def settings(self) -> dict[str, str]:
        """The environment that points the service's default storage at the bucket (config/settings.py)."""
        return {
            "S3_BUCKET": S3_BUCKET,
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_REGION": S3_REGION,
            "S3_ADDRESSING_STYLE": "path",  # the bucket is not a host name on 127.0.0.1
            **S3_CREDENTIALS,
        }

    def names(self) -> set[str]:
        """The keys of every object in the bucket."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=S3_BUCKET, Key=key)["Body"].read()


@contextmanager
def s3_server(folder: Path):
    """moto's server on a free port of 127.0.0.1, with the bucket created; yields an ``S3``."""
    port = free_port()
    log = folder / "moto.log"
    args = [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    with running(args, env=base_env(), log=log) as process:
        s3 = S3(endpoint=f"http://127.0.0.1:{port}")
        wait_until_up(f"{s3.endpoint}/moto-api/", process=process, log=log)
        s3.client().create_bucket(Bucket=S3_BUCKET)
        yield s3


@dataclass
class Replica:
    """One web replica: gunicorn as the image's CMD starts it, restartable on its own port."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    media_root: Path
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start gunicorn and wait until it answers."""
        self.launch()
        self.wait_until_up()

    def launch(self) -> None:
        """Start gunicorn in its own process group, appending to its log."""
        env = {**self.env, "BIND": self.address, "MEDIA_ROOT": str(self.media_root)}
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 (the Dockerfile's CMD)
                self.cmd, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_until_up(self) -> None:
        wait_until_up(f"{self.url}/healthz", process=self.process, log=self.log)

    def kill(self) -> None:
        """SIGKILL the whole process group, the master and every worker at once, as a node that dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        # The workers, orphaned, die of the same signal; wait until none of the group is left.
        deadline = time.monotonic() + 10
        while group_alive(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)

    def log_mark(self) -> int:
        """Where the log ends now: ``answers`` counts only what was logged after it."""
        return self.log.stat().st_size

    def answers(self, since: int, *, method: str, path: str) -> Counter:
        """How many ``method path`` requests (any query string) this replica answered after ``since``, by status."""
        with self.log.open("rb") as log:
            log.seek(since)
            text = log.read()
        counts: Counter = Counter()
        for match in ACCESS_LINE.finditer(text):
            if match["method"].decode() == method and match["path"].decode().partition("?")[0] == path:
                counts[int(match["status"])] += 1
        return counts


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass(frozen=True)
class Cluster:
    """The replicas, the nginx in front of them all and the bucket they share."""

    replicas: list[Replica]
    url: str  # https, through nginx
    certificate: str
    s3: S3

    def session(self) -> requests.Session:
        """A session through nginx that trusts the test's certificate only."""
        session = requests.Session()
        session.trust_env = False
        session.verify = self.certificate
        return session

    def answers(self, marks: list[int], *, method: str, path: str, expected: int) -> list[Counter]:
        """Each replica's answers to ``method path`` since ``marks``, once their 200s add up to ``expected``.

        gunicorn logs a request after answering it, so the last lines may lag the answers a little.
        """
        deadline = time.monotonic() + LOG_SETTLE_SECONDS
        while True:
            counts = [r.answers(mark, method=method, path=path) for r, mark in zip(self.replicas, marks, strict=True)]
            if sum(count[200] for count in counts) >= expected or time.monotonic() > deadline:
                return counts
            time.sleep(0.1)

    def log_marks(self) -> list[int]:
        return [replica.log_mark() for replica in self.replicas]

    def shared_cache_clear(self) -> None:
        """Empty the Redis cache the replicas share, as tests/fixtures/isolation.py's ``fresh_rate_limits`` empties
        the test process's: a run's users have the ids of an earlier run's, and so its rate-limit counters.
        A per-process cache (no ``TEST_REDIS_URL``) starts empty with each replica."""
        url = self.replicas[0].env["CACHE_URL"]
        if url.startswith(("redis://", "rediss://")):
            with redis.Redis.from_url(url) as client:
                client.flushdb()


def upstream_servers(replicas: list[Replica]) -> str:
    """The template's ``UPSTREAM`` value that names every replica: ``a; server b``.

    The template says ``server ${UPSTREAM};`` and is rendered by plain substitution (the official
    image's envsubst, and conftest), so the value may hold further ``server`` lines. In production
    the same comes from DNS: a name that resolves to several addresses (compose's ``--scale``, a
    headless Kubernetes service) is one server per address. Here all listen on 127.0.0.1, on ports
    of their own, and no resolver can be told of them.
    """
    return "; server ".join(replica.address for replica in replicas)


@contextmanager
def cluster(*, dockerfile, compose, env: dict[str, str], tls_pair, folder: Path, count: int = 2, extra_env=None):
    """``count`` replicas sharing the database, the cache and the bucket, behind one nginx."""
    with ExitStack() as stack:
        s3 = stack.enter_context(s3_server(folder))
        replica_env = {**env, **s3.settings(), **(extra_env or {})}
        replicas = []
        for n in range(count):
            name = chr(ord("a") + n)
            media_root = folder / f"media-{name}"
            media_root.mkdir()
            log = folder / f"{name}.log"
            replicas.append(Replica(name=name, cmd=dockerfile.cmd, env=replica_env, media_root=media_root, log=log))
        for replica in replicas:  # all at once: each imports Django and onnxruntime
            stack.callback(replica.stop)
            replica.launch()
        for replica in replicas:
            replica.wait_until_up()
        url, _http_url = stack.enter_context(nginx(compose, upstream=upstream_servers(replicas), tls_pair=tls_pair))
        yield Cluster(replicas=replicas, url=url, certificate=str(tls_pair[0]), s3=s3)


@dataclass
class Worker:
    process: subprocess.Popen
    log: Path
    heartbeat: Path

    def posts(self) -> int:
        """Deliveries this worker sent (urllib3 logs each request at DEBUG)."""
        return len(DELIVERY_LINE.findall(self.log.read_bytes()))


@contextmanager
def webhook_workers(*, compose, env: dict[str, str], folder: Path, count: int = 2):
    """``count`` webhook workers, each compose's ``worker`` command with a heartbeat file of its own.

    Yields them once each has touched its heartbeat, i.e. entered its delivery loop.
    """
    command = list(compose["services"]["worker"]["command"])
    heartbeat_at = command.index("--heartbeat") + 1
    with ExitStack() as stack:
        workers = []
        for n in range(count):
            heartbeat = folder / f"worker-{n}.alive"
            command[heartbeat_at] = str(heartbeat)
            log = folder / f"worker-{n}.log"
            process = stack.enter_context(running(list(command), env=env, log=log))
            workers.append(Worker(process=process, log=log, heartbeat=heartbeat))
        deadline = time.monotonic() + STARTUP_SECONDS
        for worker in workers:
            while not worker.heartbeat.exists():
                if worker.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"a webhook worker did not start:\n{worker.log.read_text()[-3000:]}")
                time.sleep(0.1)
        yield workers


class WebhookReceiver:
    """An app's webhook endpoint on 127.0.0.1: checks each delivery's signature and records its event id.

    The first attempt of every ``fail_every``-th event (in order of arrival) is answered 503, so those
    are delivered on a retry; every other attempt is answered 204. ``answers`` holds (event id, status)
    for every attempt, in order.
    """

    def __init__(self, *, secret: str, fail_every: int = 0):
        self.answers: list[tuple[str, int]] = []
        self.refused: list[str] = []  # deliveries whose signature did not verify
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event_id = self.headers["X-Webhook-Id"]
                signed = verify(
                    secret=secret,
                    event_id=event_id,
                    timestamp=int(self.headers["X-Webhook-Timestamp"]),
                    event=self.headers["X-Webhook-Event"],
                    body=body,
                    signature=self.headers["X-Webhook-Signature"],
                    now=int(time.time()),
                )
                with lock:
                    if not signed or json.loads(body)["id"] != event_id:
                        receiver.refused.append(event_id)
                        status = 400
                    else:
                        seen = {seen_id for seen_id, _ in receiver.answers}
                        first = event_id not in seen
                        status = 503 if first and fail_every and (len(seen) + 1) % fail_every == 0 else 204
                    receiver.answers.append((event_id, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def delivered(self) -> Counter:
        """How many times each event was accepted (answered 2xx)."""
        return Counter(event_id for event_id, status in self.answers if status < 300)
