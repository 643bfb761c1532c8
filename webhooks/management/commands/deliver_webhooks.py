"""The webhook worker: ``python manage.py deliver_webhooks`` (docker-compose runs it)."""

import signal
import time
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from webhooks.conf import webhook_settings
from webhooks.worker import DeliveryWorker, webhook_deliver_due

# How often the heartbeat file is touched; docker-compose's health check allows several missed beats.
HEARTBEAT_SECONDS = 10


class Command(BaseCommand):
    help = (
        "Deliver queued webhook events on a few threads, retrying failures with back-off. "
        "Stops cleanly on SIGTERM, after the deliveries in flight (each within WEBHOOK_TIMEOUT_SECONDS)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Deliver what is due now, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds to sleep when nothing is due.")
        parser.add_argument(
            "--heartbeat",
            type=Path,
            help=f"A file to touch every {HEARTBEAT_SECONDS} s while the loop runs, for a health check.",
        )

    def handle(self, *args, once=False, interval=1.0, heartbeat=None, **options):
        self.running = True
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.heartbeat, self.next_beat = heartbeat, 0.0
        if once:
            while self.running:  # until a pass finds nothing due
                close_old_connections()
                attempted = webhook_deliver_due()
                self.beat()
                if not attempted:
                    return
        worker = DeliveryWorker(threads=webhook_settings.WORKER_THREADS)
        try:
            while self.running:
                close_old_connections()
                started = worker.start_due()
                if worker.busy:  # wake when one finishes, or after ``interval`` to fill idle threads
                    worker.finish(timeout=interval)
                elif not started:
                    time.sleep(interval)
                self.beat()
        finally:
            worker.close()

    def beat(self):
        """Touch the heartbeat file, at most every ``HEARTBEAT_SECONDS``."""
        if self.heartbeat is not None and time.monotonic() >= self.next_beat:
            self.heartbeat.touch()
            self.next_beat = time.monotonic() + HEARTBEAT_SECONDS

    def stop(self, signum, frame):
        self.running = False
