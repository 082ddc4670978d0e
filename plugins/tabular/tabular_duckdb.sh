#!/bin/sh
# The tabular plugin's outputs read back by DuckDB: every type, nulls,
# empty strings, unicode, 0 and 100k rows, several row groups, each Parquet
# codec (types, statistics and compression through parquet_metadata() and
# parquet_schema()), and the CSV, TSV and JSON Lines outputs through
# DuckDB's own readers. Inputs and expected values come from
# duckdb/gen.py; every conversion runs through the sluice CLI.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/plugins/tabular/duckdb_lib.sh"
if ! duckdb_find; then
    echo "# ********************************************************************" >&2
    echo "# DuckDB (npm @duckdb/node-api) is missing: the tabular read-back tests" >&2
    echo "# are SKIPPED. Install it: make duckdb-deps (or .ci/install-deps)." >&2
    echo "# ********************************************************************" >&2
    skip_all "DuckDB (npm @duckdb/node-api) not installed: run make duckdb-deps"
fi
GEN="$top_srcdir/plugins/tabular/duckdb/gen.py"
PY=${PYTHON3:-python3}

COLS='      columns:
        - {name: id, type: int64}
        - {name: s}
        - {name: b, type: bool}
        - {name: i32, type: int32}
        - {name: d, type: double}
        - {name: dec, type: "decimal(12,2)"}
        - {name: dt, type: date}
        - {name: ts, type: timestamp}'
cat > "$TMP/t.yaml" <<YAML
storage: {type: local, root: root}
plugins: {path: [$top_builddir/plugins]}
rules:
YAML
rule() { # rule NAME FROM TO [extra option lines]
    printf '  - name: %s\n    match: {bucket: none}\n    plugin: tabular\n    options:\n      from: %s\n      to: %s\n%s\n%s\n    output: "s3://none/{name}"\n' \
        "$1" "$2" "$3" "$COLS" "${4:-}" >> "$TMP/t.yaml"
}
rule csv_pq_zstd csv parquet
rule csv_pq_gzip csv parquet '      compression: gzip'
rule csv_pq_none csv parquet '      compression: none'
rule csv_pq_small csv parquet '      row_group_bytes: 1048576'
rule jsonl_pq jsonl parquet
rule csv_csv csv csv
rule csv_jsonl csv jsonl
rule jsonl_jsonl jsonl jsonl
cat >> "$TMP/t.yaml" <<YAML
  - name: csv_tsv
    match: {bucket: none}
    plugin: tabular
    options:
      from: csv
      to: tsv
      columns: [{name: id, type: int64}, {name: i32, type: int32}, {name: dec, type: "decimal(12,2)"}, {name: dt, type: date}]
    output: "s3://none/{name}"
YAML
mkdir -p "$TMP/root"
convert() { # convert RULE INPUT OUTPUT
    "$SLUICE" -q -c "$TMP/t.yaml" process --rule "$1" --output "$3" "$2" >/dev/null 2>"$TMP/err.log"
}
SEL="id, s, b, i32, d, dec, dt, strftime(ts, '%Y-%m-%d %H:%M:%S.%f')"
pq() { echo "read_parquet('$1', hive_partitioning = false)"; }

"$PY" "$GEN" table 300 "$TMP/t"

# --- every type, nulls, empty strings, unicode ------------------------------
convert csv_pq_zstd "$TMP/t.csv" "$TMP/t.parquet"; ok $? "csv -> parquet (zstd)"
duck "SELECT $SEL FROM $(pq "$TMP/t.parquet") ORDER BY id" > "$TMP/got"
ok $? "DuckDB reads the file"
cmp -s "$TMP/got" "$TMP/t.expect.csv"; ok $? "DuckDB reads back exactly the input values (300 rows, every type)"
[ -s "$TMP/got" ] || echo "# $(cat "$TMP/err.log")"
diff "$TMP/got" "$TMP/t.expect.csv" | head -5 | sed 's/^/# /'
is "$(duck "SELECT count(*) FROM $(pq "$TMP/t.parquet") WHERE s = ''")" \
   "$(grep -c "^[^	]*		" "$TMP/t.expect.csv")" "empty strings stay empty strings, not nulls"
is "$(duck "SELECT count(*) FROM $(pq "$TMP/t.parquet") WHERE s LIKE '%𝄞%' OR s LIKE '%☃%'")" \
   "$(grep -c -e '𝄞' -e '☃' "$TMP/t.expect.csv")" "four-byte and three-byte UTF-8 intact"

is "$(duck "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM $(pq "$TMP/t.parquet"))" | tr '\t\n' ': ')" \
   "id:BIGINT s:VARCHAR b:BOOLEAN i32:INTEGER d:DOUBLE dec:DECIMAL(12,2) dt:DATE ts:TIMESTAMP WITH TIME ZONE " \
   "DuckDB sees the declared types"
is "$(duck "SELECT name, type, coalesce(converted_type, '-'), coalesce(logical_type, '-') FROM parquet_schema('$TMP/t.parquet') WHERE name <> 'schema'" | tr '\t' ' ')" \
"id INT64 - -
s BYTE_ARRAY UTF8 StringType()
b BOOLEAN - -
i32 INT32 - -
d DOUBLE - -
dec INT64 DECIMAL DecimalType(scale=2, precision=12)
dt INT32 DATE DateType()
ts INT64 TIMESTAMP_MICROS TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))" \
   "parquet_schema(): physical, converted and logical types"

# statistics: what the footer says equals what the data holds
stats_sql="SELECT path_in_schema, stats_null_count, stats_min_value, stats_max_value FROM parquet_metadata('$TMP/t.parquet') ORDER BY column_id"
data_sql="SELECT * FROM (
  SELECT 'id' c, 0 o, count(*) - count(id), min(id)::VARCHAR, max(id)::VARCHAR FROM T UNION ALL
  SELECT 's', 1, count(*) - count(s), min(s), max(s) FROM T UNION ALL
  SELECT 'b', 2, count(*) - count(b), min(b)::VARCHAR, max(b)::VARCHAR FROM T UNION ALL
  SELECT 'i32', 3, count(*) - count(i32), min(i32)::VARCHAR, max(i32)::VARCHAR FROM T UNION ALL
  SELECT 'd', 4, count(*) - count(d), min(d)::VARCHAR, max(d)::VARCHAR FROM T UNION ALL
  SELECT 'dec', 5, count(*) - count(dec), min(dec)::VARCHAR, max(dec)::VARCHAR FROM T UNION ALL
  SELECT 'dt', 6, count(*) - count(dt), min(dt)::VARCHAR, max(dt)::VARCHAR FROM T UNION ALL
  SELECT 'ts', 7, count(*) - count(ts), min(ts)::VARCHAR, max(ts)::VARCHAR FROM T) ORDER BY o"
duck "$stats_sql" > "$TMP/stats"
duck "$(echo "$data_sql" | sed "s|FROM T|FROM $(pq "$TMP/t.parquet")|g")" | cut -f1,3- > "$TMP/data"
cmp -s "$TMP/stats" "$TMP/data"; ok $? "parquet_metadata(): null counts, min and max of every column match the data"
diff "$TMP/stats" "$TMP/data" | head -8 | sed 's/^/# /'
is "$(duck "SELECT DISTINCT compression FROM parquet_metadata('$TMP/t.parquet')")" "ZSTD" "compression ZSTD"
like "$(duck "SELECT DISTINCT encodings FROM parquet_metadata('$TMP/t.parquet') WHERE path_in_schema = 'b'")" "PLAIN" "booleans PLAIN"
like "$(duck "SELECT encodings FROM parquet_metadata('$TMP/t.parquet') WHERE path_in_schema = 'dt'")" "RLE_DICTIONARY" "a repetitive column is dictionary-encoded"

for codec in gzip none; do
    convert "csv_pq_$codec" "$TMP/t.csv" "$TMP/t-$codec.parquet"; ok $? "csv -> parquet ($codec)"
    duck "SELECT $SEL FROM $(pq "$TMP/t-$codec.parquet") ORDER BY id" > "$TMP/got"
    cmp -s "$TMP/got" "$TMP/t.expect.csv"; ok $? "$codec: DuckDB reads back the input values"
    want=$([ $codec = gzip ] && echo GZIP || echo UNCOMPRESSED)
    is "$(duck "SELECT DISTINCT compression FROM parquet_metadata('$TMP/t-$codec.parquet')")" "$want" "compression $want"
done

# --- JSON Lines in: real nulls in a string column ---------------------------
convert jsonl_pq "$TMP/t.jsonl" "$TMP/j.parquet"; ok $? "jsonl -> parquet"
duck "SELECT $SEL FROM $(pq "$TMP/j.parquet") ORDER BY id" > "$TMP/got"
cmp -s "$TMP/got" "$TMP/t.expect.jsonl"; ok $? "jsonl: DuckDB reads back the values, string nulls included"
diff "$TMP/got" "$TMP/t.expect.jsonl" | head -5 | sed 's/^/# /'

# --- 0 rows -----------------------------------------------------------------
printf 'id,s,b,i32,d,dec,dt,ts\n' > "$TMP/empty.csv"
convert csv_pq_zstd "$TMP/empty.csv" "$TMP/empty.parquet"; ok $? "0 rows: converted"
is "$(duck "SELECT count(*) FROM $(pq "$TMP/empty.parquet")")" "0" "0 rows: DuckDB counts 0"
is "$(duck "SELECT count(*) FROM (DESCRIBE SELECT * FROM $(pq "$TMP/empty.parquet"))")" "8" "0 rows: the 8 columns are there"

# --- 100k rows, several row groups ------------------------------------------
"$PY" "$GEN" table 100000 "$TMP/big"
convert csv_pq_small "$TMP/big.csv" "$TMP/big.parquet"; ok $? "100k rows -> parquet, 1 MiB row groups"
groups=$(duck "SELECT count(DISTINCT row_group_id) FROM parquet_metadata('$TMP/big.parquet')")
ok $([ "$groups" -gt 1 ] && echo 0 || echo 1) "several row groups ($groups)"
duck "SELECT $SEL FROM $(pq "$TMP/big.parquet") ORDER BY id" > "$TMP/got"
cmp -s "$TMP/got" "$TMP/big.expect.csv"; ok $? "100k rows read back exactly"
is "$(duck "SELECT sum(row_group_num_rows) FROM (SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('$TMP/big.parquet'))")" \
   "100000" "the row groups hold 100000 rows"

# --- text outputs through DuckDB's readers ----------------------------------
TYPES="{'id':'BIGINT','s':'VARCHAR','b':'BOOLEAN','i32':'INTEGER','d':'DOUBLE','dec':'DECIMAL(12,2)','dt':'DATE','ts':'TIMESTAMP'}"
convert csv_csv "$TMP/t.csv" "$TMP/out.csv"; ok $? "csv -> csv"
duck "SELECT $SEL FROM read_csv('$TMP/out.csv', header = true, columns = $TYPES, quote = '\"', escape = '\"', delim = ',', allow_quoted_nulls = false) ORDER BY id" > "$TMP/got"
cmp -s "$TMP/got" "$TMP/t.expect.csv"; ok $? "csv output: DuckDB's read_csv reads back the values"
diff "$TMP/got" "$TMP/t.expect.csv" | head -5 | sed 's/^/# /'
convert csv_jsonl "$TMP/t.csv" "$TMP/out.jsonl"; ok $? "csv -> jsonl"
duck "SELECT $SEL FROM read_json('$TMP/out.jsonl', format = 'newline_delimited', columns = $TYPES) ORDER BY id" > "$TMP/got"
cmp -s "$TMP/got" "$TMP/t.expect.csv"; ok $? "jsonl output: DuckDB's read_json reads back the values"
diff "$TMP/got" "$TMP/t.expect.csv" | head -5 | sed 's/^/# /'
convert jsonl_jsonl "$TMP/t.jsonl" "$TMP/out2.jsonl"; ok $? "jsonl -> jsonl"
duck "SELECT $SEL FROM read_json('$TMP/out2.jsonl', format = 'newline_delimited', columns = $TYPES) ORDER BY id" > "$TMP/got"
cmp -s "$TMP/got" "$TMP/t.expect.jsonl"; ok $? "jsonl output keeps string nulls as null"
convert csv_tsv "$TMP/t.csv" "$TMP/out.tsv"; ok $? "csv -> tsv"
duck "SELECT id, i32, dec, dt FROM read_csv('$TMP/out.tsv', header = true, delim = '\t', columns = {'id':'BIGINT','i32':'INTEGER','dec':'DECIMAL(12,2)','dt':'DATE'}) ORDER BY id" > "$TMP/got"
cut -f1,4,6,7 "$TMP/t.expect.csv" > "$TMP/want"
cmp -s "$TMP/got" "$TMP/want"; ok $? "tsv output: DuckDB's read_csv (tab) reads back the typed columns"
done_testing
