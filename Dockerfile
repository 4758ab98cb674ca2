# Multi-stage build: compile with the committed .sqlx/ data (no database
# needed), run as a non-root user on a small image. The container expects
# DATABASE_URL; it does not run the embedded cluster.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo .cargo
COPY .sqlx .sqlx
COPY migrations migrations
COPY src src
COPY benches benches
RUN cargo build --release --locked --bin dompet

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin dompet
COPY --from=build /src/target/release/dompet /usr/local/bin/dompet
USER dompet
ENV DOMPET_ADDR=0.0.0.0:8080 \
    DOMPET_LOG_FORMAT=json
EXPOSE 8080
# Given at run time: DATABASE_URL (the runtime role) and, to migrate at start,
# DOMPET_MIGRATE_DATABASE_URL (the owner): docker run -e DATABASE_URL=… -e DOMPET_MIGRATE_DATABASE_URL=… image
ENTRYPOINT ["dompet"]
CMD ["serve"]
