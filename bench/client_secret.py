"""What one client-secret guess at /o/token/ costs: a secret stored with the keyed hash, and one stored
with PBKDF2 (as every secret was before issue 23), against a successful client-credentials request.

In process, through Django's test client and the whole middleware stack, on a throwaway SQLite
database with the per-process cache. Each guess comes from an address of its own, so no counter
refuses it: this is the cost of the check itself. Prints median and 90th percentile milliseconds.

    .venv/bin/python bench/client_secret.py [--requests 200]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per case (PBKDF2: a tenth)")
    args = parser.parse_args()

    database = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    os.environ.update({"DATABASE_URL": f"sqlite:///{database}", "CACHE_URL": "locmemcache://"})
    sys.path.insert(0, str(PROJECT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    logging.disable(logging.WARNING)  # a line for every 401 would drown the numbers
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.test import Client
    from oauth2_provider.generators import generate_client_secret
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    secret = generate_client_secret()
    keyed = _app(Application, secret)
    legacy = _app(Application, make_password(secret, hasher="pbkdf2_sha256"))
    client = Client()

    def request(application, guess: str, n: int):
        return client.post(
            "/o/token/",
            {"grant_type": "client_credentials", "client_id": application.client_id, "client_secret": guess},
            REMOTE_ADDR=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        )

    cases = [
        ("right secret, keyed hash (a token issued)", keyed, secret, args.requests, 200),
        ("wrong secret, keyed hash", keyed, "wrong", args.requests, 401),
        ("wrong secret, PBKDF2 hash (before issue 23)", legacy, "wrong", max(5, args.requests // 10), 401),
    ]
    counter = 0
    for name, application, guess, count, status in cases:
        times = []
        for _ in range(count):
            counter += 1
            started = time.perf_counter()
            response = request(application, guess, counter)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == status, (name, response.status_code, response.content)
        times.sort()
        p90 = times[int(len(times) * 0.9) - 1]
        print(f"{name}: median {statistics.median(times):.2f} ms, p90 {p90:.2f} ms ({count} requests)")


def _app(application_model, stored_secret: str):
    """A confidential client-credentials app whose secret column holds ``stored_secret`` (a hash)."""
    return application_model.objects.create(
        name="Bench",
        client_type=application_model.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
        client_secret=stored_secret,
    )


if __name__ == "__main__":
    main()
