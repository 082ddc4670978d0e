# plugins/tabular/duckdb_lib.sh — DuckDB (npm @duckdb/node-api) for the
# tabular tests and benchmark. Sourced after tests/lib.sh.
#
# duckdb_find: sets DUCKDB_MODULES to a node_modules holding the package,
# looked for in $SLUICE_DUCKDB_MODULES, the source tree (`make duckdb-deps`)
# and where .ci/install-deps puts it; returns 1 when there is none.
# duck SQL...: runs check.mjs with it (one line per row, tab-separated).
DUCKDB_SHARED=/usr/local/share/sluice/duckdb
duckdb_find() {
    command -v node >/dev/null 2>&1 || return 1
    for d in ${SLUICE_DUCKDB_MODULES:-} "$top_srcdir/plugins/tabular/duckdb/node_modules" \
             "$top_builddir/plugins/tabular/duckdb/node_modules" "$DUCKDB_SHARED/node_modules"; do
        if [ -f "$d/@duckdb/node-api/package.json" ]; then
            DUCKDB_MODULES=$d
            mkdir -p "$TMP/duckdb"
            cp "$top_srcdir/plugins/tabular/duckdb/check.mjs" "$TMP/duckdb/"
            ln -sfn "$d" "$TMP/duckdb/node_modules"
            return 0
        fi
    done
    return 1
}
duck() { node "$TMP/duckdb/check.mjs" "$@"; }
