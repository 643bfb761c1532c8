"""Training, export and evaluation of the default spaghetti detector (EfficientNet-Lite0 + centre-ness head).

A run is a ``config.TrainConfig`` read from a recipe (``recipes/*.yaml``) with ``key=value`` overrides,
trained by ``trainer.Trainer`` on batches that ``loader`` builds, and exported by ``export``;
``train`` is its command line and ``scripts/train`` the whole job. Only ``config``, ``metrics``,
``evaluate`` and ``synthetic`` are importable without torch; the rest needs ``requirements-train.txt``.
Nothing here is imported by the web service.
"""
