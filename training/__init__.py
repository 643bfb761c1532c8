"""Training, export and evaluation of the default spaghetti detector (EfficientNet-Lite0 + centre-ness head).

Only ``metrics``, ``evaluate`` and ``synthetic`` are importable without torch; the rest needs
``requirements-train.txt``. Nothing here is imported by the web service.
"""
