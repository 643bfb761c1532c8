"""The webhook worker: ``python manage.py deliver_webhooks`` (docker-compose runs it)."""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from webhooks.services import webhook_deliver_due


class Command(BaseCommand):
    help = "Deliver queued webhook events, retrying failures with back-off. Stops cleanly on SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Deliver what is due now, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds to sleep when nothing is due.")

    def handle(self, *args, once=False, interval=1.0, **options):
        self.running = True
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        while self.running:
            close_old_connections()
            attempted = webhook_deliver_due()
            if once and not attempted:
                return
            if not attempted:
                time.sleep(interval)

    def stop(self, signum, frame):
        self.running = False
