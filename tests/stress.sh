#!/bin/sh
# tests/stress.sh — `make check-stress`: the suite must not depend on how
# fast the machine is. After a build, the whole suite runs
#   3 times on one core:                    taskset -c 0 make check
#   3 times beside two CPU hogs (yes(1)):   make -j2 check
# then a summary line per run is printed; the exit status is 1 when any run
# failed. The hogs are started by this script and stopped by their PID.
# Every run's test-suite.log (and the logs of failed tests) is kept in
# stress/runN/ in the build tree (as *.log files, which git ignores).
#
# Run from the top of the build tree by `make check-stress` (MAKE is the
# make that called it). STRESS_RUNS (default 3) changes the runs per mode.
set -u
make=${MAKE:-make}
runs=${STRESS_RUNS:-3}
out=stress
# The inner runs pick their own parallelism: nothing from the caller's -j.
unset MAKEFLAGS MFLAGS GNUMAKEFLAGS

command -v taskset >/dev/null 2>&1 || { echo "check-stress: taskset (util-linux) is needed" >&2; exit 1; }

hogs=""
stop_hogs() {
    for p in $hogs; do kill "$p" 2>/dev/null; done
    for p in $hogs; do wait "$p" 2>/dev/null; done
    hogs=""
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM HUP

rm -rf "$out"
mkdir -p "$out"

# counts: "PASSED FAILED" from test-suite.log (XFAIL passes; ERROR and
# XPASS fail).
counts() {
    f=test-suite.log
    [ -f "$f" ] || { echo "0 1"; return; }
    n() { sed -n "s/^# $1: *//p" "$f" | head -1; }
    p=$(n PASS) x=$(n XFAIL) fl=$(n FAIL) e=$(n ERROR) xp=$(n XPASS)
    echo "$(( ${p:-0} + ${x:-0} )) $(( ${fl:-0} + ${e:-0} + ${xp:-0} ))"
}

summary=""
failed_runs=0
total=0
run() { # run LABEL COMMAND...
    label=$1; shift
    total=$((total + 1))
    dir="$out/run$total"
    mkdir -p "$dir"
    rm -f test-suite.log
    echo "=== check-stress run $total/$((2 * runs)): $label ($(date -u +%H:%M:%S))"
    t0=$(date +%s)
    "$@" >"$dir/make.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - t0 ))
    set -- $(counts)
    passed=$1 failures=$2
    [ -f test-suite.log ] && cp test-suite.log "$dir/"
    # the logs of the tests that did not pass
    grep -l -E '^(FAIL|ERROR|XPASS)' tests/*/*.log plugins/*/*.log 2>/dev/null |
        while read -r l; do cp "$l" "$dir/$(printf '%s' "$l" | tr / _)"; done
    if [ "$rc" -eq 0 ] && [ "$failures" -eq 0 ] && [ "$passed" -gt 0 ]; then verdict=PASS; else
        verdict=FAIL; failed_runs=$((failed_runs + 1))
        grep -E '^(FAIL|ERROR|XPASS):' "$dir/make.log" | head -20 | sed 's/^/    /'
    fi
    line=$(printf 'run %d  %-40s %s  %5d passed  %3d failed  %4d s' \
        "$total" "$label" "$verdict" "$passed" "$failures" "$secs")
    echo "$line"
    summary="$summary$line
"
}

echo "=== check-stress: building"
"$make" check TESTS= >"$out/build.log" 2>&1 || {
    echo "check-stress: the build failed (see $out/build.log)"; tail -20 "$out/build.log"; exit 1; }

i=0
while [ $i -lt "$runs" ]; do
    run "one core: taskset -c 0 make check" taskset -c 0 "$make" check
    i=$((i + 1))
done

yes >/dev/null &
hogs="$hogs $!"
yes >/dev/null &
hogs="$hogs $!"
i=0
while [ $i -lt "$runs" ]; do
    run "two CPU hogs + make -j2 check" "$make" -j2 check
    i=$((i + 1))
done
stop_hogs

echo
echo "check-stress summary ($(nproc 2>/dev/null || echo '?') CPUs; logs in $out/):"
printf '%s' "$summary" | sed 's/^/  /'
if [ "$failed_runs" -eq 0 ]; then
    echo "check-stress: all $total runs passed"
    exit 0
fi
echo "check-stress: $failed_runs of $total runs FAILED"
exit 1
