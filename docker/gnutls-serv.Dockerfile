# The peer of docker/test.sh: GnuTLS's gnutls-serv (TLS echo server) and certtool.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends gnutls-bin \
 && rm -rf /var/lib/apt/lists/*
