"""Replay folders of print sequences through the service and report the alerts (``prints/alert_replay.py``)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings

from detection.replay import HISTORIES, read_sequences, summarise
from prints.alert_replay import Replayer, scores_cached


def labelled(value: str) -> tuple[str, Path]:
    """``LABEL=PATH``, or a bare path labelled by its folder's name."""
    label, _, path = value.rpartition("=")
    path = Path(path)
    if not path.is_dir():
        raise CommandError(f"Not a folder: {path}")
    return label or path.name, path


class Command(BaseCommand):
    help = (
        "Replay print sequences (folders of frames in order, with an optional onset.txt) through the "
        "service's own predict path on printers with new, short and seasoned histories, in a throwaway "
        "database, and print the alerts: false alerts, snapshots from onset to alert, misses."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "sequences", nargs="+", help="CAMERA=FOLDER: a folder of sequence folders, labelled by its camera"
        )
        parser.add_argument(
            "--history",
            action="append",
            default=[],
            help="CAMERA=FOLDER of that camera's clean prints, for the short and seasoned histories",
        )
        parser.add_argument("--histories", default=",".join(HISTORIES), help="which printer histories to replay on")
        parser.add_argument("--model", type=Path, help="the ONNX model (default: the configured one)")
        parser.add_argument("--rule", choices=["adaptive", "obico"], help="the verdict rule (default: configured)")
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a settings.DETECTION override, VALUE as JSON (e.g. ADAPTIVE_WARNING=0.25)",
        )
        parser.add_argument(
            "--min-snapshots", type=int, default=200, help="clean prints are replayed at least this long"
        )
        parser.add_argument("--sensitivity", type=float, default=1.0)
        parser.add_argument("--details", type=Path, help="also write every replay's outcome here (JSON)")

    def handle(self, *args, **options):
        histories = [h for h in options["histories"].split(",") if h]
        if unknown := set(histories) - set(HISTORIES):
            raise CommandError(f"Unknown histories: {', '.join(sorted(unknown))}")
        overrides = {}
        for item in options["set"]:
            key, _, value = item.partition("=")
            overrides[key] = json.loads(value)
        if options["model"]:
            overrides["MODEL_PATH"] = options["model"].resolve()
        if options["rule"]:
            overrides["VERDICT_RULE"] = options["rule"]
        camera_folders = [labelled(value) for value in options["sequences"]]
        history_folders = dict(labelled(value) for value in options["history"])
        started = time.monotonic()
        logging.disable(logging.WARNING)
        with (
            tempfile.TemporaryDirectory() as media,
            _throwaway_database(),
            # One owner has a printer per replay: the per-user cap is for clients, not for this run.
            override_settings(
                DETECTION={**settings.DETECTION, **overrides}, MEDIA_ROOT=media, PRINTERS_MAX_PER_USER=2**31
            ),
            scores_cached(),
        ):
            owner = get_user_model().objects.create_user("replay")
            replayer = Replayer(owner, min_snapshots=options["min_snapshots"], sensitivity=options["sensitivity"])
            outcomes = []
            for camera, folder in camera_folders:
                clean = read_sequences(history_folders[camera], camera) if camera in history_folders else []
                for sequence in read_sequences(folder, camera):
                    for history in histories:
                        if history != "new" and not clean:
                            continue
                        outcomes.append(replayer.replay(sequence, history, clean))
        logging.disable(logging.NOTSET)
        report = {
            "model": str(overrides.get("MODEL_PATH", settings.DETECTION.get("MODEL_PATH", "default"))),
            "rule": overrides.get("VERDICT_RULE", "configured"),
            "overrides": {k: v for k, v in overrides.items() if k not in ("MODEL_PATH", "VERDICT_RULE")},
            "sensitivity": options["sensitivity"],
            "replays": len(outcomes),
            "seconds": round(time.monotonic() - started),
            "summary": summarise(outcomes),
        }
        if options["details"]:
            options["details"].write_text(json.dumps([o.as_dict() for o in outcomes], indent=1))
        self.stdout.write(json.dumps(report, indent=1, default=str))


class _throwaway_database:
    """A fresh, migrated database for the run, of its own name (tests may be using theirs), dropped afterwards.

    On SQLite it is a file in a temporary folder written without waiting for the disk: it is thrown
    away, and a sync at every snapshot's commit made a run several times slower.
    """

    def __enter__(self):
        self.old_name = connection.settings_dict["NAME"]
        self.old_options = dict(connection.settings_dict.get("OPTIONS", {}))
        self.folder = tempfile.TemporaryDirectory()
        test = connection.settings_dict.setdefault("TEST", {})
        self.old_test_name = test.get("NAME")
        if connection.vendor == "sqlite":
            test["NAME"] = str(Path(self.folder.name) / "replay.sqlite3")
            connection.settings_dict["OPTIONS"] = {
                **self.old_options,
                "init_command": "PRAGMA synchronous=OFF; PRAGMA journal_mode=MEMORY;",
            }
        else:
            test["NAME"] = f"replay_{os.getpid()}"
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    def __exit__(self, *exc_info):
        connection.creation.destroy_test_db(self.old_name, verbosity=0)
        connection.settings_dict["OPTIONS"] = self.old_options
        connection.settings_dict["TEST"]["NAME"] = self.old_test_name
        self.folder.cleanup()
