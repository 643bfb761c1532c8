"""``prune_predictions``, run daily (e.g. from cron): predictions, then alerts and their snapshots, then orphan files.

The project's one pruning command. It lives in ``prints``, the highest app whose rows it deletes,
and calls down into ``detection`` for the predictions: ``detection`` is below ``prints`` and knows
nothing of alerts.
"""

from django.core.management.base import BaseCommand

from detection.services import prediction_prune
from prints.services.files import alert_files_sweep, alert_prune


class Command(BaseCommand):
    help = (
        "Delete predictions and alerts (with their snapshots) older than the PREDICTION_RETENTION_DAYS setting, "
        "and snapshot files no alert names that are over an hour old."
    )

    def handle(self, *args, **options):
        predictions = prediction_prune()
        self.stdout.write(f"Deleted {predictions} predictions.")
        alerts = alert_prune()
        files = alert_files_sweep()
        self.stdout.write(f"Deleted {alerts} alerts with their snapshots, and {files} orphan snapshot files.")
