#!/bin/sh
# The tabular plugin through the sluice CLI: every option (from/to,
# delimiter, quote, header, encoding, escapes, columns with from/type/
# format, where), every on_bad_row policy, every type's refusal, malformed
# input (unterminated quote at EOF, ragged rows, text after a closing
# quote, invalid UTF-8, non-object and invalid JSON lines), each failing
# with its line and column and publishing nothing; rejects published
# beside the output only when the job succeeds; configuration errors.
# Output values are checked as text here; tabular_duckdb.sh reads them
# back with DuckDB.
. "$top_srcdir/tests/lib.sh"
make_workspace
sed -i "s|path: \[|path: [$top_builddir/plugins, |" "$TMP/sluice.yaml"
rule() { add_rule "$1"; }
rule '  - name: orders-to-parquet
    match: {bucket: landing, prefix: orders/, suffix: .csv}
    plugin: tabular
    options:
      from: csv
      to: parquet
      columns:
        - {name: order_id, type: int64}
        - {name: amount, type: "decimal(12,2)"}
        - {name: placed_at, type: timestamp, format: "%Y-%m-%d %H:%M:%S"}
        - {name: customer, from: "Customer Name"}
      where: {column: country, regex: "^(US|CA)$"}
      on_bad_row: fail
    output: "s3://lake/orders/dt={date}/{stem}.parquet"'
ORDER_COLS='      columns:
        - {name: order_id, type: int64}
        - {name: amount, type: "decimal(12,2)"}
        - {name: placed_at, type: timestamp, format: "%Y-%m-%d %H:%M:%S"}
        - {name: customer, from: "Customer Name"}
      where: {column: country, regex: "^(US|CA)$"}'
for policy in fail skip reject; do
    rule "  - name: csv-$policy
    match: {bucket: landing, prefix: $policy/}
    plugin: tabular
    options:
      from: csv
      to: csv
$ORDER_COLS
      on_bad_row: $policy
    output: \"s3://lake/$policy/{stem}.csv\""
done
rule '  - name: semi
    match: {bucket: landing, prefix: semi/}
    plugin: tabular
    options: {from: csv, to: jsonl, delimiter: ";", quote: "'"'"'", header: false, encoding: latin-1}
    output: "s3://lake/semi/{name}"'
rule '  - name: adobe
    match: {bucket: landing, prefix: adobe/}
    plugin: tabular
    options: {from: tsv, to: jsonl, escapes: true, header: false}
    output: "s3://lake/adobe/{name}"'
rule '  - name: tsv-out
    match: {bucket: landing, prefix: tsvout/}
    plugin: tabular
    options: {from: jsonl, to: tsv}
    output: "s3://lake/tsvout/{name}"'
rule '  - name: json
    match: {bucket: landing, prefix: json/}
    plugin: tabular
    options:
      from: jsonl
      to: csv
      columns:
        - {name: id, type: int32}
        - {name: city, from: addr.city}
        - {name: tags}
        - {name: ok, type: bool}
        - {name: day, type: date, format: "%d/%m/%Y"}
        - {name: x, type: double}
      on_bad_row: reject
    output: "s3://lake/json/{name}"'
rule '  - name: json-fail
    match: {bucket: landing, prefix: jsonfail/}
    plugin: tabular
    options: {from: jsonl, to: jsonl}
    output: "s3://lake/jsonfail/{name}"'
rule '  - name: types
    match: {bucket: landing, prefix: types/}
    plugin: tabular
    options:
      from: csv
      to: jsonl
      columns:
        - {name: b, type: bool}
        - {name: i32, type: int32}
        - {name: i64, type: int64}
        - {name: d, type: double}
        - {name: dec, type: "decimal(5,2)"}
        - {name: dt, type: date}
        - {name: ts, type: timestamp}
        - {name: s}
    output: "s3://lake/types/{name}"'
rule '  - name: all-strings
    match: {bucket: landing, prefix: plain/}
    plugin: tabular
    options: {from: csv, to: jsonl}
    output: "s3://lake/plain/{name}"'

run() { # run KEY -> $out (stdout+stderr), $rc
    out=$("$SLUICE" -c "$TMP/sluice.yaml" process "s3://landing/$1" 2>&1); rc=$?
}
csv_orders() {
    printf '\357\273\277order_id,amount,placed_at,Customer Name,country\r\n'
    printf '1,12.5,2026-01-02 03:04:05,"Smith, ""J""",US\r\n'
    printf '2,,2026-01-02 03:04:06,"multi\nline",CA\r\n'
    printf '3,7,2026-01-02 03:04:07,Zoë,FR\r\n'
}

# --- the issue's rule (with the decimal type quoted: in a YAML flow mapping
# the comma of decimal(12,2) would end the value) -----------------------
csv_orders > "$TMP/o.csv"; put_object landing orders/o.csv "$TMP/o.csv"
run orders/o.csv; is "$rc" 0 "orders-to-parquet: exit 0"
f=$(cd "$TMP/root/lake/orders" && ls dt=*/o.parquet 2>/dev/null)
like "$f" '^dt=[0-9]{4}-[0-9]{2}-[0-9]{2}/o\.parquet$' "written to s3://lake/orders/dt={date}/{stem}.parquet"
is "$(head -c 4 "$TMP/root/lake/orders/$f" 2>/dev/null)$(tail -c 4 "$TMP/root/lake/orders/$f" 2>/dev/null)" "PAR1PAR1" "a Parquet file"
like "$out" 'rows_in=3 rows_out=2 rows_filtered=1' "counters: 3 read, 2 written, 1 filtered out by where"

# --- the same rule to CSV: values as text -------------------------------------
put_object landing fail/o.csv "$TMP/o.csv"
run fail/o.csv; is "$rc" 0 "csv -> csv with columns and where"
is "$(cat "$TMP/root/lake/fail/o.csv")" 'order_id,amount,placed_at,customer
1,12.50,2026-01-02 03:04:05,"Smith, ""J"""
2,,2026-01-02 03:04:06,"multi
line"' "selected, renamed, typed (decimal scale, timestamp), filtered; empty decimal is null; RFC 4180 quoting"

# --- bad rows: fail, skip, reject ---------------------------------------------
bad_orders() {
    printf 'order_id,amount,placed_at,Customer Name,country\n'
    printf '1,1.00,2026-01-01 00:00:00,a,US\n'
    printf '2,12.x,2026-01-01 00:00:00,b,US\n'      # line 3: bad decimal
    printf '3,1.00,2026-01-01 00:00:00,c\n'         # line 4: ragged
    printf '4,1.00,2026-13-01 00:00:00,d,US\n'      # line 5: bad timestamp
    printf 'x5,1.00,2026-01-01 00:00:00,e,US\n'     # line 6: bad int64
    printf '6,1.00,2026-01-01 00:00:00,f,CA\n'
}
bad_orders > "$TMP/bad.csv"
for p in fail skip reject; do put_object landing "$p/bad.csv" "$TMP/bad.csv"; done
run fail/bad.csv; is "$rc" 1 "on_bad_row fail: exit 1"
like "$out" 'bad\.csv: line 3, column "amount": "12\.x" is not a decimal number \(type decimal\(12,2\)\) \(on_bad_row: fail\)' \
    "the message names the line, the column, the value and the type"
is "$(tree lake | grep bad)" "" "fail: nothing published, no temporary left"

run skip/bad.csv; is "$rc" 0 "on_bad_row skip: exit 0"
is "$(cat "$TMP/root/lake/skip/bad.csv")" 'order_id,amount,placed_at,customer
1,1.00,2026-01-01 00:00:00,a
6,1.00,2026-01-01 00:00:00,f' "skip: the good rows are written"
like "$out" 'rows_skipped=4' "skip: counted (rows_skipped=4)"
like "$out" 'skipped bad row: line 4: 4 fields, but the header has 5 \(a ragged row\)' "skip: a ragged row logged with its line"
like "$out" 'skipped bad row: line 5, column "placed_at": "2026-13-01 00:00:00" does not match the format' "skip: a bad timestamp logged with line and column"
like "$out" 'skipped bad row: line 6, column "order_id": "x5" is not an integer' "skip: a bad int64 logged"

run reject/bad.csv; is "$rc" 0 "on_bad_row reject: exit 0"
is "$(tree lake | grep reject/)" "reject/bad.csv
reject/bad.rejects.jsonl" "reject: the rejects are a side object beside the output"
is "$(cat "$TMP/root/lake/reject/bad.rejects.jsonl")" '{"line":3,"column":"amount","error":"\"12.x\" is not a decimal number (type decimal(12,2))","fields":["2","12.x","2026-01-01 00:00:00","b","US"]}
{"line":4,"column":null,"error":"4 fields, but the header has 5 (a ragged row)","fields":["3","1.00","2026-01-01 00:00:00","c"]}
{"line":5,"column":"placed_at","error":"\"2026-13-01 00:00:00\" does not match the format \"%Y-%m-%d %H:%M:%S\" (type timestamp)","fields":["4","1.00","2026-13-01 00:00:00","d","US"]}
{"line":6,"column":"order_id","error":"\"x5\" is not an integer (type int64)","fields":["x5","1.00","2026-01-01 00:00:00","e","US"]}' \
    "reject: each row with its line, column, reason and fields"
like "$out" 'rows_rejected=4' "reject: counted (rows_rejected=4)"
is "$(sed -n 2p "$TMP/root/lake/reject/bad.csv")" "1,1.00,2026-01-01 00:00:00,a" "reject: the good rows are in the output"

# an unterminated quote at the end of the input is one more bad row
{ bad_orders; printf '7,1.00,2026-01-01 00:00:00,"open,US\n'; } > "$TMP/bad2.csv"
put_object landing reject/bad2.csv "$TMP/bad2.csv"
run reject/bad2.csv; is "$rc" 0 "an unterminated quote under reject is one more rejected row"
like "$(tail -n 1 "$TMP/root/lake/reject/bad2.rejects.jsonl")" '"line":8,"column":"customer","error":"unterminated quoted field \(the quote opened on line 8' \
    "unterminated quote at EOF: rejected with its line and column"

# --- malformed CSV, each failing with line and column ---------------------------
fails_with() { # fails_with NAME CONTENT REGEX
    printf "$2" > "$TMP/m.csv"; put_object landing "fail/$1.csv" "$TMP/m.csv"
    run "fail/$1.csv"; is "$rc" 1 "$1: exit 1"
    like "$out" "$3" "$1: says where and what"
    is "$(tree lake | grep "fail/$1")" "" "$1: nothing published"
}
H='order_id,amount,placed_at,Customer Name,country\n'
fails_with unterminated "${H}1,1,2026-01-01 00:00:00,\"never closed,US\n2,2,2026-01-01 00:00:00,x,US\n" \
    'line 2, column "customer": unterminated quoted field \(the quote opened on line 2 is never closed'
fails_with ragged "${H}1,1,2026-01-01 00:00:00,a,US,extra\n" 'line 2: 6 fields, but the header has 5 \(a ragged row\)'
fails_with afterquote "${H}1,1,2026-01-01 00:00:00,\"a\"b,US\n" 'line 2, column "customer": unexpected character .b. after the closing quote'
fails_with utf8 "${H}1,1,2026-01-01 00:00:00,caf\351,US\n" 'line 2, column "customer": invalid UTF-8 \(byte 0xE9'
fails_with header "order_id,amount\n1,2\n" 'column "placed_at" is not a column of the input \(its columns: "order_id", "amount"\)'

# --- every type: accepted texts and the canonical output -----------------------
printf 'b,i32,i64,d,dec,dt,ts,s\nyes,-2147483648,9223372036854775807,1e3,-0.5,2024-02-29,2024-02-29T23:59:59.25+01:00," "\nF,,,,,,,\n' > "$TMP/t.csv"
put_object landing types/t.csv "$TMP/t.csv"
run types/t.csv; is "$rc" 0 "types: exit 0"
is "$(cat "$TMP/root/lake/types/t.jsonl")" '{"b":true,"i32":-2147483648,"i64":9223372036854775807,"d":1000,"dec":-0.50,"dt":"2024-02-29","ts":"2024-02-29 22:59:59.250000","s":" "}
{"b":false,"i32":null,"i64":null,"d":null,"dec":null,"dt":null,"ts":null,"s":""}' \
    "every type converted; empty typed values are null, an empty string stays a string; timestamps in UTC"
for spec in "b:maybe:is not a boolean" "i32:2147483648:is out of range" "i64:1.5:is not an integer" \
            "d:abc:is not a number" "dec:1234.5:has more digits than the precision allows" \
            "dec:1.234:has more decimal places than the scale allows" "dt:2023-02-29:is not an ISO 8601 date" \
            "ts:2024-01-01 25:00:00:is not an ISO 8601 timestamp"; do
    col=${spec%%:*}; rest=${spec#*:}; val=${rest%:*}; why=${rest##*:}
    line=$(awk -v c="$col" -v v="$val" 'BEGIN { n = split("b i32 i64 d dec dt ts s", h, " ");
        for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? "," : ""), (h[i] == c ? v : ""); print "" }')
    printf 'b,i32,i64,d,dec,dt,ts,s\n%s\n' "$line" > "$TMP/t.csv"
    put_object landing "types/bad-$col.csv" "$TMP/t.csv"
    run "types/bad-$col.csv"
    like "$out" "line 2, column \"$col\": \"$val\" $why" "$col refuses \"$val\": $why"
done

# --- CSV options: delimiter, quote, header: false, latin-1 ----------------------
printf "caf\351;'a;b'\n2;'it''s'\n" > "$TMP/s.csv"; put_object landing semi/s.csv "$TMP/s.csv"
run semi/s.csv; is "$rc" 0 "delimiter ; quote ' header false latin-1: exit 0"
is "$(cat "$TMP/root/lake/semi/s.jsonl")" '{"column1":"café","column2":"a;b"}
{"column1":"2","column2":"it'"'"'s"}' "columns named column1.., latin-1 became UTF-8, the quote character honoured"

# --- TSV with Adobe escapes; TSV output ---------------------------------------
printf 'a\\\tb\tline\\\nnext\tback\\\\slash\n' > "$TMP/a.tsv"; put_object landing adobe/a.tsv "$TMP/a.tsv"
run adobe/a.tsv; is "$rc" 0 "tsv with escapes: exit 0"
is "$(cat "$TMP/root/lake/adobe/a.jsonl")" '{"column1":"a\tb","column2":"line\nnext","column3":"back\\slash"}' \
    "escaped tab, newline and backslash are data"
printf '{"k":"a\\tb","v":"x\\\\y"}\n{"k":"n\\nl","v":null}\n' > "$TMP/t.jsonl"; put_object landing tsvout/t.jsonl "$TMP/t.jsonl"
run tsvout/t.jsonl; is "$rc" 0 "jsonl -> tsv: exit 0"
is "$(cat "$TMP/root/lake/tsvout/t.tsv")" 'k	v
a\	b	x\\y
n\
l	' "tsv output escapes tab, newline and backslash (Adobe style)"

# --- JSON Lines: paths, nested JSON, reject of non-objects --------------------
printf '%s\n' '{"id":1,"addr":{"city":"Zürich"},"tags":["a",{"b":1}],"ok":true,"day":"31/12/2026","x":0.1}' \
    '[1,2]' '{"id":"2","addr":{},"ok":"no","day":"","x":-2}' '"text"' '{"id":3,' \
    '{"id":4,"ok":"perhaps"}' > "$TMP/j.jsonl"
put_object landing json/j.jsonl "$TMP/j.jsonl"
run json/j.jsonl; is "$rc" 0 "jsonl with reject: exit 0"
is "$(cat "$TMP/root/lake/json/j.csv")" 'id,city,tags,ok,day,x
1,Zürich,"[""a"",{""b"":1}]",true,2026-12-31,0.1
2,,,false,,-2' "paths (addr.city), nested values as JSON text, a date format, missing members null"
is "$(cat "$TMP/root/lake/json/j.rejects.jsonl")" '{"line":2,"column":null,"error":"an array, not a JSON object","record":"[1,2]"}
{"line":4,"column":null,"error":"a string, not a JSON object","record":"\"text\""}
{"line":5,"column":null,"error":"column 8: invalid JSON: string or '"'"'}'"'"' expected near end of file","record":"{\"id\":3,"}
{"line":6,"column":"ok","error":"\"perhaps\" is not a boolean (true/false, 1/0, yes/no) (type bool)","record":"{\"id\":4,\"ok\":\"perhaps\"}"}' \
    "non-object, invalid JSON and unconvertible lines rejected with line and column"
printf '{"a":1}\n[1]\n' > "$TMP/f.jsonl"; put_object landing jsonfail/f.jsonl "$TMP/f.jsonl"
run jsonfail/f.jsonl; is "$rc" 1 "a non-object line fails the job (on_bad_row: fail)"
like "$out" 'f\.jsonl: line 2: an array, not a JSON object' "says the line"
printf '{"a":"\377"}\n' > "$TMP/u.jsonl"; put_object landing jsonfail/u.jsonl "$TMP/u.jsonl"
run jsonfail/u.jsonl; is "$rc" 1 "invalid UTF-8 in JSON fails the job"
like "$out" 'line 1: column [0-9]+: invalid JSON: unable to decode byte 0xff' "says the line and column"
is "$(tree lake | grep jsonfail)" "" "nothing published"

# --- without columns: every column as a string ---------------------------------
printf 'a,b\n1,\n' > "$TMP/p.csv"; put_object landing plain/p.csv "$TMP/p.csv"
run plain/p.csv; is "$rc" 0 "no columns: exit 0"
is "$(cat "$TMP/root/lake/plain/p.jsonl")" '{"a":"1","b":""}' "all columns, as strings (empty stays empty)"

# --- configuration errors, found by validate -------------------------------------
cfgerr() { # cfgerr OPTIONS REGEX NAME
    cat > "$TMP/bad.yaml" <<YAML
storage: {type: local, root: root}
plugins: {path: [$top_builddir/plugins]}
rules:
  - name: r
    match: {bucket: b}
    plugin: tabular
    options: $1
    output: "s3://o/{name}"
YAML
    o=$("$SLUICE" -c "$TMP/bad.yaml" validate 2>&1); is $? 2 "$3: exit 2"
    like "$o" "$2" "$3: says why"
}
cfgerr '{from: csv, to: xml}' 'options.to' "unknown output format"
cfgerr '{from: csv, to: csv, columns: [{name: a, type: float}]}' 'unknown type "float"' "unknown type"
cfgerr '{from: csv, to: csv, columns: [{name: a, type: "decimal(20,2)"}]}' 'precision must be 1..18' "decimal too wide"
cfgerr '{from: csv, to: csv, where: {column: a, regex: "("}}' 'where.regex "\(": missing closing parenthesis' "bad regex"
cfgerr '{from: jsonl, to: csv, delimiter: ";"}' 'apply to csv and tsv input, not jsonl' "csv option on jsonl"
cfgerr '{from: csv, to: csv, compression: zstd}' 'apply to parquet output, not csv' "parquet option on csv"
cfgerr '{from: csv, to: csv, columns: [{name: a}, {name: a}]}' 'the name "a" is used twice' "duplicate column"
cfgerr '{from: csv, to: csv, columns: [{name: a, format: "%Y"}]}' 'format applies to date and timestamp' "format on a string"
done_testing
