# gnutls-cli-go on Debian bookworm. Build with `make docker`, which vendors the
# Go modules into the build context; a plain `docker build .` downloads them.
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

FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgnutls30 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin gnutls
COPY --from=build /out/gnutls-cli-go /usr/local/bin/
USER 10001:10001
ENTRYPOINT ["gnutls-cli-go"]
