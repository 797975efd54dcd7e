# shellcheck shell=bash
# Shared by docker/build.sh and docker/test.sh: cleanup on exit, the Docker
# daemon, and the base images (local stand-ins when they cannot be pulled).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-go}
IMAGE=${IMAGE:-go-gnutls/gnutls-cli-go:dev}
DOCKERD_LOG=${DOCKERD_LOG:-/tmp/go-gnutls-dockerd.log}
DOCKERD_PID=
export DOCKER_BUILDKIT=0 # the classic builder uses local base images without asking a registry

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# defer CMD ARGS...: run the command on exit, in reverse order of registration.
CLEANUP=()
defer() { local c; printf -v c '%q ' "$@"; CLEANUP+=("$c"); }
run_cleanup() {
	local i
	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[i]}" >/dev/null 2>&1 || true; done
}
trap run_cleanup EXIT
trap 'exit 130' INT TERM

# The Debian release the images are built on: DEBIAN is its number or
# codename (12 or bookworm, the default; 13 or trixie).
debian_codename() {
	case $1 in
	12 | bookworm) echo bookworm ;;
	13 | trixie) echo trixie ;;
	*) die "DEBIAN=$1: 12 (bookworm) or 13 (trixie)" ;;
	esac
}
DEBIAN_CODENAME=$(debian_codename "${DEBIAN:-12}")

# Base image names: the defaults of the Dockerfile's ARGs (one source of
# truth), which name bookworm, with the release's codename in its place.
dockerfile_arg() { sed -n "s/^ARG $1=//p" "$ROOT/Dockerfile" | sed "s/bookworm/$DEBIAN_CODENAME/"; }
GO_IMAGE=${GO_IMAGE:-$(dockerfile_arg GO_IMAGE)}
BASE_IMAGE=${BASE_IMAGE:-$(dockerfile_arg BASE_IMAGE)}

# Uses the running daemon, or starts one that is stopped on exit: with the
# default storage driver, else vfs. When iptables does not work, dockerd runs
# without it and bridged traffic bypasses iptables (no rules to let it through).
start_dockerd() {
	docker info >/dev/null 2>&1 && return
	local args opts=() driver nf=/proc/sys/net/bridge/bridge-nf-call-iptables
	if ! iptables -t nat -nL >/dev/null 2>&1; then
		opts+=(--iptables=false)
		if [ -w "$nf" ]; then
			defer write_file "$nf" "$(cat "$nf")"
			write_file "$nf" 0
		fi
	fi
	defer stop_dockerd
	for driver in "" vfs; do
		args=(${driver:+--storage-driver="$driver"} "${opts[@]}")
		log "starting dockerd${args[*]:+ ${args[*]}} (log: $DOCKERD_LOG)"
		# In its own session: Ctrl-C or a timeout's signal to our process group
		# must leave it running until the cleanup has used it.
		setsid dockerd "${args[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
		DOCKERD_PID=$!
		if wait_dockerd && storage_works; then return; fi
		stop_dockerd
	done
	die "dockerd does not work, see $DOCKERD_LOG"
}

write_file() { printf '%s\n' "$2" >"$1"; }

wait_dockerd() {
	local _
	for _ in $(seq 60); do
		docker info >/dev/null 2>&1 && return
		kill -0 "$DOCKERD_PID" 2>/dev/null || return 1
		sleep 1
	done
	return 1
}

stop_dockerd() {
	[ -n "$DOCKERD_PID" ] || return 0
	kill "$DOCKERD_PID" 2>/dev/null || true
	wait "$DOCKERD_PID" || true
	DOCKERD_PID=
}

# Imports an empty layer and mounts a container on it: what the driver needs from the kernel.
storage_works() {
	local img=go-gnutls-probe:$$ id ok=1
	tar -cf - -T /dev/null | docker import - "$img" >/dev/null || return 1
	id=$(docker create "$img" probe) && docker cp /etc/hostname "$id:/probe" && ok=0
	[ -z "$id" ] || docker rm "$id" >/dev/null
	docker rmi "$img" >/dev/null
	return "$ok"
}

# build_context: CONTEXT becomes a temporary copy of the working tree
# (removed on exit) with the Go modules vendored into it, so that nothing is
# downloaded in a container.
build_context() {
	CONTEXT=$(mktemp -d)
	defer rm -rf "$CONTEXT"
	tar -C "$ROOT" --exclude=./.git --exclude=./bin --exclude=./vendor -c . | tar -C "$CONTEXT" -x
	(cd "$ROOT" && "$GO" mod vendor -o "$CONTEXT/vendor")
}

# The files that exist, each followed by an empty line (deb822 stanzas end there).
cat_files() {
	local f
	for f; do if [ -f "$f" ]; then cat "$f" && echo; fi; done
}

# "URI SUITE" of each enabled Debian source of apt for CODENAME (one-line
# and deb822 formats). This machine's sources name its own release: another
# release comes from the same mirrors, under its own suite names.
debian_sources() {
	local codename=$1 host
	host=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$host" ] || die "no VERSION_CODENAME in /etc/os-release"
	{
		cat_files /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
			awk '$1 == "deb" { sub(/^deb[ \t]+(\[[^]]*\][ \t]+)?/, ""); if (/[ \t]main([ \t]|$)/) print $1, $2 }'
		cat_files /etc/apt/sources.list.d/*.sources | awk -v RS= '{
			delete f; n = split($0, line, "\n")
			for (i = 1; i <= n; i++) if (line[i] !~ /^#/ && match(line[i], /:[ \t]*/))
				f[tolower(substr(line[i], 1, RSTART - 1))] = substr(line[i], RSTART + RLENGTH)
			if (f["enabled"] == "no" || f["types"] !~ /(^| )deb( |$)/ || f["components"] !~ /(^| )main( |$)/) next
			nu = split(f["uris"], u, " "); ns = split(f["suites"], s, " ")
			for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
		}'
	} | awk -v h="$host" -v c="$codename" '$2 ~ "^" h "(-updates|-security)?$" { sub("^" h, c, $2); print }' | sort -u
}

# Makes sure IMAGE exists: present, pulled, or built here as a stand-in.
ensure_base() {
	docker image inspect "$1" >/dev/null 2>&1 && return
	timeout 120 docker pull -q "$1" >/dev/null 2>&1 && return
	log "$1 cannot be pulled: building a local stand-in"
	case $1 in
	golang:*) standin_golang "$1" ;;
	*) standin_debian "$1" "$DEBIAN_CODENAME" ;;
	esac
}

# standin_debian IMAGE CODENAME: Debian CODENAME (minbase) from the mirror apt
# uses, with apt's Debian sources for that release.
standin_debian() {
	local codename=$2 sources mirror root
	sources=$(debian_sources "$codename")
	mirror=$(awk -v c="$codename" '$2 == c { print $1; exit }' <<<"$sources")
	[ -n "$mirror" ] || die "no Debian mirror in the apt sources"
	root=$(mktemp -d)
	defer rm -rf "$root"
	debootstrap --variant=minbase "$codename" "$root" "$mirror" >"$root.log" 2>&1 ||
		die "debootstrap failed, see $root.log"
	rm -f "$root.log"
	awk '{ print "deb", $1, $2, "main" }' <<<"$sources" >"$root/etc/apt/sources.list"
	# As in the official slim images: apt keeps no caches, dpkg installs no documentation.
	cat >"$root/etc/apt/apt.conf.d/docker-clean" <<-'EOF'
		DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
		APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
		Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
	EOF
	printf 'path-exclude /usr/share/%s/*\n' doc info locale man >"$root/etc/dpkg/dpkg.cfg.d/docker"
	echo 'path-include /usr/share/doc/*/copyright' >>"$root/etc/dpkg/dpkg.cfg.d/docker"
	rm -rf "${root:?}"/usr/share/{info,locale,man}/*
	find "$root/usr/share/doc" -type f ! -name copyright -delete
	tar -C "$root" --exclude='./dev/*' --exclude='./var/cache/apt/*.bin' \
		--exclude='./var/cache/apt/archives/*.deb' --exclude='./var/lib/apt/lists/*' -c . |
		docker import --change 'CMD ["bash"]' - "$1" >/dev/null
}

# The Debian stand-in with a C toolchain, libgnutls28-dev and this machine's Go.
standin_golang() {
	ensure_base "$BASE_IMAGE"
	image_with_go "$1" "gcc libc6-dev pkg-config libgnutls28-dev"
}

# image_with_go IMAGE PACKAGES: BASE_IMAGE with the Debian PACKAGES and this
# machine's Go in /usr/local/go; cached by the builder until either changes.
image_with_go() {
	docker build --force-rm --network host -t "$1" -f - "$("$GO" env GOROOT)" <<-EOF
		FROM $BASE_IMAGE
		RUN apt-get update && apt-get install -y --no-install-recommends $2 && rm -rf /var/lib/apt/lists/*
		COPY . /usr/local/go
		ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	EOF
}
