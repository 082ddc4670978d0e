#!/bin/sh
# The CLI surface: --help everywhere, --version, exit codes for usage and
# configuration errors, config discovery order.
. "$top_srcdir/tests/lib.sh"

out=$("$SLUICE" --version); ok $? "--version exits 0"
like "$out" '^sluice [0-9]+\.[0-9]+\.[0-9]+ \(plugin ABI 1\)$' "--version prints version and ABI"

out=$("$SLUICE" --help); ok $? "--help exits 0"
for cmd in run process route validate plugins runs notify-test poll serve lambda watch; do
    like "$out" "  $cmd " "--help lists $cmd"
    h=$("$SLUICE" $cmd --help); ok $? "$cmd --help exits 0"
    like "$h" "^Usage: sluice $cmd" "$cmd --help prints its usage"
done

"$SLUICE" >/dev/null 2>&1; is $? 2 "no command: exit 2"
err=$("$SLUICE" frobnicate 2>&1); is $? 2 "unknown command: exit 2"
like "$err" 'unknown command "frobnicate"' "unknown command named"
err=$("$SLUICE" process --bogus x 2>&1); is $? 2 "unknown option: exit 2"
err=$("$SLUICE" --log-format xml process x 2>&1); is $? 2 "bad --log-format: exit 2"
like "$err" 'log-format must be text or json' "bad --log-format explained"

cd "$TMP"
err=$("$SLUICE" process x 2>&1); is $? 2 "missing ./sluice.yaml: exit 2"
like "$err" 'sluice.yaml' "missing config file named"

make_workspace
add_rule '  - name: all
    match: {bucket: "*"}
    plugin: linecount
    output: "s3://out/{key}"'
printf 'a\nb\n' > "$TMP/f.txt"
"$SLUICE" -q -c "$TMP/sluice.yaml" process "$TMP/f.txt" --output "$TMP/o1" >/dev/null; ok $? "-c FILE before the command"
"$SLUICE" -q process "$TMP/f.txt" --config "$TMP/sluice.yaml" --output "$TMP/o2" >/dev/null; ok $? "--config after the command"
SLUICE_CONFIG="$TMP/sluice.yaml" "$SLUICE" -q process "$TMP/f.txt" --output "$TMP/o3" >/dev/null; ok $? "SLUICE_CONFIG"
cp "$TMP/sluice.yaml" "$TMP/cwd.yaml"; mkdir -p "$TMP/cwd"; cp "$TMP/sluice.yaml" "$TMP/cwd/sluice.yaml"
sed -i "s|root: root|root: $TMP/root|" "$TMP/cwd/sluice.yaml"
(cd "$TMP/cwd" && "$SLUICE" -q process "$TMP/f.txt" --output "$TMP/o4" >/dev/null); ok $? "./sluice.yaml by default"
is "$(cat "$TMP/o4")" "$(printf 'a\nb')" "output written"

out=$("$SLUICE" -c "$TMP/sluice.yaml" route s3://anything/x/y.txt); ok $? "route: match exits 0"
like "$out" 'rule: all \(plugin linecount\)' "route names the rule"
like "$out" 'output: s3://out/x/y.txt' "route shows the output"

out=$("$SLUICE" -c "$TMP/sluice.yaml" plugins 2>&1)
like "$out" 'linecount 1\.0\.0' "plugins lists linecount with version"
like "$out" 'revenue [0-9]' "plugins lists revenue"
like "$out" 'badabi: cannot load: .*ABI version 99' "plugins reports the broken one"
out=$("$SLUICE" -c "$TMP/sluice.yaml" plugins --json 2>/dev/null)
printf '%s' "$out" | "$PYTHON3" -c 'import json,sys; d=json.load(sys.stdin); assert any(p["name"]=="revenue" and "properties" in p["options_schema"] for p in d)'
ok $? "plugins --json holds each schema"
done_testing
