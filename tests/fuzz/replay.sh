#!/bin/sh
# replay.sh — `make check` without --enable-fuzzing: every harness of
# tests/fuzz/ runs once over each of its seeds (seeds.txt) with the plain
# driver (standalone.c), under whatever sanitizers the build has. A seed
# that crashes or trips a sanitizer fails. TAP: one line per harness.
set -u
: "${FUZZ_BUILD:=$(pwd)}" "${FUZZ_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
n=0
failed=0
while read -r name paths; do
    case $name in '#'* | '') continue ;; esac
    n=$((n + 1))
    args=""
    for p in $paths; do args="$args $FUZZ_SRC/$p"; done
    log="$FUZZ_BUILD/tests/fuzz/$name.replay.log"
    # shellcheck disable=SC2086
    if "$FUZZ_BUILD/tests/fuzz/$name" $args >"$log" 2>&1; then
        echo "ok $n - $name replays its $(grep -c '^ok' "$log") seeds"
    else
        failed=$((failed + 1))
        echo "not ok $n - $name failed on its seeds (log: $log)"
        tail -n 20 "$log" | sed 's/^/# /'
    fi
done < "$FUZZ_SRC/tests/fuzz/seeds.txt"
echo "1..$n"
[ $failed -eq 0 ]
