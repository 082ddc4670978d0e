#!/bin/sh
# Issue 12, finding 6 (the small ones), through the binary:
#  - an eventTime at or before 1970-01-01T00:00:00Z is the event's {date};
#    on main it was taken as "absent" (job.c tested event_time > 0) and the
#    run date was used instead;
#  - `runs list --since 99999999999999999999h` (and 1e999h) is undefined
#    behaviour on main (an out-of-range double converted to long long,
#    reported by UBSan; without it the runs were not listed): an age
#    reaching back before 1970 lists every run;
#  - a raw newline in an object or file name does not split the text log
#    line (the unit test is tests/util/test_log.c).
. "$top_srcdir/tests/lib.sh"
make_workspace
add_rule '  - name: dated
    match: {bucket: in, prefix: d/}
    plugin: linecount
    output: "s3://out/{date}/{basename}"'
printf 'x\n' > "$TMP/x"
put_object in d/a.txt "$TMP/x"
S() { "$SLUICE" -c "$TMP/sluice.yaml" "$@"; }

for t in 1970-01-01T00:00:00Z:1970-01-01 1969-07-20T20:17:40.000Z:1969-07-20 \
    1900-01-01T00:00:00Z:1900-01-01 0001-01-01T00:00:00Z:0001-01-01 \
    1970-01-01T00:00:01Z:1970-01-01; do
    when=${t%Z:*}Z date=${t##*Z:}
    s3_event in d/a.txt ObjectCreated:Put "$when" > "$TMP/ev.json"
    out=$(S run --force "$TMP/ev.json" 2>>"$TMP/log"); is $? 0 "eventTime $when: the job runs"
    is "$out" "s3://out/$date/a.txt" "eventTime $when: {date} is $date"
done

n_all=$(S runs list --json | wc -l | tr -d ' ')
is "$n_all" 5 "five runs recorded"
for age in 99999999999999999999h 1e999h 100000000000d 1e30s; do
    out=$(S runs list --since "$age" --json 2>"$TMP/err"); is $? 0 "--since $age: exit 0"
    is "$(printf '%s\n' "$out" | grep -c '"run_id"')" "$n_all" "--since $age: every run"
done

# a newline in a file name stays inside one log line (the job itself fails:
# its {name} holds a control character)
mkdir -p "$TMP/files"
nl='
'
printf 'a\n' > "$TMP/files/evil${nl}2026-01-01T00:00:00.000Z error forged"
S process --rule dated --output "$TMP/res/" "$TMP/files/evil${nl}2026-01-01T00:00:00.000Z error forged" \
    >/dev/null 2>"$TMP/nl.log"; is $? 1 "a file with a newline in its name: its output is refused"
is "$(grep -vc '^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]*Z [a-z]' "$TMP/nl.log")" 0 \
    "every log line is a whole line (none starts inside a file name)"
is "$(grep -c '^2026-01-01T00:00:00.000Z error forged' "$TMP/nl.log")" 0 "no forged line"
like "$(cat "$TMP/nl.log")" 'input="[^"]*evil\\n2026-01-01T00:00:00.000Z error forged"' \
    "the newline is escaped inside the quoted input"
done_testing
