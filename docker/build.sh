#!/usr/bin/env bash
# Builds the gnutls-cli-go image ($IMAGE) from the working tree, with the Go
# modules vendored into a temporary build context (no downloads in containers).
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"

start_dockerd
ensure_base "$GO_IMAGE"
ensure_base "$BASE_IMAGE"

build_context
ctx=$CONTEXT

# The build stage is tagged too, so that the images a rebuild replaces can be
# removed by id instead of piling up untagged; its layers stay as the cache.
BUILD_IMAGE=$IMAGE-build
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
old=("$(image_id "$IMAGE")" "$(image_id "$BUILD_IMAGE")")

log "building $IMAGE"
build=(docker build --force-rm --network host --build-arg GO_IMAGE="$GO_IMAGE" --build-arg BASE_IMAGE="$BASE_IMAGE")
"${build[@]}" --target build -t "$BUILD_IMAGE" "$ctx"
"${build[@]}" -t "$IMAGE" "$ctx"
for id in "${old[@]}"; do
	if [ -n "$id" ] && [ "$id" != "$(image_id "$IMAGE")" ] && [ "$id" != "$(image_id "$BUILD_IMAGE")" ]; then
		docker rmi "$id" >/dev/null 2>&1 || true # still in use: kept
	fi
done
docker image ls "$IMAGE"
