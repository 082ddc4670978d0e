#!/bin/sh
# `sluice plugins check` and `sluice plugins run` through the CLI: every
# option, and every violation check detects, on the plugins of
# tests/plugins/ made to break one rule each.
. "$top_srcdir/tests/lib.sh"

P="$top_builddir/tests/plugins"
LC="$top_builddir/plugins/linecount.la"
printf 'one\ntwo\nthree\n' > "$TMP/in.txt"
export TMPDIR="$TMP"   # the adhoc working directories go here, to be seen gone

check() { # check PLUGIN [ARGS]: stdout in $out, status in $rc
    out=$("$SLUICE" -q plugins check "$@" 2>"$TMP/check.err"); rc=$?
}

# --- a plugin that keeps the contract ------------------------------------
check "$LC" --input "$TMP/in.txt"
is "$rc" 0 "linecount keeps the contract"
like "$out" '^ok   exports +sluice_plugin_descriptor only' "exports: the descriptor only (read from the .so behind the .la)"
like "$out" '^ok   load +linecount 1\.0\.0, plugin ABI version 1' "load: name, version, ABI version"
like "$out" '^ok   options schema +valid' "schema valid"
like "$out" '^ok   options +\{"mode":"count","suffix":"\.lines"\} \(the schema.s examples\[0\]\)' "example options from the schema's examples"
like "$out" '^ok   init' "init accepted them"
like "$out" '^ok   empty input +SUCCEEDED, 0 bytes in' "empty input"
like "$out" '^ok   input +SUCCEEDED, 14 bytes in, 2 bytes out' "--input run (mode count: \"3\\n\")"
like "$out" '^ok   concurrent +two runs at once on the same input: the same output \(both were reading at once\)' "two runs at once agree, both held inside run() together"
like "$out" 'keeps the plugin contract$' "summary"
unlike "$out" 'FAIL' "no FAIL line"
check "$top_builddir/plugins/.libs/linecount.so"
is "$rc" 0 "the .so itself"
unlike "$out" '^ok   input' "no input step without --input"

# --options, inline and @file, replace the examples
check "$LC" --options '{"mode": "copy"}' --input "$TMP/in.txt"
like "$out" 'options +\{"mode":"copy"\} \(given\)' "--options JSON"
like "$out" 'input +SUCCEEDED, 14 bytes in, 14 bytes out' "the given options were used (copy)"
echo '{"max_lines": 1}' > "$TMP/opts.json"
check "$LC" --options "@$TMP/opts.json" --input "$TMP/in.txt"
like "$out" 'options +\{"max_lines":1\} \(given\)' "--options @FILE"
like "$out" '^FAIL input +the job failed \(input\): more than 1 lines' "an input the plugin must process but fails is a violation"
is "$rc" 1 "exit 1 on a violation"
check "$LC" --options '{"mode": "counts"}'
like "$out" '^FAIL options .*do not fit the schema: /mode: must be one of' "options against the schema"
unlike "$out" 'init' "no init with options the schema refuses"

# --- each violation ---------------------------------------------------------
check "$P/badabi.la"
like "$out" '^FAIL load +plugin badabi .*built for plugin ABI version 99, this sluice speaks version 1' "bad ABI version"
is "$rc" 1 "bad ABI: exit 1"
check "$P/wrongname.la"
like "$out" '^FAIL load .*declares the name "somethingelse", not "wrongname"' "wrong name"
check "$P/noexport.la"
like "$out" '^FAIL exports +sluice_plugin_descriptor is not exported' "no descriptor: exports"
like "$out" '^FAIL load .*has no symbol sluice_plugin_descriptor' "no descriptor: load"
check "$P/.libs/extrasym.so"
like "$out" '^FAIL exports .*also exports .*extrasym_helper' "extra exported function named"
like "$out" '^FAIL exports .*also exports .*extrasym_counter' "extra exported variable named"
like "$out" 'concurrent .*\(one did not read its input\)' "a run that never reads does not hold the other"
is "$rc" 1 "extra symbols: exit 1"
check "$P/badschema.la"
like "$out" '^FAIL options schema +not usable: schema at "/properties/n": unknown type "integr"' "invalid options schema"
check "$P/cfgbad.la"
like "$out" '^FAIL options schema +not usable: .*unsupported keyword "patternProperties"' "schema keyword sluice does not support"
check "$P/failing.la" --options '{"reject": true}'
like "$out" '^FAIL init .*plugin failing rejected its options: rejected on purpose' "failing init"
unlike "$out" 'empty input' "no jobs after a failed init"
check "$P/failing.la"
like "$out" '^ok   empty input +failed cleanly \(plugin\): failing on purpose' "a clean failure on the empty input is no violation"
check "$P/failing.la" --input "$TMP/in.txt"
like "$out" '^FAIL input +the job failed' "failing on the given input is"
check "$P/racy.la" --input "$TMP/in.txt"
like "$out" '^FAIL concurrent +two runs at once on the same input with the one state: their outputs differ' "non-thread-safe run()"
is "$rc" 1 "racy: exit 1"
check "$P/writeafter.la"
like "$out" '^FAIL empty input +wrote 1 time\(s\) after the job had failed' "writes after error"
check "$P/writeafter.la" --options '{"mode": "ok"}'
like "$out" '^FAIL empty input +returned SLUICE_OK after host->error\(\)' "SLUICE_OK after error()"
check "$P/writeafter.la" --options '{"mode": "silent"}'
like "$out" '^FAIL empty input +returned SLUICE_ERROR without calling host->error\(\)' "SLUICE_ERROR without a reason"
check "$P/writeafter.la" --options '{"mode": "clean"}' --input "$TMP/in.txt"
is "$rc" 0 "the same plugin keeping the rules passes"

# --- usage ------------------------------------------------------------------
check "$TMP/nothing.so"
like "$out" '^FAIL exports +cannot read .*nothing\.so' "a missing file"
is "$rc" 1 "a missing file: exit 1"
check "$LC" --options '{"mode":'
is "$rc" 2 "--options not JSON: usage error"
like "$(cat "$TMP/check.err")" 'not JSON' "says so"
check "$LC" --options '[1]'
is "$rc" 2 "--options not an object"
check "$LC" --options "@$TMP/none.json"
like "$(cat "$TMP/check.err")" "cannot read $TMP/none.json" "--options @FILE missing"
check
is "$rc" 2 "no PATH: usage error"
check "$LC" extra
is "$rc" 2 "two PATHs: usage error"
out=$("$SLUICE" plugins check --help); ok $? "check --help"
like "$out" '^Usage: sluice plugins check PATH' "check --help shows usage"

# --- plugins run --------------------------------------------------------------
out=$("$SLUICE" -q plugins run "$LC" --input "$TMP/in.txt" --options '{"mode": "count"}')
ok $? "run a plugin file to stdout"
is "$out" "3" "its output on stdout"
out=$("$SLUICE" -q plugins run linecount -i "$TMP/in.txt")
is "$out" "$(cat "$TMP/in.txt")" "run a NAME from the search path, default options {}"
echo '{"mode": "count"}' > "$TMP/count.json"
"$SLUICE" -q plugins run "$LC" --input "$TMP/in.txt" --options "@$TMP/count.json" --output "$TMP/out/count.txt" > "$TMP/stdout"
ok $? "run --output FILE"
is "$(cat "$TMP/out/count.txt")" "3" "--output written (its directory made)"
is "$(cat "$TMP/stdout")" "" "nothing on stdout with --output"
"$SLUICE" -q plugins run "$P/failing.la" --input "$TMP/in.txt" -o "$TMP/failed.txt" > "$TMP/stdout" 2>"$TMP/run.err"
is "$?" 1 "a failed job: exit 1"
ok "$([ ! -e "$TMP/failed.txt" ]; echo $?)" "a failed job publishes nothing at --output"
is "$(cat "$TMP/stdout")" "" "nor on stdout (the half-written output is discarded)"
like "$(cat "$TMP/run.err")" 'failing on purpose after writing 20 bytes' "the plugin's reason on stderr"
"$SLUICE" -q plugins run "$LC" --input "$TMP/in.txt" --options '{"mode": "counts"}' 2>"$TMP/run.err"
is "$?" 2 "options the schema refuses: exit 2"
like "$(cat "$TMP/run.err")" 'rules\[0\]\.options\.mode: must be one of "copy" or "count", got "counts"' "names the option and the allowed values"
"$SLUICE" -q plugins run "$P/badabi.la" --input "$TMP/in.txt" 2>"$TMP/run.err"
is "$?" 2 "a plugin that cannot load: exit 2"
like "$(cat "$TMP/run.err")" 'built for plugin ABI version 99' "and why"
"$SLUICE" -q plugins run nosuchplugin --input "$TMP/in.txt" 2>"$TMP/run.err"
is "$?" 2 "an unknown NAME: exit 2"
like "$(cat "$TMP/run.err")" 'cannot load plugin "nosuchplugin"' "says which"
"$SLUICE" -q plugins run "$LC" --input "$TMP/missing.txt" 2>"$TMP/run.err"
is "$?" 1 "a missing input fails the job"
"$SLUICE" -q plugins run "$LC" 2>"$TMP/run.err"
is "$?" 2 "no --input: usage error"
like "$(cat "$TMP/run.err")" '--input FILE is required' "says so"
"$SLUICE" -q plugins run --input "$TMP/in.txt" 2>/dev/null
is "$?" 2 "no PLUGIN: usage error"
"$SLUICE" -q plugins run "$LC" --input "$TMP/in.txt" --output '' 2>/dev/null
is "$?" 2 "empty --output: usage error"
"$SLUICE" -q plugins run "$LC" --input "$TMP/in.txt" --bogus 2>/dev/null
is "$?" 2 "unknown option: usage error"
out=$("$SLUICE" plugins run --help); ok $? "run --help"
like "$out" '^Usage: sluice plugins run PLUGIN --input FILE' "run --help shows usage"
out=$("$SLUICE" plugins --help); like "$out" 'sluice plugins check PATH' "plugins --help names the subcommands"

is "$(find "$TMP" -maxdepth 1 -name 'sluice-adhoc-*' | wc -l | tr -d ' ')" 0 "no working directory left behind"
done_testing
