# Build stage: wheels of the service and its dependencies.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain domain
COPY projections projections
COPY api api
COPY app app
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: no compilers, no sources but the migrations, a non-root user.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /srv mal \
    && mkdir -p /data && chown mal /data
WORKDIR /srv
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY alembic.ini ./
COPY alembic alembic
USER mal
ENV MAL_DATA_DIR=/data \
    MAL_MIGRATIONS_DIR=/srv
VOLUME ["/data"]
EXPOSE 8000
CMD ["mutual-aid", "serve", "--host", "0.0.0.0", "--port", "8000"]
