# digitpad: the drawing page and the prediction API in one small image.
#   docker build -t digitpad .
#   docker run --rm -p 8000:8000 -v digitpad-data:/data digitpad        → http://localhost:8000
# Settings are DIGITPAD_* environment variables (docs/api.md lists them: port, workers, weights, limits).
# Logs are readable text on a terminal (docker run -it) and JSON lines otherwise (docker logs, collectors).
# Users' corrections go to the SQLite file /data/digitpad.db: mount a volume there to keep them
# (or set DIGITPAD_DATABASE_URL=postgresql://…). `docker kill --signal HUP` reloads the weights.

# ---- build: the locked dependencies first (their own layer: a code change reuses it), then digitpad
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/digitpad
WORKDIR /src
# requirements.lock: every runtime dependency pinned with its hashes (uv pip compile; see docs/operations.md)
COPY requirements.lock ./
RUN /opt/digitpad/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY model/ model/
COPY app/ app/
COPY scripts/ scripts/
COPY static/ static/
COPY weights/digitpad.npz weights/handwriting.npz weights/mlp.npz weights/blog.npz weights/
# Not editable, nothing resolved: the package, its page and the served weights are copied into the venv.
RUN /opt/digitpad/bin/pip install --no-deps --no-build-isolation . \
 && /opt/digitpad/bin/pip uninstall --yes pip setuptools \
 && find /opt/digitpad -name '__pycache__' -prune -exec rm -rf {} +

# ---- runtime: Python, the venv, a non-root user; no compilers, no source tree, no dataset (but the
#      3.6 MB MNIST subset live training uses, inside the package: model/data/)
FROM python:3.11-slim-bookworm
ARG VERSION=0.2.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="digitpad" \
      org.opencontainers.image.description="Draw a digit; a neural network written from scratch in numpy reads it." \
      org.opencontainers.image.source="https://github.com/digitpad/digitpad" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT"
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin digitpad \
 && mkdir /data && chown 10001:10001 /data
COPY --from=build /opt/digitpad /opt/digitpad
ENV PATH=/opt/digitpad/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DIGITPAD_HOST=0.0.0.0 \
    DIGITPAD_PORT=8000 \
    DIGITPAD_DATABASE_URL=sqlite:////data/digitpad.db \
    DIGITPAD_LOG_FORMAT=auto \
    OPENBLAS_NUM_THREADS=1
USER 10001:10001
WORKDIR /tmp
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('DIGITPAD_PORT', '8000') + '/readyz', timeout=2)"]
# Exec form: uvicorn is PID 1, so `docker stop`'s SIGTERM reaches it and it shuts down gracefully.
CMD ["digitpad-serve"]
