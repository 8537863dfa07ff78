# extdb-bridge: the sidecar (extdb-bridge), the reference store
# (extdb-store) and the example AIP service (extdb-example-library) in one
# small image.
#
#   docker build -t extdb-bridge:local .
#
# Build stage: the full Rust toolchain; no protoc needed (crates/contract's
# build.rs compiles proto/ with a pure-Rust compiler). The release profile
# strips the binaries (root Cargo.toml); for profiling, build
# `--profile profiling` outside the image (BENCHMARKS.md).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock clippy.toml ./
COPY proto ./proto
COPY crates ./crates
COPY examples ./examples
RUN cargo build --release --locked -p extdb-bridge -p extdb-store -p extdb-example-library \
      --bin extdb-bridge --bin extdb-store --bin extdb-example-library \
 && mkdir -p /out/bin /out/home \
 && cp target/release/extdb-bridge target/release/extdb-store \
       target/release/extdb-example-library /out/bin/

# Runtime stage: distroless (glibc, libgcc, CA roots, tzdata; no shell, no
# package manager): the same Debian 12 glibc as the build stage, ~23 MB
# where debian:bookworm-slim is ~75 MB before anything is installed. Runs
# as uid 10001 (no passwd entry needed); its home is the data directory.
# Health checks use the binary itself: no curl.
FROM gcr.io/distroless/cc-debian12
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build --chown=10001:10001 /out/home/ /var/lib/extdb/
USER 10001:10001
ENV HOME=/var/lib/extdb
WORKDIR /var/lib/extdb
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["extdb-bridge", "probe", "--addr", "127.0.0.1:9090", "--path", "/healthz"]
ENTRYPOINT ["extdb-bridge"]
CMD ["--config", "/etc/extdb/compose.yaml"]
