"""Liveness and readiness probes for load balancers and the compose health checks."""

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from detection.runner import ModelUnavailable, get_detector

logger = logging.getLogger(__name__)


@require_GET
def healthz(request):
    """The process is alive and serving requests."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    """Ready for traffic: the database answers and the detection model is loaded."""
    checks = {"database": "ok", "model": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not ready"
        logger.warning("Readiness: database unreachable: %s", exc)
        checks["database"] = "unavailable"
    try:
        get_detector()
    except ModelUnavailable as exc:
        logger.warning("Readiness: %s", exc)
        checks["model"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)
