"""Settings read from the environment at start-up, checked in a process of their own."""

from __future__ import annotations

import os
import subprocess
import sys


def in_a_fresh_process(code: str, **environment: str) -> subprocess.CompletedProcess:
    """Run ``code`` after ``django.setup()`` in a process whose settings come from ``environment`` alone."""
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **environment}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
