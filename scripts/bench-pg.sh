#!/usr/bin/env bash
# bench-pg.sh: one flightdeck Postgres tick vs one pg_activity 3.0.3 refresh,
# against the same real PostgreSQL (started by the benchmark itself), the
# same 500 sessions and the same role, in the same run. `make bench-pg`.
#
# Needs PostgreSQL server binaries ($PG_BIN_DIR or /usr/lib/postgresql/*/bin)
# and pg_activity's SQL (apt-get install pg-activity, or $PGACTIVITY_QUERIES).
# Without them the benchmarks skip, or fail under FLIGHTDECK_REQUIRE_SERVERS=1.
#
# Environment: COUNT (runs per benchmark, default 5), BENCHTIME (default 1s),
# BENCH_PG_STRICT=1 to exit non-zero when flightdeck costs more per tick than
# pg_activity per refresh.
set -euo pipefail
cd "$(dirname "$0")/.."

count=${COUNT:-5}
benchtime=${BENCHTIME:-1s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

go test -run '^$' -bench '^(BenchmarkFetch|BenchmarkPgActivityRefresh)$' \
	-benchmem -count "$count" -benchtime "$benchtime" ./sources/postgres/ | tee "$out"

if grep -q -- '--- SKIP' "$out" || ! grep -q '^BenchmarkFetch' "$out"; then
	echo "bench-pg: benchmarks skipped (no server or no pg_activity); nothing to compare" >&2
	exit 0
fi

# Median ns/op per benchmark (the -N GOMAXPROCS suffix stripped), then the
# ratio of every pg_activity variant to flightdeck's tick.
awk '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 2; i < NF; i++) if ($(i+1) == "ns/op") { v[name] = v[name] " " $i; n[name]++ }
		for (i = 2; i < NF; i++) if ($(i+1) == "allocs/op") allocs[name] = $i
		for (i = 2; i < NF; i++) if ($(i+1) == "roundtrips/op") rt[name] = $i
	}
	function median(s,   a, k, i, j, t) {
		k = split(s, a, " ")
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	END {
		fd = "BenchmarkFetch/sessions=500"
		if (!(fd in v)) { print "bench-pg: no flightdeck result"; exit 1 }
		f = median(v[fd])
		printf "\n%-52s %12s %8s %11s %s\n", "per tick / refresh (median of runs)", "ms/op", "allocs", "round trips", "flightdeck ÷ this"
		printf "%-52s %12.3f %8s %11s %s\n", "flightdeck Fetch, 500 sessions", f / 1e6, allocs[fd], rt[fd], "1.00"
		for (name in v) {
			if (name == fd) continue
			m = median(v[name]); label = name; sub(/^BenchmarkPgActivityRefresh\//, "pg_activity ", label)
			printf "%-52s %12.3f %8s %11s %.2f\n", label, m / 1e6, allocs[name], rt[name], f / m
			if (name == "BenchmarkPgActivityRefresh/activities") ref = m
		}
		if (ref == "") exit 0
		ratio = f / ref
		printf "\nratio flightdeck ÷ pg_activity (default activities refresh) = %.2f — %s\n", ratio,
			(ratio <= 1 ? "target met: a tick costs no more than a pg_activity refresh" : "TARGET MISSED: a tick costs more than a pg_activity refresh")
		if (ratio > 1 && ENVIRON["BENCH_PG_STRICT"] == "1") exit 2
	}
' "$out"

# The statements view against 5,000 statements (BenchmarkStatements): a tick
# with the view shown, beside the manual's query (13+ column names) and a
# read of every statement with its text.
sout=$(mktemp)
trap 'rm -f "$out" "$sout"' EXIT
go test -run '^$' -bench '^BenchmarkStatements$' -benchmem -count "$count" -benchtime "$benchtime" ./sources/postgres/ | tee "$sout"
awk '
	/^BenchmarkStatements\// {
		name = $1; sub(/-[0-9]+$/, "", name); sub(/^BenchmarkStatements\//, "", name)
		for (i = 2; i < NF; i++) if ($(i+1) == "ns/op") { v[name] = v[name] " " $i }
		for (i = 2; i < NF; i++) if ($(i+1) == "allocs/op") allocs[name] = $i
	}
	function median(s,   a, k, i, j, t) {
		k = split(s, a, " ")
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	END {
		if (!("manual-sql" in v)) exit 0
		ref = median(v["manual-sql"])
		printf "\n%-28s %12s %8s %s\n", "statements, 5,000 (median)", "ms/op", "allocs", "÷ manual query"
		for (name in v) printf "%-28s %12.3f %8s %.2f\n", name, median(v[name]) / 1e6, allocs[name], median(v[name]) / ref
	}
' "$sout"
