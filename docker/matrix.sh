#!/usr/bin/env bash
# make test-matrix: the project's whole `make test` in a container on each
# Debian release of MATRIX (default "12 13": GnuTLS 3.7.9 and 3.8.9), one
# release after the other, each against that release's libgnutls28-dev and
# gnutls-bin. Prints one line per release; fails when any release fails.
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"

MATRIX=${MATRIX:-12 13}
# The Debian packages `make test` needs: the top Makefile's APT_PKGS.
TEST_PKGS=${TEST_PKGS:?the packages make test needs (the Makefile passes its APT_PKGS)}
LOGS=${MATRIX_LOGS:-$ROOT/bin/test-matrix}

start_dockerd
build_context
mkdir -p "$LOGS"

# test_image CODENAME: the Debian base with the test packages and this
# machine's Go.
test_image() {
	local image=go-gnutls/test-matrix:$1
	log "building $image"
	image_with_go "$image" "$TEST_PKGS" >"$LOGS/image-$1.log" 2>&1 ||
		die "building $image failed, see $LOGS/image-$1.log"
	echo "$image"
}

# What the lab needs inside the container (docker/README.md): CAP_SYS_ADMIN
# for its network namespaces (unshare, setns), CAP_NET_ADMIN and
# /dev/net/tun for their TUN links, and a /proc/sys that Docker neither
# mounts read-only (systempaths) nor guards with AppArmor, for the sysctls it
# sets in them. --network none with IPv6 on: the tests use loopback (::1
# too) and their own namespaces only.
RUN_OPTS=(--rm --network none --sysctl net.ipv6.conf.all.disable_ipv6=0
	--cap-add SYS_ADMIN --cap-add NET_ADMIN --device /dev/net/tun
	--security-opt apparmor=unconfined --security-opt systempaths=unconfined
	-v "$CONTEXT:/src" -w /src
	# Nothing is downloaded in a container: the modules are vendored.
	-e GOTOOLCHAIN=local -e GOPROXY=off -e GOFLAGS=-mod=vendor)
[ -z "${CI:-}" ] || RUN_OPTS+=(-e "CI=$CI")

# count RESULT LOG: how many tests and subtests go test -v reported with RESULT.
count() { grep -cE "^ *--- $1: " "$2" || true; }

summary=() failed=0
for release in $MATRIX; do
	DEBIAN_CODENAME=$(debian_codename "$release")
	BASE_IMAGE=$(dockerfile_arg BASE_IMAGE)
	ensure_base "$BASE_IMAGE"
	image=$(test_image "$DEBIAN_CODENAME")
	version=$(docker run --rm "$image" pkg-config --modversion gnutls)
	logfile=$LOGS/debian-$DEBIAN_CODENAME.log
	log "Debian $DEBIAN_CODENAME, GnuTLS $version: make test (log: $logfile)"
	start=$SECONDS rc=0
	# Go's build cache lives in a volume per release, so later runs compile
	# only what changed.
	docker run "${RUN_OPTS[@]}" -v "go-gnutls-matrix-cache-$DEBIAN_CODENAME:/root/.cache/go-build" \
		"$image" make test TESTFLAGS=-v >"$logfile" 2>&1 || rc=$?
	took=$((SECONDS - start))
	passed=$(count PASS "$logfile") fails=$(count FAIL "$logfile") skipped=$(count SKIP "$logfile")
	line=$(printf 'Debian %-8s GnuTLS %-6s %4d passed %3d failed %3d skipped  %dm%02ds' \
		"$DEBIAN_CODENAME" "$version" "$passed" "$fails" "$skipped" $((took / 60)) $((took % 60)))
	if [ "$rc" != 0 ]; then
		failed=1
		line+="  FAILED (make test exit $rc)"
		grep -E "^ *--- FAIL: |^FAIL|^panic: " "$logfile" | head -n 40 >&2 || true
	fi
	summary+=("$line")
	log "$line"
done

printf '%s\n' "${summary[@]}"
exit "$failed"
