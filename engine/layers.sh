#!/bin/sh
# layers.sh ENGINE_DIR LAYER... — the include rule of the engine's layers.
#
# LAYERs are given lowest first (engine/engine.am's ENGINE_LAYERS). A file
# in engine/<layer>/ may include "<other>/x.h" only when <other> is its own
# layer or one listed before it. Every violation is printed as
# file:line: message, and the exit status is 1 when there was any.
set -u
dir=$1
shift
rank() { # rank LAYER -> its position, or nothing
    i=0
    for l in $ORDER; do
        [ "$l" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
}
ORDER="$*"
bad=0
for layer in $ORDER; do
    mine=$(rank "$layer")
    for f in "$dir/$layer"/*.c "$dir/$layer"/*.h; do
        [ -f "$f" ] || continue
        # every quoted include of the form "layer/file.h"
        out=$(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z]*/' "$f" |
            sed 's/^\([0-9]*\):.*"\([a-z]*\)\/\([^"]*\)".*/\1 \2 \3/')
        [ -n "$out" ] || continue
        while read -r line inc file; do
            [ "$inc" = sluice ] && continue # the public plugin header
            theirs=$(rank "$inc")
            if [ -z "$theirs" ]; then
                echo "$f:$line: includes \"$inc/$file\": $inc is not an engine layer" >&2
                bad=1
            elif [ "$theirs" -gt "$mine" ]; then
                echo "$f:$line: layer $layer includes \"$inc/$file\" from the higher layer $inc" \
                    "(layers, lowest first: $ORDER)" >&2
                bad=1
            fi
        done <<EOT
$out
EOT
    done
done
exit $bad
