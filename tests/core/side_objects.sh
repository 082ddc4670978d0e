#!/bin/sh
# Side objects (plugin.h section 6): a failed job publishes none of them,
# nor its output, and leaves no temporary file; a name that is not one path
# segment, or equals the output's, fails the job. The success path is the
# tabular plugin's rejects (plugins/tabular/tabular_cli.sh).
. "$top_srcdir/tests/lib.sh"
make_workspace
add_rule '  - name: fail
    match: {bucket: in, prefix: fail/}
    plugin: failing
    options: {side: partial.rejects}
    output: "s3://out/x/{name}"'
add_rule '  - name: slash
    match: {bucket: in, prefix: slash/}
    plugin: failing
    options: {side: a/b}
    output: "s3://out/x/{name}"'
add_rule '  - name: same
    match: {bucket: in, prefix: same/}
    plugin: failing
    options: {side: partial.out}
    output: "s3://out/x/{name}"'
seq 100 > "$TMP/f"
for p in fail slash same; do put_object in "$p/a.txt" "$TMP/f"; done

err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/fail/a.txt 2>&1); is $? 1 "failing job: exit 1"
like "$err" 'failing on purpose' "the plugin's reason"
is "$(tree out)" "" "neither the side object nor the output is published, no temporary left"

err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/slash/a.txt 2>&1); is $? 1 "side name with a slash: exit 1"
like "$err" 'side object name "a/b" is not one path segment' "says why"
err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/same/a.txt 2>&1); is $? 1 "side name equal to the output's: exit 1"
like "$err" 'side object "partial.out" has the output.s name' "says why"
is "$(tree out)" "" "nothing published"
done_testing
