#!/bin/sh
# Failure paths: a failing plugin publishes nothing and leaves no
# temporary file; one failed job does not stop the others; configuration
# problems are exit 2 with file:line:col; bad input fails the job (exit 1).
. "$top_srcdir/tests/lib.sh"
make_workspace
add_rule '  - name: fail
    match: {bucket: in, prefix: fail/}
    plugin: failing
    output: "s3://out/{name}"'
add_rule '  - name: failsilent
    match: {bucket: in, prefix: silent/}
    plugin: failing
    options: {silent: true}
    output: "s3://out/{name}"'
add_rule '  - name: revenue
    match: {bucket: in, prefix: hits/}
    plugin: revenue
    options: {max_bad_ratio: 0.01}
    output: "s3://out/{name}"'
add_rule '  - name: ok
    match: {bucket: in}
    plugin: linecount
    output: "s3://out/{key}"'
seq 1000 > "$TMP/big"
put_object in fail/a.txt "$TMP/big"
put_object in silent/a.txt "$TMP/big"
put_object in good/a.txt "$TMP/big"

err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/fail/a.txt 2>&1); is $? 1 "plugin failure: exit 1"
like "$err" 'job failed: failing on purpose after writing 20 bytes' "plugin's message reported"
like "$err" 'error_kind=plugin' "error kind plugin"
is "$(tree out)" "" "no output object, no temporary file"

err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/silent/a.txt 2>&1); is $? 1 "silent plugin failure: exit 1"
like "$err" 'plugin failing failed without giving a reason' "host supplies a message"

out=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/fail/a.txt s3://in/good/a.txt 2>"$TMP/log"); is $? 1 "batch with a failure: exit 1"
is "$out" "s3://out/good/a.txt" "the other job still ran"
is "$(tree out)" "good/a.txt" "only the good output exists"

err=$("$SLUICE" -c "$TMP/sluice.yaml" process "$TMP/big" --rule fail --output "$TMP/file-out/x" 2>&1); is $? 1 "file output: exit 1"
ok "$([ ! -e "$TMP/file-out/x" ] && [ -z "$(ls -A "$TMP/file-out" 2>/dev/null)" ]; echo $?)" "no file and no temporary left"

err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/good/missing.txt 2>&1); is $? 1 "missing object: exit 1"
like "$err" 'no such object' "missing object explained"
like "$err" 'error_kind=input' "error kind input"

# revenue: too many malformed lines fails the job, nothing published
{ printf 'hit_time_gmt\tip\tuser_agent\tevent_list\tproduct_list\treferrer\n'
  for i in 1 2 3 4 5 6 7 8 9; do printf '%s\t1.2.3.4\tua\t\t\thttp://x/\n' "$i"; done
  printf 'garbage line\n'; } > "$TMP/hits.tsv"
put_object in hits/h.tsv "$TMP/hits.tsv"
rm -rf "$TMP/root/out"
err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/hits/h.tsv 2>&1); is $? 1 "max_bad_ratio exceeded: exit 1"
like "$err" 'error_kind=input' "bad input is an input error"
is "$(tree out)" "" "no report published"

# configuration errors: exit 2 with file:line:col
make_workspace
add_rule '  - name: bad
    match: {bucket: in}
    plugin: failing
    options: {reject: true}
    output: "s3://out/{name}"'
err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/good/a.txt 2>&1); is $? 2 "init refusal: exit 2"
like "$err" 'sluice.yaml:[0-9]+:[0-9]+: .*rejected on purpose' "init refusal at file:line:col"
make_workspace
add_rule '  - name: abi
    match: {bucket: in}
    plugin: badabi
    output: "s3://out/{name}"'
err=$("$SLUICE" -c "$TMP/sluice.yaml" validate 2>&1); is $? 2 "ABI mismatch: validate exit 2"
like "$err" 'sluice.yaml:[0-9]+:[0-9]+: .*badabi.*ABI version 99' "ABI mismatch names the file, at file:line:col"
make_workspace
add_rule '  - name: missing
    match: {bucket: in}
    plugin: nosuchplugin
    output: "s3://out/{name}"'
err=$("$SLUICE" -c "$TMP/sluice.yaml" process s3://in/good/a.txt 2>&1); is $? 2 "unknown plugin: exit 2"
like "$err" 'cannot load plugin "nosuchplugin".*searched: ' "load failure gives lt_dlerror and the search path"
done_testing
