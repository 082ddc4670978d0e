#!/bin/sh
# bench/isolation_cost.sh — what `isolation: process` costs the revenue
# plugin: `sluice process` of one hits file with the rule's isolation none
# and process, alternated N times (so a change in the machine's load hits
# both alike). One line per run: mode, wall seconds, CPU seconds (user+sys
# of sluice and its children, the isolated child included), exit status.
# THREADS=N sets the plugin's `threads` option (default: the plugin's own).
#   SLUICE=./sluice HITS=bench/out/hits-1GB.tsv [N=5] [THREADS=1] [OUT=dir] sh bench/isolation_cost.sh
set -eu
: "${SLUICE:?}" "${HITS:?}"
N=${N:-5}
OUT=${OUT:-$(mktemp -d)}
options=""
[ -z "${THREADS:-}" ] || options="
    options: {threads: $THREADS}"
for mode in none process; do
    cat > "$OUT/$mode.yaml" <<YAML
storage: {type: local, root: "$OUT/root"}
runs: {enabled: false}
rules:
  - name: revenue
    match: {bucket: "*"}
    plugin: revenue
    isolation: $mode$options
    output: "$OUT/out-$mode/{name}"
YAML
done
i=0
while [ $i -lt "$N" ]; do
    i=$((i + 1))
    for mode in none process; do
        python3 - "$mode" "$SLUICE" -q -c "$OUT/$mode.yaml" process --rule revenue "$HITS" <<'PY'
import resource, subprocess, sys, time
t0 = time.perf_counter()
r = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%s %.3f %.3f rc=%d" % (sys.argv[1], t, ru.ru_utime + ru.ru_stime, r.returncode), flush=True)
PY
    done
done
