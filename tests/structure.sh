#!/bin/sh
# tests/structure.sh — the engine's structure, checked on the built objects
# (TAP). See docs/architecture.md.
#
# 1. Names: every symbol an engine module exports starts with its module's
#    prefix: the file's name (runstore.c -> runstore_*), or one of the
#    short forms in the table below, which docs/architecture.md lists too.
# 2. Layers: the include rule (engine/layers.sh) holds; it also runs on
#    every build, so this only proves the check itself still bites.
# 3. Threads: only the worker pool and the signal thread create threads.
# 4. Tests: no polled `test` reads a command substitution. The shell
#    expands the substitution once, before the first poll, so `eventually`
#    waits out its deadline on a stale value; a function that counts
#    (`eventually counted 1`) is polled afresh.
. "$top_srcdir/tests/lib.sh"

command -v nm >/dev/null 2>&1 || skip_all "nm (binutils) is not installed"

# module -> allowed prefixes (space-separated); the rest use "<module>_".
short_forms() {
    case $1 in
    alloc) echo "x" ;;
    strbuf) echo "sb_" ;;
    error) echo "sl_error_" ;;
    yamltree) echo "ydoc_ ynode_" ;;
    router) echo "route_" ;;
    s3_client) echo "s3_" ;;
    sns_verify) echo "sns_" ;;
    storage_open) echo "storage_open" ;;
    cmd_*) echo "$1" ;;
    main) echo "main" ;;
    *) echo "${1}_" ;;
    esac
}

ENGINE="$top_srcdir/engine"
for layer in util config net aws storage plugin core notify intake cli; do
    for src in "$ENGINE/$layer"/*.c; do
        mod=$(basename "$src" .c)
        if [ "$layer" = cli ]; then
            obj="$top_builddir/engine/cli/sluice-$mod.o"
        else
            obj="$top_builddir/engine/$layer/.libs/libsluice_${layer}_la-$mod.o"
        fi
        if [ ! -f "$obj" ]; then
            ok 1 "$layer/$mod: object $obj exists"
            continue
        fi
        prefixes=$(short_forms "$mod")
        bad=""
        # (names starting with "__" are the compiler's: ASan's __odr_asan.*)
        for sym in $(nm -g --defined-only "$obj" | awk '$3 !~ /^__/ {print $3}'); do
            fits=no
            for p in $prefixes; do
                case $sym in "$p"*) fits=yes ;; esac
            done
            [ $fits = yes ] || bad="$bad $sym"
        done
        is "${bad# }" "" "$layer/$mod.c: every exported name starts with $(echo "$prefixes" | sed 's/ / or /g')"
    done
done

# The include rule bites: a copy of the engine with one upward include.
mkdir -p "$TMP/engine"
cp -R "$ENGINE"/util "$ENGINE"/config "$TMP/engine/"
sh "$ENGINE/layers.sh" "$TMP/engine" util config
ok $? "layers.sh accepts the util and config layers as they are"
printf '#include "config/config.h"\n' >> "$TMP/engine/util/strbuf.h"
out=$(sh "$ENGINE/layers.sh" "$TMP/engine" util config 2>&1)
rc=$?
is "$rc" 1 "an upward include (util -> config) fails the check"
like "$out" "util/strbuf.h:[0-9]+: layer util includes \"config/config.h\" from the higher layer config" \
    "and says where"

# Threads are started by the one pool and the one signal thread only.
starters=$(grep -l 'pthread_create' "$ENGINE"/*/*.c | sed "s|$ENGINE/||" | sort | tr '\n' ' ')
is "$starters" "util/signals.c util/workers.c " "only util/workers.c and util/signals.c create threads"

# A polled `test` with a command substitution in its arguments.
stale=$(grep -n -E '(eventually|wait_until +[^ ]+) +(test|\[) [^;]*\$\(' \
            "$top_srcdir"/tests/*.sh "$top_srcdir"/tests/*/*.sh "$top_srcdir"/plugins/*/*.sh |
        sed "s|$top_srcdir/||")
is "$stale" "" "no polled test reads a value expanded once before the polling"
printf '%s test "$(count)" = 1\n' eventually > "$TMP/poll.sh"
grep -q -E '(eventually|wait_until +[^ ]+) +(test|\[) [^;]*\$\(' "$TMP/poll.sh"
ok $? "and the pattern catches one"

done_testing
