#!/usr/bin/env bash
# The sweep benchmark's figures as the README reports them (issue 12): RUNS runs of each
# schedule, alternating notebook and blocked (and, with BASE set to another build of the
# benchmark, alternating with that binary too, for an A/B comparison in the same minutes), one
# line a run, then the median of each column per binary and schedule (the lower middle value for
# an even number of runs).
#
# The host's noisy spells (the X_miss pass taking two to three times as long for tens of sweeps,
# see docs/performance-history.md) are marked: `spell` when that run's X_miss median is over 1.5
# times the smallest X_miss median of its binary and schedule, `part` when only its 90th
# percentile is. Report the spells; do not drop them.
#
# Usage: GIBBS_FA_DATA=../shared/data/mnist benches/figures.sh [RUNS]   (default 5; release
# build of `cargo bench --bench sweep`; SWEEP_COUNT as for the benchmark; BASE=path/to/binary).
# Runs on the calling shell; each run takes 5 to 10 s; needs nothing beyond bash, awk and cargo.
set -euo pipefail
runs=${1:-5}
cd "$(dirname "$0")/.."
bin=$(cargo bench --bench sweep --no-run 2>&1 | grep -o 'target/release/deps/sweep-[0-9a-f]*' | head -n 1)
if [ -z "$bin" ]; then
  echo "error: could not build or find the sweep benchmark" >&2
  exit 1
fi
binaries=("$bin")
if [ -n "${BASE:-}" ]; then
  binaries+=("$BASE")
fi
out=$(mktemp)
trap 'rm -f "$out" "$out.rows"' EXIT
echo "binary schedule run ratio floor_ms sweep_ms Z_ms W_ms X_miss_ms X_miss_p90_ms"
for run in $(seq 1 "$runs"); do
  for schedule in notebook blocked; do
    for b in "${binaries[@]}"; do
      SWEEP_SCHEDULE=$schedule "$b" --bench > "$out" 2>&1 || {
        echo "error: $b failed:" >&2
        tail -n 5 "$out" >&2
        exit 1
      }
      awk -v b="$(basename "$b")" -v s="$schedule" -v r="$run" '
        / ratio / && !/ratio_seq/ { ratio = $3 }
        / floor_ms / { floor = $3 }
        / sweep_ms / { sweep = $3 }
        /^step medians/ { gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Z") z = $(i + 1); if ($i == "W") w = $(i + 1); if ($i == "X_miss") x = $(i + 1) } }
        /^step p90s/ { gsub(",", ""); for (i = 1; i <= NF; i++) if ($i == "X_miss") x90 = $(i + 1) }
        END { print b, s, r, ratio, floor, sweep, z, w, x, x90 }' "$out"
    done
  done
done | tee "$out.rows"
echo
echo "medians (binary schedule: ratio floor_ms sweep_ms Z_ms W_ms X_miss_ms; spells marked above)"
awk '
  { key = $1 " " $2; n[key]++; for (c = 4; c <= 9; c++) v[key, c, n[key]] = $c
    if (!(key in best) || $9 < best[key]) best[key] = $9 }
  END {
    for (key in n) {
      line = key ":"
      for (c = 4; c <= 9; c++) {
        m = n[key]; delete a
        for (i = 1; i <= m; i++) a[i] = v[key, c, i]
        for (i = 2; i <= m; i++) { t = a[i]; j = i - 1; while (j > 0 && a[j] > t) { a[j + 1] = a[j]; j-- } a[j + 1] = t }
        line = line " " a[int((m + 1) / 2)]
      }
      print line
    }
  }' "$out.rows"
echo
echo "runs in a noisy spell:"
awk '
  { key = $1 " " $2; rows[NR] = $0; k[NR] = key; x[NR] = $9; x90[NR] = $10
    if (!(key in best) || $9 < best[key]) best[key] = $9 }
  END {
    found = 0
    for (i = 1; i <= NR; i++) {
      if (x[i] > 1.5 * best[k[i]]) { print "spell: " rows[i]; found = 1 }
      else if (x90[i] > 1.5 * best[k[i]]) { print "part:  " rows[i]; found = 1 }
    }
    if (!found) print "none"
  }' "$out.rows"
rm -f "$out.rows"
