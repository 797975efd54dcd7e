#!/bin/sh
# handshake-cost.sh: where a loopback handshake's cost goes, ours against
# the C program on GnuTLS (and crypto/tls for CPU). Needs root, perf
# (Debian linux-perf) and strace. Prints, per handshake:
#   - CPU time of both ends and context switches (perf stat), medians of
#     ROUNDS rounds (default 5) and of the per-round ratios,
#   - system calls by name (strace -c -f),
#   - calls into GnuTLS and nettle that differ between ours and C (uprobes
#     on libhogweed's ECDSA and X25519 functions and on libgnutls's
#     exported functions), to show whether GnuTLS does the same work.
set -eu
cd "$(dirname "$0")"
[ -x c/tlsbench ] || { echo "build bench/c/tlsbench first (make bench/c/tlsbench)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'perf probe -q -d "probe_lib*:*" 2>/dev/null || true; rm -rf "$tmp"' EXIT
go test -c -o "$tmp/bench.test" .
run() { "$tmp/bench.test" -test.run '^$' -test.bench "Handshake/$1\$" -test.benchtime "$2"; }
# -benchtime 1x runs one batch: 300 handshakes.
per=300

# CPU time varies with the load of a shared machine: each round runs
# every stack once, and the medians and the median of the per-round
# ratios are what to compare (ROUNDS, default 5).
rounds=${ROUNDS:-5}
echo "CPU and context switches per handshake, both ends (6 batches: 1,800 handshakes; medians of $rounds rounds):"
i=0
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	for s in ours c ours-blocking-session crypto-tls; do
		perf stat -x, -e task-clock,context-switches -o "$tmp/stat" -- sh -c "$(command -v "$tmp/bench.test") -test.run '^\$' -test.bench 'Handshake/$s\$' -test.benchtime 5x >/dev/null"
		awk -F, -v s="$s" -v r="$i" '/task-clock/ {t = $1} /context-switches/ {c = $1} END {printf "%s %s %.4f %.2f\n", r, s, t / 1800, c / 1800}' "$tmp/stat"
	done
done >"$tmp/rounds"
awk '
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ cpu[$2] = cpu[$2] " " $3; cs[$2] = cs[$2] " " $4; r[$1, $2] = $3; if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } }
	END {
		for (i = 1; i <= k; i++) printf "  %-22s %.3f ms CPU  %.1f context switches\n", order[i], median(cpu[order[i]]), median(cs[order[i]])
		for (i = 1; i <= k; i++) {
			if (order[i] == "ours") continue
			s = ""
			for (key in r) { split(key, p, SUBSEP); if (p[2] == "ours") s = s " " r[key] / r[p[1], order[i]] }
			printf "  CPU ours / %-22s %.3f (median of per-round ratios)\n", order[i], median(s)
		}
	}' "$tmp/rounds"

echo "system calls per handshake (ours | C):"
for s in ours c; do
	strace -f -c -o "$tmp/strace.$s" "$tmp/bench.test" -test.run '^$' -test.bench "Handshake/$s\$" -test.benchtime 1x >/dev/null
	awk -v n=$per 'NR > 2 && $NF != "total" && $NF !~ /^-/ {c = ($4 ~ /^[0-9]+$/) ? $4 : $3; printf "%s %.1f\n", $NF, c / n}' "$tmp/strace.$s" | sort > "$tmp/sys.$s"
done
join -a1 -a2 -e0 -o 0,1.2,2.2 "$tmp/sys.ours" "$tmp/sys.c" | awk '$2 >= 0.5 || $3 >= 0.5 {printf "  %-14s %6s | %s\n", $1, $2, $3} {a += $2; b += $3} END {printf "  %-14s %6.1f | %.1f\n", "all", a, b}'

echo "calls into GnuTLS and nettle that differ, per handshake, both ends (ours | C):"
hogweed=$(ldconfig -p | awk '/libhogweed.so.6 .*x86-64/ {print $NF; exit}')
gnutls=$(ldconfig -p | awk '/libgnutls.so.30 .*x86-64/ {print $NF; exit}')
for f in nettle_ecdsa_sign nettle_ecdsa_verify nettle_curve25519_mul nettle_curve25519_mul_g; do
	perf probe -q -x "$hogweed" "$f"
done
nm -D --defined-only "$gnutls" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | grep '^gnutls_' | while read -r f; do
	perf probe -q -x "$gnutls" "$f" 2>/dev/null || true
done
for s in ours c; do
	perf stat -x, -e 'probe_lib*:*' -o "$tmp/probe" -- "$tmp/bench.test" -test.run '^$' -test.bench "Handshake/$s\$" -test.benchtime 1x >/dev/null
	awk -F, -v n=$per '$1 + 0 > 0 {sub(/.*:/, "", $3); c[$3] += $1} END {for (f in c) printf "%s %.2f\n", f, c[f] / n}' "$tmp/probe" | sort > "$tmp/calls.$s"
done
join -a1 -a2 -e0 -o 0,1.2,2.2 "$tmp/calls.ours" "$tmp/calls.c" | awk '$2 != $3 {printf "  %-48s %6s | %s\n", $1, $2, $3}'
echo "same in both:"
join -o 0,1.2 "$tmp/calls.ours" "$tmp/calls.c" | awk '$1 ~ /^nettle_/ || $1 ~ /crt_import$|verify_crt2$|privkey_sign/' | awk '{printf "  %-48s %6s\n", $1, $2}'
