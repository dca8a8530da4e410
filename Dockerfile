# syntax=docker/dockerfile:1
# Every image of the library, from the repository root, one per app folder:
#   docker build --build-arg APP=books-service --build-arg PACKAGE=books_service --build-arg PORT=5000 .
# (docker-compose.yml and CI give each app its three values; the app's worker runs the same image.)
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG APP
ARG PACKAGE
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src
# Dependencies first, from the packages' metadata alone, so code changes reuse this layer.
COPY constraints.txt ./
COPY library-common/pyproject.toml library-common/
COPY ${APP}/pyproject.toml ${APP}/
RUN mkdir library-common/library_common "${APP}/${PACKAGE}" \
 && pip install -c constraints.txt ./library-common "./${APP}"
COPY library-common library-common
COPY ${APP} ${APP}
# ... then, for the services, Swagger UI for /docs, from the npm registry, checked against the hashes in
# library_common.swagger_ui (the web frontend serves no API docs)
RUN pip install --no-deps --force-reinstall ./library-common "./${APP}" \
 && if [ "${APP}" != "web-frontend" ]; then python -m library_common.swagger_ui; fi

FROM ${PYTHON_IMAGE}
ARG PACKAGE
ARG PORT
RUN useradd --system --uid 10001 --no-create-home library
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    SERVICE_PACKAGE=${PACKAGE} PORT=${PORT} BIND=0.0.0.0:${PORT}
USER 10001
EXPOSE ${PORT}
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['PORT']}/health\", timeout=2)"]
CMD ["python", "-m", "library_common.serve"]
