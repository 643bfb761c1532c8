"""A measured capacity model of one replica: what it carries, what it costs PostgreSQL, where the limit is.

    .venv/bin/python bench/capacity.py [--quick] [--json results.json]

Prints, in one run, the numbers bench/README.md ("Capacity") and the README's "Scaling" quote:

1. Throughput at latency targets: the service as the image runs it (gunicorn with gunicorn.conf.py,
   production settings, 2 workers x 4 threads, one onnxruntime thread) on PostgreSQL and Redis,
   driven by closed-loop clients at rising concurrency, each client its own printing printer posting
   a real 1280x720 webcam JPEG. Per level: throughput, p50, p99, errors, and the cores used by
   gunicorn, PostgreSQL, Redis and the clients. Then the highest throughput whose p99 meets each
   target (``P99_TARGETS_MS``), per core and as printers per core at one snapshot every 10 s, against
   the floor (decode + resize + inference in process, one thread: what one core could do with no web
   work at all).
2. Memory of the gunicorn master and each worker after warm-up (model loaded): RSS, PSS, USS.
3. Database work per predict, ordinary and alerting: statements by kind, transactions, rows written,
   WAL bytes and records, DB time.
4. PostgreSQL load against the number of printers: N printers seeded (owner, token, printing print,
   statistics row, a history for one printer in ten), the same predicts spread over all N; per
   predict the DB time, buffers hit and read, WAL bytes, and the tables' and indexes' sizes.
5. A summary: what one replica carries, its CPU at the recommended operating point (for the HPA
   target), where the limit is.

Parts 3 and 4 call Django's WSGI handler in this process, one predict at a time, so every statement
and every server-side counter belongs to a known predict. Decode and inference are replaced there by
the model's own answer for the frame, computed once: they touch no table. Autovacuum is off on the
tables while they run (``VACUUM ANALYZE`` runs between stages instead), so the counters are the
predicts' own. Server counters are read after ``pg_stat_force_next_flush()`` on the predicting
connection (PostgreSQL flushes statistics asynchronously); WAL is read with pg_walinspect and kept
to the records of this database's transactions, so other databases on the cluster do not count.

Needs PostgreSQL on 127.0.0.1:5432 as a superuser (creates the database of CAPACITY_DATABASE_URL,
default bench_capacity, drops it at the end; pg_walinspect; CHECKPOINT) and Redis (BENCH_CACHE_URL);
reads the photos from ../shared/datasets. Every number is a timing or a share of the CPU: run it on
a quiet machine: a full run takes about 4-5 minutes on 2 cores. ``--quick`` runs everything small
(about half a minute; numbers meaningless), to check the script.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg2
import redis

from bench.adaptation import seasoned_memory
from bench.common import (
    BENCH_CACHE_URL,
    django_setup,
    gunicorn,
    make_printing_owner,
    multipart,
    prepare_database,
    production_settings,
    spaghetti_jpegs,
    webcam_jpeg,
    worker_pids,
    wsgi_predict,
)
from bench.inference import predict_floor, timed
from bench.predict import run_clients

CAPACITY_DATABASE_URL = os.environ.get("CAPACITY_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_capacity")

# The p99 targets the throughput is read at, strictest last; each with why.
P99_TARGETS_MS = {
    1000: "a tenth of the 10 s between a printer's snapshots: each answer is back long before the next "
    "snapshot, and an alert is late by at most a tenth of a snapshot",
    250: "the predict path's own target (bench/README.md, 8 clients): room left for the network and "
    "nginx in front, and the operating point the replica count is sized for",
}
SNAPSHOT_INTERVAL_S = 10  # Obico's agent: one snapshot every 10 s while printing
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

FULL = {
    "levels": [1, 2, 4, 6, 8, 12, 16, 24],
    "per_level": 600,
    "floor_runs": 200,
    "stages": [1, 100, 10_000],
    "db_predicts": 1000,
    "history_rows": 1000,
    "alert_printers": 10,
}
QUICK = {
    "levels": [1, 2, 4],
    "per_level": 24,
    "floor_runs": 20,
    "stages": [1, 10, 100],
    "db_predicts": 40,
    "history_rows": 50,
    "alert_printers": 2,
}


# -- CPU and memory of processes, from /proc ------------------------------------------------------


def _cpu_ticks(pid: int, *, reaped: bool) -> int:
    """utime + stime of ``pid`` (and, with ``reaped``, of its children that exited and were waited for)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # fields from the 3rd on: utime is the 14th
    return sum(int(value) for value in fields[11 : 15 if reaped else 13])


def tree_cpu_s(pid: int | None) -> float | None:
    """CPU seconds of a server: its main process, its exited children, and its live children.

    gunicorn's master and its workers; PostgreSQL's postmaster and its backends (a backend that
    closed during the run is in the postmaster's reaped time). None where /proc does not show it.
    """
    if pid is None:
        return None
    try:
        ticks = _cpu_ticks(pid, reaped=True)
        for child in worker_pids(pid):
            # A child that exited since the listing is counted when the parent reaps it.
            with suppress(FileNotFoundError):
                ticks += _cpu_ticks(child, reaped=False)
    except (FileNotFoundError, PermissionError):
        return None
    return ticks / CLOCK_TICKS


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs since boot; iowait counts as idle."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])  # guest time is already inside user
    return total - values[3] - values[4], total


class CpuMeter:
    """Cores used by each party over a stretch of wall time."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = pids

    def read(self) -> dict:
        own = os.times()
        return {
            **{name: tree_cpu_s(pid) for name, pid in self.pids.items()},
            "clients": own.user + own.system,  # this process: the client threads
            "machine": machine_ticks(),
            "at": time.perf_counter(),
        }

    def cores_since(self, before: dict) -> dict:
        after = self.read()
        wall = after["at"] - before["at"]
        cores = {
            name: None if after[name] is None or before[name] is None else round((after[name] - before[name]) / wall, 3)
            for name in (*self.pids, "clients")
        }
        busy = after["machine"][0] - before["machine"][0]
        total = after["machine"][1] - before["machine"][1]
        cores["machine_busy"] = round(busy / total, 3) if total else None  # a fraction of all cores
        return cores


def smaps_rollup_mb(pid: int) -> dict:
    """RSS, PSS (shared pages split between their users) and USS (pages no other process maps), MB."""
    kb = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        kb[name] = int(value.split()[0])
    return {
        "rss": round(kb["Rss"] / 1024, 1),
        "pss": round(kb["Pss"] / 1024, 1),
        "uss": round((kb["Private_Clean"] + kb["Private_Dirty"]) / 1024, 1),
    }


# A worker loads the model on its first predict: here about 110 MB booted, 180-260 MB loaded.
MODEL_LOADED_GROWTH_MB = 40


def process_memory(master_pid: int) -> dict:
    return {
        "master": smaps_rollup_mb(master_pid),
        "workers": [{"pid": pid, **smaps_rollup_mb(pid)} for pid in worker_pids(master_pid)],
    }


# -- Part 1: the server under closed-loop clients --------------------------------------------------


def warm_every_worker(base: str, token: str, printer_ids: list[int], jpeg: bytes, master_pid: int) -> bool:
    """Predict until every worker has loaded the model (its RSS grew), at most 20 rounds; whether they all did.

    Each round opens new connections, which the kernel hands to either worker.
    """
    booted = {pid: smaps_rollup_mb(pid)["rss"] for pid in worker_pids(master_pid)}
    for _ in range(20):
        run_clients(base, token, printer_ids[:8], jpeg, per_client=2)
        if all(smaps_rollup_mb(pid)["rss"] - rss >= MODEL_LOADED_GROWTH_MB for pid, rss in booted.items()):
            return True
    return False


def ladder(base: str, token: str, printer_ids: list[int], jpeg: bytes, levels, per_level: int, meter) -> list[dict]:
    """At each concurrency, that many clients (one printer each) post back to back, ``per_level`` in all."""
    rows = []
    for clients in levels:
        per_client = max(2, math.ceil(per_level / clients))
        before = meter.read()
        result = run_clients(base, token, printer_ids[:clients], jpeg, per_client)
        cores = meter.cores_since(before)
        result.pop("ok_per_printer")
        ok = result["latency_ms"]["n"]
        cpu_ms = {
            name: None if cores[name] is None else round(cores[name] * 1000 / result["throughput_per_s"], 2)
            for name in ("gunicorn", "postgresql")
        }
        rows.append({"clients": clients, **result, "predicts": ok, "cores": cores, "cpu_ms_per_predict": cpu_ms})
        print(
            f"#   {clients} clients: {result['throughput_per_s']}/s, p99 {result['latency_ms']['p99']} ms",
            file=sys.stderr,
        )
    return rows


def best_under(rows: list[dict], target_ms: float) -> dict | None:
    """The level with the highest throughput whose p99 met ``target_ms`` and that had no errors."""
    met = [row for row in rows if row["latency_ms"]["p99"] <= target_ms and not row["errors"]]
    return max(met, key=lambda row: row["throughput_per_s"], default=None)


# -- Parts 3 and 4: what PostgreSQL does for a predict ----------------------------------------------


def statement_kind(sql: str) -> str:
    """``INSERT detection_prediction``, ``SELECT ... FOR UPDATE``, ``SELECT``: how the statement is counted."""
    words = sql.lstrip().split(None, 1)
    verb = words[0].upper() if words else "?"
    if verb in ("INSERT", "UPDATE", "DELETE"):
        table = re.match(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([\w.]+)"?', sql, re.IGNORECASE)
        return f"{verb} {table.group(1) if table else '?'}"
    if verb == "SELECT" and re.search(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b", sql, re.IGNORECASE):
        return "SELECT ... FOR UPDATE"
    return verb


class StatementRecorder:
    """Counts and times, on this thread's Django connection, every statement, commit and health check.

    Statements go through ``execute_wrapper``; a commit (psycopg2's ``commit()``) and the health check
    that CONN_HEALTH_CHECKS runs before a request's first query (``SELECT 1`` on the raw connection)
    do not, so those two are wrapped on the connection object.
    """

    def __init__(self) -> None:
        self.count: Counter = Counter()
        self.seconds: dict[str, float] = defaultdict(float)

    def _timed(self, kind: str, call, *args):
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            self.count[kind] += 1
            self.seconds[kind] += time.perf_counter() - started

    def __call__(self, execute, sql, params, many, context):
        return self._timed(statement_kind(sql), execute, sql, params, many, context)

    @contextmanager
    def installed(self, wrapper):
        commit, is_usable = wrapper._commit, wrapper.is_usable
        wrapper._commit = lambda: self._timed("COMMIT", commit)
        wrapper.is_usable = lambda: self._timed("health check (SELECT 1)", is_usable)
        try:
            with wrapper.execute_wrapper(self):
                yield self
        finally:
            del wrapper._commit, wrapper.is_usable


DATABASE_COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "blks_read",
    "blks_hit",
    "tup_returned",
    "tup_fetched",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
    "active_time",
)
TABLE_COUNTERS = ("n_tup_ins", "n_tup_upd", "n_tup_hot_upd", "n_tup_del", "heap_blks_read", "heap_blks_hit")
TABLE_COUNTERS += ("idx_blks_read", "idx_blks_hit")


class DatabaseProbe:
    """The server's counters of the benchmark database around a block of predicts made by this process.

    PostgreSQL 15 flushes a backend's statistics when it goes idle, at most once a second, so the
    predicting connection is made to flush (``pg_stat_force_next_flush()`` flushes before the
    statement's answer is sent) before the first reading and after the block. Two readers of its
    own: the database's counters are read from a connection to ``postgres``, so reading them adds
    nothing to them; the tables' counters, which only the predicts move, and the WAL are read from a
    connection to the database, which flushes its own reads before the block starts. WAL is read
    with pg_walinspect: the records that touch this database's relations and the records (commits)
    of the transactions that wrote them, so other databases on the cluster do not count.
    """

    def __init__(self, database_url: str, django_connection) -> None:
        self.django = django_connection
        self.local = psycopg2.connect(database_url)
        self.cluster = psycopg2.connect(database_url.rsplit("/", 1)[0] + "/postgres")
        self.name = database_url.rsplit("/", 1)[1]
        for reader in (self.local, self.cluster):
            reader.autocommit = True
        self.dboid = self._one("SELECT oid FROM pg_database WHERE datname = current_database()")
        self._one("CREATE EXTENSION IF NOT EXISTS pg_walinspect")

    def _rows(self, sql: str, params=(), *, reader=None) -> list[tuple]:
        with (reader or self.local).cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def _one(self, sql: str, params=(), *, reader=None):
        rows = self._rows(sql, params, reader=reader)
        return rows[0][0] if rows else None

    def close(self) -> None:
        self.local.close()
        self.cluster.close()

    def _flush_django(self) -> None:
        with self.django.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")

    def _tables(self) -> dict:
        """The tables' counters, then this reader's own statistics flushed, so they count before what follows."""
        rows = self._rows(
            "SELECT t.relname, t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd, t.n_tup_del, io.heap_blks_read,"
            " io.heap_blks_hit, coalesce(io.idx_blks_read, 0), coalesce(io.idx_blks_hit, 0)"
            " FROM pg_stat_user_tables t JOIN pg_statio_user_tables io USING (relid)"
        )
        self._one("SELECT pg_stat_force_next_flush()")
        return {row[0]: dict(zip(TABLE_COUNTERS, row[1:], strict=True)) for row in rows}

    def _database(self) -> tuple[dict, str]:
        """The database's counters and the WAL position, read from the other database."""
        (row,) = self._rows(
            f"SELECT {', '.join(DATABASE_COUNTERS)}, pg_current_wal_flush_lsn()::text"  # noqa: S608 - our constants
            " FROM pg_stat_database WHERE datname = %s",
            (self.name,),
            reader=self.cluster,
        )
        return dict(zip(DATABASE_COUNTERS, row[:-1], strict=True)), row[-1]

    def _wal(self, start: str, end: str) -> dict:
        """This database's WAL between two positions: bytes, full-page-image bytes, records by kind and relation."""
        cluster_bytes = int(self._one("SELECT pg_wal_lsn_diff(%s, %s)", (end, start)))
        if cluster_bytes <= 0:
            return {"bytes": 0, "fpi_bytes": 0, "write_transactions": 0, "records": {}, "cluster_bytes": 0}
        ours = f"rel [0-9]+/{int(self.dboid)}/"
        rows = self._rows(
            """
            WITH record AS (
                SELECT xid::text AS xid, resource_manager, record_type, record_length, fpi_length, block_ref
                FROM pg_get_wal_records_info(%(start)s, %(end)s)
            ), writer AS (
                SELECT DISTINCT xid FROM record WHERE xid <> '0' AND block_ref ~ %(ours)s
            )
            SELECT resource_manager || '/' || record_type || coalesce(' ' || pg_filenode_relation(
                       0, substring(block_ref FROM 'rel [0-9]+/[0-9]+/([0-9]+)')::oid)::regclass::text, ''),
                   count(*), sum(record_length), sum(fpi_length)
            FROM record WHERE block_ref ~ %(ours)s OR xid IN (SELECT xid FROM writer)
            GROUP BY 1 ORDER BY 3 DESC
            """,
            {"start": start, "end": end, "ours": ours},
        )
        return {
            "bytes": sum(int(row[2]) for row in rows),
            "fpi_bytes": sum(int(row[3]) for row in rows),
            "write_transactions": sum(row[1] for row in rows if row[0] == "Transaction/COMMIT"),
            "records": {row[0]: row[1] for row in rows},  # "Heap/INSERT detection_prediction": count
            "cluster_bytes": cluster_bytes,
        }

    def measure(self, predicts) -> dict:
        """Run ``predicts()`` (returns how many it made) and return every counter per predict."""
        from django.db import connections

        # Full-page images from here on are this block's own: at most one per page it touches first.
        self._one("CHECKPOINT", reader=self.cluster)
        self._flush_django()
        tables_before = self._tables()
        database_before, start = self._database()
        recorder = StatementRecorder()
        started = time.perf_counter()
        with recorder.installed(connections["default"]):
            count = predicts()
        wall = time.perf_counter() - started
        self._flush_django()  # one transaction of its own, taken off below
        database_after, end = self._database()
        tables_after = self._tables()
        wal = self._wal(start, end)
        database = {key: database_after[key] - database_before[key] for key in DATABASE_COUNTERS}
        database["xact_commit"] -= 1
        tables = {}
        for name, counters in tables_after.items():
            was = tables_before.get(name, dict.fromkeys(TABLE_COUNTERS, 0))
            delta = {key: (counters[key] or 0) - (was[key] or 0) for key in TABLE_COUNTERS}
            if any(delta.values()):
                tables[name] = {key: round(value / count, 3) for key, value in delta.items()}

        def per(value):
            return round(value / count, 3)

        client_ms = sum(recorder.seconds.values()) * 1000
        return {
            "predicts": count,
            "wall_ms_per_predict": per(wall * 1000),
            "statements": {kind: per(n) for kind, n in sorted(recorder.count.items())},
            "statement_ms": {kind: per(s * 1000) for kind, s in sorted(recorder.seconds.items())},
            "db_time_client_ms": per(client_ms),
            "db_active_server_ms": per(database.pop("active_time")),
            "transactions": per(database["xact_commit"] + database["xact_rollback"]),
            "write_transactions": per(wal["write_transactions"]),
            "rows": {
                "inserted": per(database["tup_inserted"]),
                "updated": per(database["tup_updated"]),
                "deleted": per(database["tup_deleted"]),
            },
            "blocks": {"hit": per(database["blks_hit"]), "read": per(database["blks_read"])},
            "tuples_read": {"returned": per(database["tup_returned"]), "fetched": per(database["tup_fetched"])},
            "tables": tables,
            "wal": {
                "bytes": per(wal["bytes"]),
                "fpi_bytes": per(wal["fpi_bytes"]),
                "without_fpi_bytes": per(wal["bytes"] - wal["fpi_bytes"]),
                "cluster_bytes": per(wal["cluster_bytes"]),
                "records": {kind: per(n) for kind, n in wal["records"].items()},
            },
        }

    def vacuum_analyze(self) -> None:
        self._one("VACUUM (ANALYZE)")

    def autovacuum(self, *, enabled: bool) -> None:
        for (table,) in self._rows("SELECT quote_ident(relname) FROM pg_stat_user_tables"):
            self._one(f"ALTER TABLE {table} SET (autovacuum_enabled = {'on' if enabled else 'off'})")

    def sizes(self, models) -> dict:
        """Bytes of each model's table (heap, TOAST, maps) and of its indexes, each index apart, and the database."""
        result = {}
        for model in models:
            table = model._meta.db_table
            heap, indexes = self._rows(
                "SELECT pg_table_size(%s::regclass), pg_indexes_size(%s::regclass)", (table, table)
            )[0]
            each = self._rows(
                "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index"
                " WHERE indrelid = %s::regclass ORDER BY 2 DESC",
                (table,),
            )
            rows = self._one(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - a model's own table name
            result[table] = {"rows": rows, "table_bytes": heap, "index_bytes": indexes, "indexes": dict(each)}
        result["database_bytes"] = self._one("SELECT pg_database_size(current_database())")
        return result

    def settings(self) -> dict:
        names = ("server_version", "shared_buffers", "max_connections", "synchronous_commit", "checkpoint_timeout")
        return {name: self._one(f"SHOW {name}") for name in names}

    def backend_pid(self) -> int:
        return self.local.get_backend_pid()


def drop_database(database_url: str) -> None:
    """Drop the benchmark database, ending any session still in it."""
    name = database_url.rsplit("/", 1)[1]
    maintenance = psycopg2.connect(database_url.rsplit("/", 1)[0] + "/postgres")
    maintenance.autocommit = True
    with maintenance.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    maintenance.close()


@contextmanager
def scores_from(frames: list[bytes]):
    """Decode and inference replaced by the model's answer for each frame, computed once here.

    The predict path is otherwise untouched: the printer check, the lock, the statistics, the
    history, the alerts. The answers are ``detection.services.snapshot_score``'s own.
    """
    from detection.services import snapshot_score
    from prints.services import predict

    answers = {hashlib.sha256(frame).digest(): snapshot_score(frame) for frame in frames}
    real = predict.snapshot_score
    predict.snapshot_score = lambda image_bytes, *, roi=None: answers[hashlib.sha256(image_bytes).digest()]
    try:
        yield answers
    finally:
        predict.snapshot_score = real


class InProcess:
    """Predicts through Django's WSGI handler in this process."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def predict(self, printer_id: int, token: str, body: bytes) -> dict:
        status, answer = wsgi_predict(self.handler, printer_id=printer_id, token=token, body=body)
        if not status.startswith("200"):
            raise RuntimeError(f"predict on printer {printer_id}: {status} {answer[:200]!r}")
        return json.loads(answer)["result"]


def token_cache_warm(raw_tokens) -> None:
    """Look each token up once through the validator, as its printer's previous snapshot did.

    Tokens are cached for ACCESS_TOKEN_CACHE_SECONDS (60 s): a printer posting every 10 s finds its
    token there five times in six. The bench reaches each printer once or a few times, so without
    this every predict would pay the token query.
    """
    from oauth2_provider.settings import oauth2_settings

    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    for raw in raw_tokens:
        validator._load_access_token(raw)


class Fleet:
    """Printers seeded in bulk: each with its own owner and token, printing, with a statistics row.

    One printer in ``history_every`` has a history: ``history_rows`` predictions in its current print
    (at 10 s a snapshot, 1,000 is a 2.8 h print), inserted by one ``INSERT ... SELECT`` from
    ``generate_series`` in time order, interleaved between printers as they arrive in production
    (a million rows by the ORM would take a minute of the run). Every printer's statistics row
    carries a learned memory (``bench.adaptation.seasoned_memory``: nine clean prints), as one that
    printed before does, so each predict writes back a memory of realistic size.
    """

    def __init__(self, *, memory: dict, history_rows: int, history_every: int = 10) -> None:
        from django.contrib.auth import get_user_model
        from oauth2_provider.models import Application

        owner = get_user_model().objects.create(username=f"capacity-app-{secrets.token_hex(4)}")
        self.application = Application.objects.create(
            name="capacity",
            user=owner,
            client_type=Application.CLIENT_PUBLIC,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris="https://bench.example.com/cb",
        )
        self.memory, self.history_rows, self.history_every = memory, history_rows, history_every
        self.printers: list[tuple[int, str]] = []  # (printer id, raw token)

    def grow(self, count: int) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.db.models import OuterRef, Subquery
        from django.utils import timezone
        from oauth2_provider.models import AccessToken, set_token_value

        from detection.models import Prediction, PrinterStats
        from printers.models import Printer
        from prints.models import Print

        if count <= 0:
            return
        now, start, batch = timezone.now(), len(self.printers), 2000
        tag = secrets.token_hex(3)
        users = get_user_model().objects.bulk_create(
            # "!": an unusable password, as set_unusable_password() stores it; nothing to hash
            [get_user_model()(username=f"capacity-{tag}-{start + n}", password="!") for n in range(count)],  # noqa: S106
            batch_size=batch,
        )
        raws = [secrets.token_urlsafe(32) for _ in users]
        tokens = [
            AccessToken(user=user, application=self.application, scope="read write", expires=now + timedelta(hours=12))
            for user in users
        ]
        for token, raw in zip(tokens, raws, strict=True):
            set_token_value(token, raw)
        AccessToken.objects.bulk_create(tokens, batch_size=batch)
        printers = Printer.objects.bulk_create(
            [Printer(owner=user, name=f"printer {start + n}") for n, user in enumerate(users)], batch_size=batch
        )
        history = [(start + n) % self.history_every == 0 for n in range(count)]
        rows = [self.history_rows if has else 0 for has in history]
        Print.objects.bulk_create(
            [
                Print(
                    printer=printer,
                    filename="part.gcode",
                    started_at=now - timedelta(seconds=SNAPSHOT_INTERVAL_S * (made + 1)),
                    application=self.application,
                )
                for printer, made in zip(printers, rows, strict=True)
            ],
            batch_size=batch,
        )
        ids = [printer.pk for printer in printers]
        Printer.objects.filter(pk__in=ids).update(
            current_print=Subquery(Print.objects.filter(printer=OuterRef("pk")).values("pk")[:1])
        )
        PrinterStats.objects.bulk_create(
            [
                PrinterStats(
                    printer=printer,
                    prediction_num=made,
                    prediction_num_lifetime=made + 2000,
                    ewm_mean=0.01,
                    rolling_mean_short=0.01,
                    rolling_mean_long=0.01,
                    last_p=0.01 if made else None,
                    last_predicted_at=now if made else None,
                    last_verdict="ok" if made else "",
                    memory=self.memory,
                )
                for printer, made in zip(printers, rows, strict=True)
            ],
            batch_size=batch,
        )
        with_history = [pk for pk, has in zip(ids, history, strict=True) if has]
        if with_history and self.history_rows:
            values = {  # each history column: its SQL, from n (the snapshot's number) and the print
                "print": "pr.id",
                "created_at": f"pr.started_at + n * interval '{SNAPSHOT_INTERVAL_S} seconds'",
                "p": "0.01 + random() * 0.02",
                "ewm_mean": "0.01",
                "rolling_mean_short": "0.01",
                "rolling_mean_long": "0.01",
                "prediction_num": "n",
                "prediction_num_lifetime": "n + 2000",
                "verdict": "'ok'",
                "score": "0.0",
                "detections": "'[]'::jsonb",
            }
            columns = ", ".join(f'"{Prediction._meta.get_field(name).column}"' for name in values)
            with connection.cursor() as cursor:
                # This connection may have planned its foreign-key check on prints for a few rows (a seq
                # scan, kept for the session); analysing the table makes it plan again for the new size.
                cursor.execute(f'ANALYZE "{Print._meta.db_table}"')
                cursor.execute(
                    f'INSERT INTO "{Prediction._meta.db_table}" ({columns}) '  # noqa: S608 - the model's own names
                    f"SELECT {', '.join(values.values())} FROM generate_series(1, %s) AS n "
                    f'CROSS JOIN "{Print._meta.db_table}" AS pr WHERE pr.printer_id = ANY(%s) ORDER BY n, pr.id',
                    [self.history_rows, with_history],
                )
        self.printers += list(zip(ids, raws, strict=True))


def fleet_predicts(process: InProcess, fleet: Fleet, body: bytes, count: int, rng: random.Random):
    """``count`` predicts round-robin over every printer in a shuffled order, as if each posted in turn.

    With more printers than predicts each predict meets a printer untouched since it was seeded:
    production's pattern once the working set outgrows PostgreSQL's buffers.
    """
    order = fleet.printers[:]
    rng.shuffle(order)
    chosen = [order[n % len(order)] for n in range(count)]
    token_cache_warm({raw for _, raw in chosen})

    def run() -> int:
        for printer_id, raw in chosen:
            process.predict(printer_id, raw, body)
        return len(chosen)

    return run


def alerting_predicts(process: InProcess, probe: DatabaseProbe, clean: bytes, failing: bytes, count: int) -> dict:
    """The database work of a predict that raises an alert, measured over ``count`` such predicts.

    Fresh printers printing for an app with a webhook: each gets the warm-up's clean frames, then a
    failure's frame until its verdict rises. The trajectory is the same on every fresh printer, so
    the first finds how many failing frames it takes; the others get one fewer outside the
    measurement, and the measured block is the one that rises on each.
    """
    from oauth2_provider.models import Application

    from detection.conf import detection_settings
    from printers.models import Printer
    from prints.models import Alert
    from prints.services.lifecycle import print_finish, print_start
    from webhooks.services import webhook_set

    token, printer_ids, owner = make_printing_owner(count + 1, prefix="capacity-alert")
    application = Application.objects.get(user=owner)
    webhook_set(application=application, url="https://hooks.example.com/capacity")
    for printer_id in printer_ids:  # the prints of an app with a webhook, so alerts queue deliveries
        print_finish(printer=Printer.objects.get(pk=printer_id), status="finished")
        print_start(printer=Printer.objects.get(pk=printer_id), filename="alert.gcode", application=application)
    clean_body, failing_body = multipart(clean), multipart(failing)
    warmup = detection_settings.rules().adaptive.warmup

    def prepare(printer_id: int, failing_frames: int) -> str:
        for _ in range(warmup):
            process.predict(printer_id, token, clean_body)
        verdict = "ok"
        for _ in range(failing_frames):
            verdict = process.predict(printer_id, token, failing_body)["verdict"]
        return verdict

    first, *others = printer_ids
    prepare(first, 0)
    rise = None
    for n in range(1, 61):
        if process.predict(first, token, failing_body)["verdict"] != "ok":
            rise = n
            break
    if rise is None or not Alert.objects.filter(print__printer_id=first).exists():
        return {"error": "no alert within 60 failing frames"}
    for printer_id in others:
        if prepare(printer_id, rise - 1) != "ok":
            return {"error": "a printer rose early"}
    verdicts = []

    def run() -> int:
        for printer_id in others:
            verdicts.append(process.predict(printer_id, token, failing_body)["verdict"])
        return len(others)

    result = probe.measure(run)
    alerts = Alert.objects.filter(print__printer_id__in=others).count()
    result.update(failing_frames_to_rise=rise, verdicts=dict(Counter(verdicts)), alerts_recorded=alerts)
    return result


# -- The report ---------------------------------------------------------------------------------------


def _n(value, digits=1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _mb(value) -> str:
    return f"{value / 2**20:,.1f} MB"


def report(results: dict) -> None:
    s = results["server"]
    cores = results["cores"]
    out = print
    floor_ms = results["floor_ms"]
    floor_per_core = 1000 / floor_ms
    out(f"# bench/capacity.py, {time.strftime('%Y-%m-%d %H:%M')}, {cores} cores, PostgreSQL {s['postgres']}")
    out(
        f"# gunicorn {s['workers']} workers x {s['threads']} threads, onnxruntime {s['detection_threads']} thread(s),"
        f" model {s['model']}, {results['jpeg_bytes']:,} B webcam JPEG 1280x720"
    )
    out("")
    out("1. Throughput at p99 targets (closed-loop clients on the same cores, one printer each)")
    out(
        f"floor (decode + resize + inference, 1 thread, in process): p50 {floor_ms:.1f} ms"
        f" (before {results['floor_before']['p50']}, after {results['floor_after']['p50']})"
        f" = {floor_per_core:.1f} predicts/s per core"
    )
    out(
        "clients  predicts/s  p50 ms  p95 ms  p99 ms  errors  cores: gunicorn  postgresql  redis  clients"
        "  machine busy  gunicorn CPU ms/predict"
    )
    for row in results["ladder"]:
        c, lat = row["cores"], row["latency_ms"]
        out(
            f"{row['clients']:>7}  {row['throughput_per_s']:>10.1f}  {lat['p50']:>6.0f}  {lat['p95']:>6.0f}"
            f"  {lat['p99']:>6.0f}  {row['errors']:>6}  {_n(c['gunicorn'], 2):>14}  {_n(c['postgresql'], 2):>10}"
            f"  {_n(c['redis'], 2):>5}  {_n(c['clients'], 2):>7}  {_n(100 * c['machine_busy'], 0):>11} %"
            f"  {_n(row['cpu_ms_per_predict']['gunicorn']):>23}"
        )
    for target, reason in P99_TARGETS_MS.items():
        best = results["at_target"][str(target)]
        if best is None:
            out(f"p99 <= {target} ms: no level met it ({reason})")
            continue
        per_core = best["throughput_per_s"] / cores
        out(
            f"p99 <= {target} ms: {best['throughput_per_s']:.1f} predicts/s at {best['clients']} clients"
            f" (p99 {best['latency_ms']['p99']:.0f} ms) = {per_core:.1f} per core"
            f" = {per_core / floor_per_core:.2f} of the floor's {floor_per_core:.1f}/core"
            f" = {per_core * SNAPSHOT_INTERVAL_S:,.0f} printers per core at one snapshot every {SNAPSHOT_INTERVAL_S} s"
        )
        out(f"  why {target} ms: {reason}")
    out("")
    loaded = "" if results["every_worker_warm"] else " (NOT every worker had loaded the model)"
    out(f"2. Memory after warm-up (model loaded){loaded}, MB: RSS / PSS / USS")
    for label, memory in (("after warm-up", results["memory"]), ("after the ladder", results["memory_after"])):
        m = memory["master"]
        workers = "; ".join(f"{w['rss']:.0f} / {w['pss']:.0f} / {w['uss']:.0f}" for w in memory["workers"])
        total_pss = m["pss"] + sum(w["pss"] for w in memory["workers"])
        out(
            f"{label}: master {m['rss']:.0f} / {m['pss']:.0f} / {m['uss']:.0f}; workers {workers};"
            f" replica PSS {total_pss:.0f}"
        )
    out("")
    db = results["db_stages"]
    ordinary = typical_stage(results)
    alert = results["alerting"]
    out(
        f"3. Database work per predict (in process, one at a time; ordinary: {ordinary['predicts']:,} predicts over"
        f" {ordinary['printers']:,} printers; alerting: "
        + (
            f"{alert['predicts']} predicts that each raised an alert, webhook queued)"
            if "error" not in alert
            else f"{alert['error']})"
        )
    )
    columns = [("ordinary", ordinary)] + ([("alerting", alert)] if "error" not in alert else [])
    out("                                 " + "".join(f"{name:>12}" for name, _ in columns))
    kinds = sorted({kind for _, col in columns for kind in col["statements"]})

    def line(label, pick, digits=2):
        out(f"{label:<33}" + "".join(f"{_n(pick(col), digits):>12}" for _, col in columns))

    for kind in kinds:
        line(f"  {kind}", lambda col, k=kind: col["statements"].get(k, 0))
    line("statements in all", lambda col: sum(col["statements"].values()))
    line("transactions (server)", lambda col: col["transactions"])
    line("  of which wrote (WAL commits)", lambda col: col["write_transactions"])
    line("rows inserted", lambda col: col["rows"]["inserted"])
    line("rows updated", lambda col: col["rows"]["updated"])
    line("rows deleted", lambda col: col["rows"]["deleted"])
    line("WAL bytes, no full-page images", lambda col: col["wal"]["without_fpi_bytes"], 0)
    line("WAL full-page image bytes", lambda col: col["wal"]["fpi_bytes"], 0)
    line("WAL bytes, cluster (LSN delta)", lambda col: col["wal"]["cluster_bytes"], 0)
    line("DB time, client ms", lambda col: col["db_time_client_ms"])
    line("DB active time, server ms", lambda col: col["db_active_server_ms"])
    out(
        "per table (ordinary): "
        + "; ".join(
            f"{name} ins {t['n_tup_ins']:g} upd {t['n_tup_upd']:g} (HOT {t['n_tup_hot_upd']:g}) del {t['n_tup_del']:g}"
            for name, t in ordinary["tables"].items()
            if t["n_tup_ins"] or t["n_tup_upd"] or t["n_tup_del"]
        )
    )
    out("WAL records (ordinary): " + ", ".join(f"{k} {v:g}" for k, v in ordinary["wal"]["records"].items()))
    out("")
    out("4. PostgreSQL per predict against printers (each printer printing; 1 in 10 with a history)")
    out(
        "printers  prediction rows  predicts  DB ms client  active ms server  blocks hit  blocks read"
        "  WAL B (no FPI)    + FPI B  predictions: table + indexes  other tables + indexes  database"
    )
    for stage in db:
        sizes = stage["sizes"]
        history = sizes["detection_prediction"]
        rest = sum(sizes[t]["table_bytes"] + sizes[t]["index_bytes"] for t in sizes if t != "database_bytes")
        rest -= history["table_bytes"] + history["index_bytes"]
        out(
            f"{stage['printers']:>8,}  {history['rows']:>15,}  {stage['predicts']:>8,}"
            f"  {stage['db_time_client_ms']:>12.2f}  {stage['db_active_server_ms']:>16.2f}"
            f"  {stage['blocks']['hit']:>10.1f}  {stage['blocks']['read']:>11.2f}"
            f"  {stage['wal']['without_fpi_bytes']:>14,.0f}  {stage['wal']['fpi_bytes']:>9,.0f}"
            f"  {_mb(history['table_bytes']):>16} + {_mb(history['index_bytes']):>10}"
            f"  {_mb(rest):>22}  {_mb(sizes['database_bytes']):>8}"
        )
    last = db[-1]["sizes"]["detection_prediction"]
    out("prediction indexes at the largest N: " + ", ".join(f"{k} {_mb(v)}" for k, v in last["indexes"].items()))
    out("")
    summary(results, out)


def typical_stage(results: dict) -> dict:
    """Part 4's middle printer count (100 in a full run): each printer reached ten times, as in production
    several times between two checkpoints; the statements and rows are the same at every count."""
    stages = results["db_stages"]
    return stages[len(stages) // 2]


def summary(results: dict, out) -> None:
    cores = results["cores"]
    s = results["server"]
    strict, loose = (results["at_target"][str(t)] for t in sorted(P99_TARGETS_MS))
    out("5. Summary")
    for label, best in (("p99 <= 1 s", loose), ("p99 <= 250 ms", strict)):
        if best:
            out(
                f"one replica ({s['workers']} x {s['threads']} on {cores} cores) carries {best['throughput_per_s']:.0f}"
                f" predicts/s at {label} = {best['throughput_per_s'] * SNAPSHOT_INTERVAL_S:,.0f} printers"
                f" at one snapshot every {SNAPSHOT_INTERVAL_S} s"
            )
    point = strict or loose
    if point:
        c = point["cores"]
        share = None if c["gunicorn"] is None else 100 * c["gunicorn"] / cores
        out(
            f"at the recommended operating point ({point['clients']} clients, p99 {point['latency_ms']['p99']:.0f} ms):"
            f" gunicorn used {_n(c['gunicorn'], 2)} of {cores} cores = {_n(share, 0)} %, the HPA CPU target with the"
            f" pod's CPU request at {cores} cores; the machine was {_n(100 * c['machine_busy'], 0)} % busy"
        )
    top = max(results["ladder"], key=lambda row: row["throughput_per_s"])
    c, ms = top["cores"], top["cpu_ms_per_predict"]
    of_floor = None if ms["gunicorn"] is None else ms["gunicorn"] / results["floor_ms"]
    out(
        f"a replica's limit is CPU: at saturation ({top['clients']} clients, {top['throughput_per_s']:.1f}/s) gunicorn"
        f" {_n(c['gunicorn'], 2)}, PostgreSQL {_n(c['postgresql'], 2)}, Redis {_n(c['redis'], 2)}, clients"
        f" {_n(c['clients'], 2)} cores, the machine {_n(100 * c['machine_busy'], 0)} % busy; gunicorn spent"
        f" {_n(ms['gunicorn'])} ms of CPU a predict ({_n(of_floor, 2)} x the floor),"
        f" PostgreSQL {_n(ms['postgresql'], 2)} ms"
    )
    if ms["gunicorn"]:
        out(
            f"  with {cores} cores for gunicorn alone, a replica's ceiling:"
            f" {cores * 1000 / ms['gunicorn']:.0f} predicts/s"
        )
    db = typical_stage(results)
    pg_ms = ms["postgresql"] or db["db_active_server_ms"]
    per_pg_core = 1000 / pg_ms if pg_ms else None
    connections = s["workers"] * s["threads"]
    pg = results["postgres_settings"]
    out(
        f"as replicas are added the shared limit is PostgreSQL: each predict is {sum(db['statements'].values()):.1f}"
        f" statements, {db['write_transactions']:.2f} write transaction (one WAL flush), {db['rows']['inserted']:.2f}"
        f" row inserted and {db['rows']['updated']:.2f} updated, {db['wal']['without_fpi_bytes']:,.0f} B of WAL"
        f" (+ full-page images); one PostgreSQL core serves about {_n(per_pg_core, 0)} predicts/s"
        + (
            f" = {per_pg_core / point['throughput_per_s']:.1f} replicas at the operating point"
            if per_pg_core and point
            else ""
        )
    )
    out(
        f"  connections: {connections} per replica (a connection per request thread, CONN_MAX_AGE);"
        f" max_connections {pg['max_connections']} -> about {int(pg['max_connections']) // connections} replicas"
        " before a pooler (PgBouncer) is needed"
    )


# -- The run -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="everything small, to check the script (meaningless)")
    parser.add_argument("--levels", help="client counts, e.g. 1,2,4,8,16")
    parser.add_argument("--per-level", type=int, help="predicts at each concurrency")
    parser.add_argument("--printers", help="printer counts for part 4, e.g. 1,100,10000")
    parser.add_argument("--db-predicts", type=int, help="predicts measured at each printer count")
    parser.add_argument("--history-rows", type=int, help="history rows of each printer that has one (1 in 10)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--detection-threads", type=int, default=1)
    parser.add_argument("--model", type=Path, help="DETECTION_MODEL_PATH (default: the settings' default)")
    parser.add_argument("--json", type=Path, help="also write every number measured here")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()
    plan = dict(QUICK if args.quick else FULL)
    if args.levels:
        plan["levels"] = [int(n) for n in args.levels.split(",")]
    if args.printers:
        plan["stages"] = sorted(int(n) for n in args.printers.split(","))
    for name in ("per_level", "db_predicts", "history_rows"):
        if getattr(args, name) is not None:
            plan[name] = getattr(args, name)
    started = time.perf_counter()
    media = Path(tempfile.mkdtemp(prefix="capacity-media-"))
    server_env = {"DATABASE_URL": CAPACITY_DATABASE_URL, "MEDIA_ROOT": str(media)}
    if args.model:
        server_env["DETECTION_MODEL_PATH"] = str(args.model.resolve())
    os.environ.update({**production_settings(args.detection_threads), **server_env})
    drop_database(CAPACITY_DATABASE_URL)
    prepare_database(CAPACITY_DATABASE_URL)
    try:
        results = run(args, plan, server_env, media)
    finally:
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        if not args.keep_database:
            drop_database(CAPACITY_DATABASE_URL)
        shutil.rmtree(media, ignore_errors=True)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    report(results)
    print(
        f"\n# took {results['wall_s']:.0f} s: parts 1-2 {results['part_1_2_s']:.0f} s,"
        f" 3-4 {results['part_3_4_s']:.0f} s"
        " (seeding "
        + ", ".join(f"{stage['printers']:,}: {stage['seed_s']:.0f} s" for stage in results["db_stages"])
        + ")"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


def run(args, plan: dict, server_env: dict, media: Path) -> dict:
    django_setup(CAPACITY_DATABASE_URL)
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections
    from oauth2_provider.models import AccessToken

    from detection.conf import detection_settings
    from detection.models import Prediction, PrinterStats
    from detection.runner import Detector
    from printers.models import Printer
    from prints.models import Print

    # This process's connection lives for the whole run (the server's workers keep CONN_MAX_AGE), so
    # no reconnection lands inside a measured block.
    connections["default"].settings_dict["CONN_MAX_AGE"] = None
    cores = len(os.sched_getaffinity(0))
    jpeg = webcam_jpeg()
    detector = Detector(detection_settings.MODEL_PATH, threads=args.detection_threads)
    results: dict = {
        "cores": cores,
        "plan": plan,
        "jpeg_bytes": len(jpeg),
        "server": {
            "workers": args.workers,
            "threads": args.threads,
            "detection_threads": args.detection_threads,
            "model": Path(detection_settings.MODEL_PATH).name,
        },
    }

    # 1 and 2: the server, as the image runs it.
    results["started"] = time.perf_counter()
    print("# 1. floor, then the server under rising concurrency", file=sys.stderr)
    results["floor_before"] = timed(lambda: predict_floor(detector, jpeg), plan["floor_runs"])
    token, printer_ids, _ = make_printing_owner(max(8, *plan["levels"]), prefix="capacity")
    probe = DatabaseProbe(CAPACITY_DATABASE_URL, connections["default"])
    results["postgres_settings"] = probe.settings()
    results["server"]["postgres"] = results["postgres_settings"]["server_version"]
    postmaster = int(
        next(
            line.split()[1]
            for line in Path(f"/proc/{probe.backend_pid()}/status").read_text().splitlines()
            if line.startswith("PPid:")
        )
    )
    redis_pid = redis.Redis.from_url(BENCH_CACHE_URL).info("server")["process_id"]
    with gunicorn(
        workers=args.workers, threads=args.threads, detection_threads=args.detection_threads, extra_env=server_env
    ) as (base, master):
        results["every_worker_warm"] = warm_every_worker(base, token, printer_ids, jpeg, master.pid)
        results["memory"] = process_memory(master.pid)
        meter = CpuMeter({"gunicorn": master.pid, "postgresql": postmaster, "redis": redis_pid})
        results["ladder"] = ladder(base, token, printer_ids, jpeg, plan["levels"], plan["per_level"], meter)
        results["memory_after"] = process_memory(master.pid)
    results["floor_after"] = timed(lambda: predict_floor(detector, jpeg), plan["floor_runs"])
    results["floor_ms"] = round((results["floor_before"]["p50"] + results["floor_after"]["p50"]) / 2, 2)
    results["at_target"] = {str(target): best_under(results["ladder"], target) for target in P99_TARGETS_MS}

    results["part_1_2_s"] = round(time.perf_counter() - results.pop("started"), 1)
    started = time.perf_counter()

    # 3 and 4: a fresh database, printers added in stages, the database's work per predict.
    print("# 3, 4. database work per predict against printers", file=sys.stderr)
    probe.close()
    connections.close_all()
    drop_database(CAPACITY_DATABASE_URL)
    prepare_database(CAPACITY_DATABASE_URL)
    ContentType.objects.clear_cache()
    probe = DatabaseProbe(CAPACITY_DATABASE_URL, connections["default"])
    probe.autovacuum(enabled=False)
    failing = failing_frame()
    process = InProcess()
    rng = random.Random(25)
    body = multipart(jpeg)
    memory = seasoned_memory(detector).as_json()
    models = [Printer, Print, PrinterStats, Prediction, AccessToken, get_user_model()]
    with scores_from([jpeg, failing]):
        fleet = Fleet(memory=memory, history_rows=plan["history_rows"])
        results["db_stages"] = []
        for printers in plan["stages"]:
            seeding = time.perf_counter()
            fleet.grow(printers - len(fleet.printers))
            probe.vacuum_analyze()
            seeded_s = time.perf_counter() - seeding
            run_block = fleet_predicts(process, fleet, body, plan["db_predicts"], rng)
            for printer_id, raw in fleet.printers[:1] * 20:  # the code path warm before the first block
                process.predict(printer_id, raw, body)
            stage = probe.measure(run_block)
            stage.update(printers=printers, seed_s=round(seeded_s, 1), sizes=probe.sizes(models))
            results["db_stages"].append(stage)
            print(f"#   {printers} printers: seeded in {seeded_s:.1f} s", file=sys.stderr)
        results["alerting"] = alerting_predicts(process, probe, jpeg, failing, plan["alert_printers"])
    probe.close()
    results["part_3_4_s"] = round(time.perf_counter() - started, 1)
    return results


def failing_frame() -> bytes:
    """The photo of a failed print (spaghetti, val split) the model scores highest, within the upload limits."""
    from detection.image import InvalidImage
    from detection.services import snapshot_score

    scored = []
    for frame in spaghetti_jpegs(16):
        try:
            scored.append((snapshot_score(frame).p, frame))
        except InvalidImage:
            continue
    return max(scored)[1]


if __name__ == "__main__":
    main()
