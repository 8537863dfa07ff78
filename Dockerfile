# extdb-bridge: the sidecar (extdb-bridge), the reference store
# (extdb-store) and the example AIP service (extdb-example-library) in one
# small image.
#
#   docker build -t extdb-bridge:local .
#
# Build stage: the full Rust toolchain; no protoc needed (crates/contract's
# build.rs compiles proto/ with a pure-Rust compiler).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock clippy.toml ./
COPY proto ./proto
COPY crates ./crates
COPY examples ./examples
RUN cargo build --release --locked -p extdb-bridge -p extdb-store -p extdb-example-library \
      --bin extdb-bridge --bin extdb-store --bin extdb-example-library

# Runtime stage: Debian slim with CA roots (for TLS upstreams), a non-root
# user, and nothing else. Health checks use the binary itself: no curl.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/extdb --create-home extdb
COPY --from=build /src/target/release/extdb-bridge /src/target/release/extdb-store \
     /src/target/release/extdb-example-library /usr/local/bin/
USER extdb
WORKDIR /var/lib/extdb
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["extdb-bridge", "probe", "--addr", "127.0.0.1:9090", "--path", "/healthz"]
ENTRYPOINT ["extdb-bridge"]
CMD ["--config", "/etc/extdb/compose.yaml"]
