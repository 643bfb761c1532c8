"""Train the spaghetti detector on CPU: seeded, resumable, one checkpoint per epoch.

    python -m training.train --recipe run8 --out .train/run8              # run 8's recipe (the shipped model's)
    python -m training.train --out .train/v3                               # the v3 recipe (the default)
    python -m training.train --out .train/v3 --resume                      # continue after a stop
    python -m training.train --out .train/no-p2 cameras=p1                 # a fold: camera p2 held out
    python -m training.train --recipe run8 --dry-run epochs=5              # print the resolved settings only

Settings come from a recipe (``training/recipes/NAME.yaml`` or a path), then ``key=value`` overrides of
any ``training/config.py`` setting (``epochs=5``, ``cameras=p1,p2``, ``input_size=320x256``,
``merge_labels=false``, ``init_from=CKPT`` to fine-tune from a checkpoint's weights). ``scripts/train``
runs the whole job (requirements, this, the calibrated export). The loop is ``trainer.Trainer``;
``last.pt`` is written after every epoch and ``best.pt`` whenever val AP50 improves.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from training.config import TrainConfig, load_config


def parse(argv: list[str] | None = None) -> tuple[TrainConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="v3", help="a recipe of training/recipes (run8, v3) or a YAML file")
    parser.add_argument("--out", type=Path, help="checkpoint folder (the setting out=)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved settings and stop")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="settings of training/config.py")
    args = parser.parse_args(argv)
    settings = {"out": args.out} if args.out else {}
    try:
        config = load_config(args.recipe, args.overrides, **settings)
    except (ValueError, TypeError, OSError) as error:
        parser.error(str(error))
    return config, args


def main(argv: list[str] | None = None) -> None:
    config, args = parse(argv)
    print(json.dumps({"recipe": args.recipe, **config.as_strings()}), flush=True)
    if args.dry_run:
        return
    from training.trainer import Trainer  # torch, only for a real run

    try:
        trainer = Trainer(config)
    except ValueError as error:  # a schedule that does not fit the epochs
        raise SystemExit(str(error)) from None
    trainer.fit(resume=args.resume)


# glibc returns the large activation buffers to the kernel after every step and page-faults them
# back in on the next: measured ~40 % of the CPU time in the kernel and 1.6-5 s per step, against
# 1.1-1.3 s with freed memory kept in the process. These are read only at process start.
MALLOC_SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": "4294967296",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
    "MALLOC_TOP_PAD_": "1073741824",
}

if __name__ == "__main__":
    if not all(name in os.environ for name in MALLOC_SETTINGS):
        os.environ.update(MALLOC_SETTINGS)
        os.execv(sys.executable, [sys.executable, "-m", "training.train", *sys.argv[1:]])  # noqa: S606
    main()
