#!/usr/bin/env bash
# Builds the gnutls-cli-go image ($IMAGE) from the working tree, with the Go
# modules vendored into a temporary build context (no downloads in containers).
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"

start_dockerd
ensure_base "$GO_IMAGE"
ensure_base "$BASE_IMAGE"

ctx=$(mktemp -d)
defer rm -rf "$ctx"
tar -C "$ROOT" --exclude=./.git --exclude=./bin --exclude=./vendor -c . | tar -C "$ctx" -x
(cd "$ROOT" && "$GO" mod vendor -o "$ctx/vendor")

log "building $IMAGE"
docker build --force-rm --network host --build-arg GO_IMAGE="$GO_IMAGE" --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE" "$ctx"
docker image ls "$IMAGE"
