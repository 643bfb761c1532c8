"""Write the alerts owners answered as a training dataset (``prints/feedback_export.py`` has the layout)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from prints.feedback_export import MANIFEST, alert_feedback_export


class Command(BaseCommand):
    help = (
        "Write alerts with feedback to DIR as a dataset training/dataset.py reads: confirmed failures with "
        "YOLO labels under spaghetti/train/, false alarms as negatives under clean-prints/images/, and manifest.json."
    )

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path, help="the folder to write (created if missing)")

    def handle(self, *args, **options):
        folder: Path = options["dir"]
        result = alert_feedback_export(folder=folder)
        self.stdout.write(
            f"Wrote {result.failures} failures and {result.false_alarms} false alarms to {folder} "
            f"({len(result.skipped)} skipped; see {folder / MANIFEST})."
        )
