"""Delete stored predictions older than ``PREDICTION_RETENTION_DAYS`` (run daily, e.g. from cron)."""

from django.core.management.base import BaseCommand

from detection.services import prediction_prune


class Command(BaseCommand):
    help = "Delete predictions older than the PREDICTION_RETENTION_DAYS setting."

    def handle(self, *args, **options):
        deleted = prediction_prune()
        self.stdout.write(f"Deleted {deleted} predictions.")
