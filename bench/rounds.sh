#!/bin/sh
# rounds.sh ROUNDS PATTERN: runs the bench/ benchmarks matching PATTERN
# ROUNDS times over, every stack once per round, so that a machine that
# slows down or speeds up during the run affects all stacks alike. Prints
# every round, then each benchmark's median over the rounds and, per
# benchmark group, the median of the per-round ratios of "ours" to the
# others. Extra go test flags come from BENCHFLAGS (default -benchtime=5x).
set -eu
rounds=${1:?rounds}
pattern=${2:?pattern}
cd "$(dirname "$0")"
. ./median.sh
bin=$(mktemp -d)/bench.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" .
i=0
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	"$bin" -test.run '^$' -test.bench "$pattern" ${BENCHFLAGS:--test.benchtime=5x} |
		awk -v r="$i" '/^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name); print r, name, $3, $4 }'
done | tee /dev/stderr | awk "$MEDIAN"'
	{ v[$2] = v[$2] " " $3; unit[$2] = $4; round[$1 SUBSEP $2] = $3; names[$2] = 1; rs[$1] = 1 }
	END {
		print "median over rounds:"
		for (n in names) printf "  %-50s %10.2f %s\n", n, median(v[n]), unit[n]
		print "median of per-round ratios, ours / other:"
		for (n in names) {
			if (n !~ /\/ours$/) continue
			g = n; sub(/\/ours$/, "", g)
			for (o in names) {
				if (o == n || index(o, g "/") != 1) continue
				s = ""
				for (r in rs) if ((r SUBSEP n) in round && (r SUBSEP o) in round) s = s " " round[r SUBSEP n] / round[r SUBSEP o]
				printf "  %-50s %6.3f\n", n " / " substr(o, length(g) + 2), median(s)
			}
		}
	}'
