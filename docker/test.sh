#!/usr/bin/env bash
# Integration tests across containers on a private network with TCP Fast Open
# enabled in each: gnutls-serv --echo in one, the gnutls-cli-go image ($IMAGE)
# in the others. Everything made here is removed on exit.
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"

SUBNET=${DOCKER_TEST_SUBNET:-198.19.77.0/24}
SERVER_IP=${SUBNET%.*}.10
HOST=server.test
PORT=5556
RUN=go-gnutls-test-$(date +%s)-$$
SERVER_IMAGE=go-gnutls-test/gnutls-serv:$RUN
NET_OPTS=(--network "$RUN" --sysctl net.ipv4.tcp_fastopen=1027) # 0x403: client, server without setsockopt

start_dockerd
docker image inspect "$IMAGE" >/dev/null 2>&1 || die "$IMAGE is missing (make docker)"
ensure_base "$BASE_IMAGE"
work=$(mktemp -d) && chmod 755 "$work" # mounted in the containers
defer rm -rf "$work"

# quiet CMD...: runs CMD, showing its output only when it fails.
quiet() { "$@" >"$work/quiet.log" 2>&1 || { cat "$work/quiet.log" >&2; return 1; }; }

log "setting up $RUN: network $SUBNET, server image, certificates, containers"
defer docker rmi "$SERVER_IMAGE"
quiet docker build --force-rm --network host --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$SERVER_IMAGE" - <"$ROOT/docker/gnutls-serv.Dockerfile"
defer docker network rm "$RUN"
quiet docker network create --subnet "$SUBNET" "$RUN"

# A CA with the server's certificate, and an unrelated CA.
# shellcheck disable=SC2016 # the script expands its own arguments
quiet docker run --rm -v "$work:/certs" -w /certs "$SERVER_IMAGE" sh -ec '
	ca() {
		certtool -p --outfile "$1.key"
		printf "cn = %s\nca\ncert_signing_key\nexpiration_days = 1\n" "$2" >"$1.tmpl"
		certtool -s --load-privkey "$1.key" --template "$1.tmpl" --outfile "$1.pem"
	}
	ca ca "go-gnutls test CA"
	ca other-ca "unrelated CA"
	certtool -p --outfile server.key
	printf "cn = %s\ndns_name = %s\nip_address = %s\ntls_www_server\nexpiration_days = 1\n" "$1" "$1" "$2" >server.tmpl
	certtool -c --load-privkey server.key --load-ca-certificate ca.pem --load-ca-privkey ca.key \
		--template server.tmpl --outfile server.pem
	chmod a+r ./*' sh "$HOST" "$SERVER_IP"

defer docker rm -f "$RUN-server"
quiet docker run -d --name "$RUN-server" "${NET_OPTS[@]}" --ip "$SERVER_IP" -v "$work:/certs:ro" "$SERVER_IMAGE" \
	gnutls-serv --echo -p "$PORT" --disable-client-cert --x509certfile /certs/server.pem --x509keyfile /certs/server.key
tries=0
until docker exec "$RUN-server" bash -c "</dev/tcp/127.0.0.1/$PORT" 2>/dev/null; do
	((++tries < 30)) || die "gnutls-serv is not listening: $(docker logs "$RUN-server" 2>&1)"
	sleep 1
done

CLIENT_OPTS=("${NET_OPTS[@]}" --add-host "$HOST:$SERVER_IP" -v "$work:/certs:ro")
defer docker rm -f "$RUN-client"
quiet docker run -d --name "$RUN-client" "${CLIENT_OPTS[@]}" --entrypoint sleep "$IMAGE" infinity

# cli NAME WHERE CA [OPTION...]: runs gnutls-cli-go against the server with the
# CA file, in the long-lived client container (WHERE=exec) or in a new one
# (WHERE=run); input from $work/NAME.in if any, output in $work/NAME.out and
# NAME.err, exit code in $rc.
cli() {
	local name=$1 where=$2 ca=$3 cmd
	shift 3
	case $where in
	exec) cmd=(timeout 60 docker exec -i "$RUN-client" gnutls-cli-go) ;;
	run)
		defer docker rm -f "$RUN-$name"
		cmd=(timeout 60 docker run --rm -i --name "$RUN-$name" "${CLIENT_OPTS[@]}" "$IMAGE")
		;;
	esac
	[ -f "$work/$name.in" ] || : >"$work/$name.in"
	rc=0
	"${cmd[@]}" --x509cafile "/certs/$ca.pem" -p "$PORT" "$@" "$HOST" \
		<"$work/$name.in" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
}

fail() {
	printf 'FAIL %s: %s\n' "$1" "$2" >&2
	for f in out err; do printf -- '--- std%s:\n' "$f" >&2 && cat "$work/$1.$f" >&2; done
	exit 1
}
# expect NAME RC TEXT...: the exit code is RC and the session report (stderr) has each TEXT.
expect() {
	local name=$1 want=$2 text
	shift 2
	[ "$rc" = "$want" ] || fail "$name" "exit code $rc, want $want"
	for text; do grep -qF -- "$text" "$work/$name.err" || fail "$name" "no '$text' on stderr"; done
	log "ok: $name"
}
# counter CONTAINER NAME: a TcpExt counter of the container's network namespace.
counter() {
	docker exec "$1" cat /proc/net/netstat |
		awk -v k="$2" '$1 == "TcpExt:" { if (!n) n = split($0, h); else for (i = 2; i <= n; i++) if (h[i] == k) print $i }'
}

printf 'ping over TLS\n' >"$work/echo.in"
cli echo run ca
cmp -s "$work/echo.in" "$work/echo.out" || fail echo "stdout is not the echoed input"
expect echo 0 '- Handshake was completed' '- Status: The certificate is trusted.'

cli tfo-first exec ca --fastopen
expect tfo-first 0 '- TCP Fast Open: requested, not used'
cli tfo-second exec ca --fastopen
expect tfo-second 0 '- TCP Fast Open: used, the ClientHello travelled in the SYN'
active=$(counter "$RUN-client" TCPFastOpenActive) passive=$(counter "$RUN-server" TCPFastOpenPassive)
counters="client TCPFastOpenActive=$active, server TCPFastOpenPassive=$passive"
if [ "$active" -ge 1 ] && [ "$passive" -ge 1 ]; then log "ok: kernel counters: $counters"; else fail tfo-second "$counters"; fi

cli resume exec ca -r
expect resume 0 '*** This is a resumed session'

cli wrong-ca run other-ca
expect wrong-ca 1 'issuer is unknown'
last=$(tail -n 1 "$work/wrong-ca.err")
[[ $last == *'issuer is unknown'* ]] || fail wrong-ca "the last line does not say why: $last"

uid=$(docker exec "$RUN-client" id -u)
[ "$uid" != 0 ] || die "the image runs as root"
log "ok: runs as uid $uid"
log "all checks passed"
