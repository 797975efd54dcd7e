#!/bin/sh
# cpu-rounds.sh ROUNDS BENCHMARK...: runs each named benchmark of bench/
# (such as PingPong/ours) alone in its own process, ROUNDS times over, each
# once per round, and prints the CPU time (user and system, from wait4:
# the C programs the "c" benchmarks start count too) of every run, the
# medians over the rounds and the medians of the per-round ratios of the
# first benchmark to each other. The benchmarks of one call do the same
# work, so the ratios are ratios of CPU time per operation; on a shared
# machine they are steadier than the wall-clock figures of rounds.sh.
# Extra go test flags come from BENCHFLAGS (default -benchtime=5x).
set -eu
rounds=${1:?rounds}
shift
cd "$(dirname "$0")"
. ./median.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go test -c -o "$dir/bench.test" .
i=0
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	for b in "$@"; do
		/usr/bin/time -f '%U %S' -o "$dir/cpu" "$dir/bench.test" -test.run '^$' \
			-test.bench "^Benchmark$(echo "$b" | sed 's|/|$/^|')\$" ${BENCHFLAGS:--test.benchtime=5x} >"$dir/out"
		grep -q '^Benchmark' "$dir/out" || { cat "$dir/out" >&2; exit 1; }
		echo "$i $b $(awk '{ print $1 + $2 }' "$dir/cpu")"
	done
done | tee /dev/stderr | awk -v first="$1" "$MEDIAN"'
	{ v[$2] = v[$2] " " $3; round[$1 SUBSEP $2] = $3; names[$2] = 1; rs[$1] = 1 }
	END {
		print "median CPU seconds over rounds:"
		for (n in names) printf "  %-30s %8.2f\n", n, median(v[n])
		print "median of per-round ratios of CPU time:"
		for (o in names) {
			if (o == first) continue
			s = ""
			for (r in rs) if ((r SUBSEP first) in round && (r SUBSEP o) in round) s = s " " round[r SUBSEP first] / round[r SUBSEP o]
			printf "  %-30s %6.3f\n", first " / " o, median(s)
		}
	}'
