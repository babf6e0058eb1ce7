# syntax=docker/dockerfile:1
# PhotonDrift Neural: one image for every process (web, worker, beat; see Procfile and
# docker-compose.yml). Two stages: the build stage compiles wheels into a virtualenv, the runtime
# stage copies only that virtualenv and the code, and runs as a non-root user.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# CPU-only torch first, from PyTorch's CPU index (the default wheel pulls in CUDA, ~2 GB more);
# requirements.txt pins the same version, so pip keeps it.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=photondrift.settings \
    PHOTONDRIFT_HOME=/data \
    PORT=8000
RUN groupadd --system --gid 10001 photondrift \
    && useradd --system --uid 10001 --gid photondrift --home-dir /app --shell /usr/sbin/nologin photondrift \
    && mkdir -p /data /app \
    && chown photondrift:photondrift /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=photondrift:photondrift manage.py Procfile ./
COPY --chown=photondrift:photondrift photondrift ./photondrift
COPY --chown=photondrift:photondrift neural ./neural
COPY --chown=photondrift:photondrift dashboard ./dashboard
COPY --chown=photondrift:photondrift templates ./templates
COPY --chown=photondrift:photondrift static ./static
USER photondrift
VOLUME ["/data"]
EXPOSE 8000
# /healthz reports the database, broker and channel layer (503 when one is down). The Host header
# is localhost, so keep localhost in DJANGO_ALLOWED_HOSTS. Worker and beat containers turn this off.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', headers={'Host': 'localhost'}), timeout=4)"
# The web process (Procfile's `web`); compose gives worker and beat their own commands.
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py collectstatic --noinput && OMP_NUM_THREADS=1 uvicorn photondrift.asgi:application --host 0.0.0.0 --port ${PORT} --workers 2 --lifespan off"]
