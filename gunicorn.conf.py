"""gunicorn settings for the Docker image; every value can be overridden from the environment.

Worker and thread counts come from bench/predict on 2 cores (bench/README.md), not from habit:
2 workers, each with 4 request threads and a 1-thread onnxruntime session (DETECTION_THREADS=1,
set in the Dockerfile), so each worker's inference has a core of its own.

A gthread worker gives a connection one of its threads for as long as the client takes to send its
request, so clients never reach gunicorn directly: nginx (deploy/nginx.conf.template) reads each
request whole first. docker-compose.yml publishes only nginx's ports.
"""

import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# Each worker loads the model once, on its first predict, and keeps it.
preload_app = False
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5  # nginx's upstream keepalive_timeout (4 s) stays under this
accesslog = "-"
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "0"))
# gunicorn's control socket (gunicornc, since 25.1) stays off: nothing here uses it, and its default
# place, $HOME/.gunicorn, is not writable by the image's user, so each start logged an error.
control_socket_disable = True
