"""``prune_predictions`` with the alerts: predictions, then alerts and their snapshots, then orphan files.

Django runs the command of the first app in ``INSTALLED_APPS`` that has one (as ``staticfiles``
extends ``runserver``), and ``prints`` comes before ``detection``: so the one cron line runs this,
which runs detection's own pruning and then ours. ``detection`` knows nothing of alerts (it is
below ``prints``), so it could not delete them itself.
"""

from detection.management.commands import prune_predictions
from prints.services import alert_files_sweep, alert_prune


class Command(prune_predictions.Command):
    help = (
        "Delete predictions and alerts (with their snapshots) older than the PREDICTION_RETENTION_DAYS setting, "
        "and snapshot files no alert names that are over an hour old."
    )

    def handle(self, *args, **options):
        super().handle(*args, **options)
        alerts = alert_prune()
        files = alert_files_sweep()
        self.stdout.write(f"Deleted {alerts} alerts with their snapshots, and {files} orphan snapshot files.")
