# gnutls-cli-go on Debian bookworm. Build with `make docker` (`make docker
# DEBIAN=13` for trixie), which vendors the Go modules into the build context;
# a plain `docker build .` downloads them. Both images must be of one release.
ARG GO_IMAGE=golang:1.26-bookworm
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${GO_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev pkg-config libgnutls28-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN [ -d vendor ] || go mod vendor
RUN CGO_ENABLED=1 go build -mod=vendor -trimpath -ldflags='-s -w' -o /out/gnutls-cli-go ./cmd/gnutls-cli-go
# The package holding libgnutls.so.30 on this release (libgnutls30 on
# bookworm, libgnutls30t64 on trixie), for the runtime stage.
RUN dpkg-query -S '*/libgnutls.so.30' | cut -d: -f1 | sort -u >/out/runtime-packages

FROM ${BASE_IMAGE}
COPY --from=build /out/runtime-packages /tmp/
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(cat /tmp/runtime-packages) ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin gnutls
COPY --from=build /out/gnutls-cli-go /usr/local/bin/
USER 10001:10001
ENTRYPOINT ["gnutls-cli-go"]
