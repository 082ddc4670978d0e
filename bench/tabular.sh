#!/bin/sh
# bench/tabular.sh — the tabular plugin against DuckDB, run by `make bench`
# (or `make bench-tabular`).
#
# Generates a ~1 GB orders CSV once (plugins/tabular/duckdb/gen.py; kept in
# $OUT and reused), warms the page cache, and converts it, one run each:
#   sluice  process --rule pq|js   (tabular: typed columns, zstd Parquet or
#                                   JSON Lines)
#   DuckDB  COPY (SELECT ... FROM read_csv(...)) TO ... (FORMAT parquet,
#           COMPRESSION zstd) / (FORMAT json), the same columns and types
# printing wall-clock MB/s, CPU seconds (user+sys: DuckDB uses every core,
# sluice one) and peak RSS (GNU time %M; DuckDB's includes node's ~50 MB).
# Both outputs are counted back by DuckDB: the row counts must agree.
#
# Environment (set by plugins/tabular/tabular.am): SLUICE, OUT, top_srcdir,
# top_builddir. Optional: TABULAR_BENCH_BYTES (default 1000000000).
set -eu
: "${SLUICE:?}" "${OUT:?}" "${top_srcdir:?}" "${top_builddir:?}"
bytes=${TABULAR_BENCH_BYTES:-1000000000}
mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
. "$top_srcdir/plugins/tabular/duckdb_lib.sh"
have_duckdb=yes
duckdb_find || { have_duckdb=no; echo "NOTE: DuckDB (npm @duckdb/node-api) is missing: run make duckdb-deps; measuring sluice alone" >&2; }
[ -x /usr/bin/time ] && /usr/bin/time -f '%e' true >/dev/null 2>&1 ||
    { echo "tabular.sh: needs GNU time (/usr/bin/time)" >&2; exit 1; }

data="$OUT/orders-$bytes.csv"
if ! [ -f "$data" ]; then
    echo "generating $data" >&2
    ${PYTHON3:-python3} "$top_srcdir/plugins/tabular/duckdb/gen.py" bench "$bytes" "$data.tmp"
    mv "$data.tmp" "$data"
fi
size=$(wc -c < "$data" | tr -d ' ')
cat "$data" > /dev/null

cols='      columns:
        - {name: order_id, type: int64}
        - {name: amount, type: "decimal(12,2)"}
        - {name: placed_at, type: timestamp, format: "%Y-%m-%d %H:%M:%S"}
        - {name: customer, from: "Customer Name"}
        - {name: country}
        - {name: sku}'
cat > "$OUT/tabular.yaml" <<YAML
storage: {type: local, root: "$OUT"}
plugins: {path: [$top_builddir/plugins]}
rules:
  - name: pq
    match: {bucket: none}
    plugin: tabular
    options:
      from: csv
      to: parquet
$cols
    output: "s3://none/{name}"
  - name: js
    match: {bucket: none}
    plugin: tabular
    options:
      from: csv
      to: jsonl
$cols
    output: "s3://none/{name}"
runs: {dir: "$OUT/runs"}
YAML

# measure NAME CMD...: "<wall s> <cpu s> <peak RSS KiB>"
measure() {
    name=$1; shift
    /usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$@" >"$OUT/$name.log" 2>&1 || {
        cat "$OUT/$name.log" >&2; return 1; }
    awk '{ printf "%s %.2f %d\n", $1, $2 + $3, $4 }' "$TMP/time"
}
line() { # line TOOL TARGET "wall cpu rss"
    set -- "$1" "$2" $3
    awk -v t="$1" -v g="$2" -v b="$size" -v w="$3" -v c="$4" -v k="$5" 'BEGIN {
        printf "tabular  %-7s %-16s %7.1f MB/s  %7.2f s wall  %7.2f s CPU  peak RSS %5d MB\n",
            t, g, b / 1e6 / (w > 0 ? w : 0.001), w, c, k / 1024 }'
}
count() { duck "SELECT count(*) FROM $1"; }

SQL_FROM="read_csv('$data', header = true, delim = ',', quote = '\"',
  columns = {'order_id': 'BIGINT', 'amount': 'DECIMAL(12,2)', 'placed_at': 'VARCHAR',
             'Customer Name': 'VARCHAR', 'country': 'VARCHAR', 'sku': 'VARCHAR'})"
SQL_SEL="SELECT order_id, amount, strptime(placed_at, '%Y-%m-%d %H:%M:%S') AS placed_at,
  \"Customer Name\" AS customer, country, sku FROM $SQL_FROM"

echo "input: $data ($size bytes), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for target in parquet jsonl; do
    rule=$([ $target = parquet ] && echo pq || echo js)
    label=$([ $target = parquet ] && echo "csv->parquet/zstd" || echo "csv->jsonl")
    rm -f "$OUT/sluice.$target" "$OUT/duckdb.$target"
    m=$(measure "sluice-$target" "$SLUICE" -q -c "$OUT/tabular.yaml" process --rule $rule \
        --output "$OUT/sluice.$target" "$data")
    line sluice "$label" "$m"
    [ $have_duckdb = yes ] || continue
    if [ $target = parquet ]; then
        copy="COPY ($SQL_SEL) TO '$OUT/duckdb.parquet' (FORMAT parquet, COMPRESSION zstd)"
    else
        copy="COPY ($SQL_SEL) TO '$OUT/duckdb.jsonl' (FORMAT json)"
    fi
    m=$(measure "duckdb-$target" node "$TMP/duckdb/check.mjs" "$copy")
    line duckdb "$label" "$m"
    if [ $target = parquet ]; then
        a=$(count "read_parquet('$OUT/sluice.parquet')"); b=$(count "read_parquet('$OUT/duckdb.parquet')")
    else
        a=$(wc -l < "$OUT/sluice.jsonl" | tr -d ' '); b=$(wc -l < "$OUT/duckdb.jsonl" | tr -d ' ')
    fi
    echo "tabular  rows: sluice $a, duckdb $b$([ "$a" = "$b" ] && echo ' (same)' || echo ' MISMATCH')" \
        "; sizes: sluice $(($(wc -c < "$OUT/sluice.$target") / 1048576)) MB, duckdb $(($(wc -c < "$OUT/duckdb.$target") / 1048576)) MB"
done
