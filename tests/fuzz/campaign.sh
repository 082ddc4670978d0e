#!/bin/sh
# campaign.sh — `make fuzz-smoke` / `make fuzz-long` (./configure CC=clang
# --enable-fuzzing): runs every libFuzzer harness for FUZZ_SECONDS, two at
# a time (FUZZ_JOBS), from a copy of its seeds, and prints per harness the
# executions, the coverage reached, and whether the functions its header
# names ("Reaches:") were covered. Fails on a crash, a sanitizer report, a
# leak, or a named function left uncovered. Crash inputs are kept in
# fuzz-out/<harness>/ (and corpora there, for the next campaign).
set -u
: "${FUZZ_BUILD:?}" "${FUZZ_SRC:?}" "${FUZZ_SECONDS:=30}" "${FUZZ_JOBS:=2}"
out="$FUZZ_BUILD/fuzz-out"
mkdir -p "$out"

# run NAME: one campaign; writes $out/NAME/result (one summary line).
run() {
    name=$1
    dir="$out/$name"
    mkdir -p "$dir/corpus"
    paths=$(awk -v n="$name" '$1 == n { $1 = ""; print }' "$FUZZ_SRC/tests/fuzz/seeds.txt")
    for p in $paths; do
        if [ -d "$FUZZ_SRC/$p" ]; then
            find "$FUZZ_SRC/$p" -maxdepth 1 -type f -exec cp {} "$dir/corpus/" \;
        else
            cp "$FUZZ_SRC/$p" "$dir/corpus/"
        fi
    done
    (cd "$dir" && "$FUZZ_BUILD/tests/fuzz/$name" -max_total_time="$FUZZ_SECONDS" \
        -print_final_stats=1 -print_coverage=1 -timeout=25 -rss_limit_mb=2048 \
        -artifact_prefix="$dir/" corpus >"$dir/log" 2>&1)
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -n 1 | cut -d' ' -f2)
    missing=""
    for f in $(awk '/Reaches:/ { on = 1 } on { print } on && /\*\// { exit }' \
                   "$FUZZ_SRC/tests/fuzz/$name.c" | sed 's/.*Reaches://; s/\*\///; s/[*,.]/ /g'); do
        grep -q "^COVERED_FUNC: .* $f " "$dir/log" || missing="$missing $f"
    done
    verdict=ok
    [ $rc -eq 0 ] || verdict="FAILED (exit $rc; see $dir/log)"
    [ -z "$missing" ] || verdict="$verdict; not reached:$missing"
    printf '%-14s %12s execs  cov %6s  %s\n' "$name" "${execs:-?}" "${cov:-?}" "$verdict" \
        > "$dir/result"
}

set -- $FUZZ_HARNESSES
while [ $# -gt 0 ]; do
    pids=""
    i=0
    while [ $# -gt 0 ] && [ $i -lt "$FUZZ_JOBS" ]; do
        run "$(basename "$1")" &
        pids="$pids $!"
        shift
        i=$((i + 1))
    done
    for p in $pids; do wait "$p"; done
done

echo "fuzz campaign: ${FUZZ_SECONDS}s per harness"
bad=0
for h in $FUZZ_HARNESSES; do
    r="$out/$(basename "$h")/result"
    cat "$r"
    grep -q ' ok$' "$r" || bad=$((bad + 1))
done
echo "$bad harness(es) failed"
[ $bad -eq 0 ]
