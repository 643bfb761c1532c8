# The API served by gunicorn; PostgreSQL comes from docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --system --uid 10001 --home /app app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# The settings the image runs with. Workers and threads measured in bench/README.md: 2 workers x 4
# threads, one onnxruntime thread each. Clients reach it through nginx (deploy/, docker-compose.yml).
ENV DEBUG=0 \
    WEB_WORKERS=2 \
    WEB_THREADS=4 \
    DETECTION_THREADS=1
# Under those same settings, so DEBUG=0's storage (WhiteNoise's CompressedManifestStaticFilesStorage)
# finds the manifest it reads at run time. The key exists for this step only; none is baked in.
# tests/e2e/test_production.py runs this line as written.
RUN SECRET_KEY=build-only-dummy python manage.py collectstatic --noinput -v0

# Alert snapshots (MEDIA_ROOT): compose mounts a named volume here, which starts as this folder, owned by app.
RUN mkdir -p /app/media && chown app:app /app/media
USER app
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["gunicorn", "config.wsgi", "-c", "gunicorn.conf.py"]
