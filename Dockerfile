# The service's image: `make image` builds it, `make image-test` builds and runs it for real.
#
# PYTHON_IMAGE lets CI substitute a base it builds itself (no registry there); any image with
# python3 and its venv module works. Build context: the repository (see .dockerignore).
ARG PYTHON_IMAGE=python:3.12-slim

# --- build: dependencies into a virtual environment, and the codegen ---------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY requirements/runtime.txt requirements/codegen.txt requirements/
# The service's dependencies, exactly as pinned (hashes checked), in the venv the image ships.
RUN python3 -m venv /opt/service \
    && /opt/service/bin/pip install --require-hashes -r requirements/runtime.txt
# The codegen's own environment: grpcio-tools and mypy-protobuf never reach the final image.
RUN python3 -m venv /opt/codegen \
    && /opt/codegen/bin/pip install --require-hashes -r requirements/codegen.txt
COPY protos/ protos/
COPY tools/__init__.py tools/codegen.py tools/enums.py tools/
# The same entry point as `make generate`.
RUN /opt/codegen/bin/python -m tools.codegen --quiet \
    && /opt/service/bin/python -m compileall -q generated /opt/service

# --- the image: no compilers, no build tools, not root -----------------------------------------
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/service/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=50051 \
    LOG_FORMAT=json \
    REFLECTION=false
WORKDIR /app
COPY --from=build /opt/service /opt/service
COPY --from=build /app/generated/ generated/
COPY alembic.ini ./
COPY migrations/ migrations/
COPY service/ service/
# Bytecode now, once: the service's user cannot write it at start-up (and PYTHONDONTWRITEBYTECODE
# would not keep it), so without this every start compiles the service again.
RUN python -m compileall -q service migrations
# A numeric user: no passwd entry needed, and Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 50051
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-m", "service.healthcheck"]
# `serve` (the default) or `migrate` (run it as its own step, before new servers start).
ENTRYPOINT ["python", "-m", "service"]
CMD ["serve"]
