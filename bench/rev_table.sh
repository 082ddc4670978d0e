#!/bin/sh
# bench/rev_table.sh — the revenue benchmark table of issue 11, run by
# `make bench` after bench/run.sh (or alone by `make bench-table`).
#
# On the same machine in one run, for each size of BENCH_SIZES (default
# 1 GB and 10 GB of bench/gen_hits data, kept in $OUT as hits-<label>.tsv
# and reused while the size matches; run.sh shares hits-1GB.tsv), the
# page cache warmed first, every tool runs BENCH_RUNS times (default 5,
# never fewer), in interleaved rounds:
#   cat >/dev/null, wc -l, mawk 'END{print NR}'     the yardsticks
#   sluice threads: 1 / threads: 2                  the revenue rule with
#                                                   options {threads: N}
#                                                   (the input mapped)
#   sluice threads: N, isolated                     the same with
#                                                   isolation: process (the
#                                                   child maps the file)
#   sluice (default)                                the rule without options
#   DuckDB                                          bench/revenue.sql through
#                                                   bench/duckdb_revenue.mjs
#                                                   (npm @duckdb/node-api),
#                                                   sizes up to 1 GB only
# and one table per size is printed: MB/s and wall seconds of the median
# wall time, CPU seconds (user + sys, GNU time; the median), peak RSS (GNU
# time %M, the largest of the runs), and for the sluice rows MB/s as a
# multiple of wc -l's. The pre-issue-11 single-threaded figure (1.44 s per
# 1 GB) is printed beside them, labelled, not re-measured.
#
# Checks, each fatal: every sluice report equals the first one of its size
# (cmp), and DuckDB's report has the same rows as sluice's (both sorted),
# on a small input first and then on every size it is timed on.
# When the revenue plugin does not know the `threads` option (probed on a
# tiny input), the threads rows say n/a and why.
#
# Environment (set by bench/bench.am): GEN, SLUICE, OUT, top_srcdir,
# top_builddir. Optional: BENCH_SIZES ("1GB:1000000000 10GB:10000000000",
# label:bytes as run.sh), BENCH_RUNS (5; fewer is raised to 5),
# BENCH_DUCKDB_MAX (1000000000: larger sizes skip DuckDB).
set -eu

: "${GEN:?}" "${SLUICE:?}" "${OUT:?}" "${top_srcdir:?}" "${top_builddir:?}"
sizes=${BENCH_SIZES:-"1GB:1000000000 10GB:10000000000"}
runs=${BENCH_RUNS:-5}
duck_max=${BENCH_DUCKDB_MAX:-1000000000}
me=rev_table.sh
die() { echo "$me: $*" >&2; exit 1; }

case $runs in '' | *[!0-9]*) die "BENCH_RUNS must be a number, not '$runs'" ;; esac
if [ "$runs" -lt 5 ]; then
    echo "$me: BENCH_RUNS=$runs raised to 5 (issue 11: the median of at least 5 runs)" >&2
    runs=5
fi
[ -x /usr/bin/time ] && /usr/bin/time -f '%e %U %S %M' true >/dev/null 2>&1 ||
    die "needs GNU time as /usr/bin/time (Debian package 'time') for CPU seconds and peak RSS"
command -v mawk >/dev/null 2>&1 || die "needs mawk (Debian package 'mawk') for the mawk row"
[ -x "$SLUICE" ] || die "$SLUICE is not built (make sluice)"
[ -x "$GEN" ] || die "$GEN is not built (make bench/gen_hits)"
for spec in $sizes; do
    case $spec in
        *:*:* | *:*[!0-9]* | *: | :* ) die "BENCH_SIZES: '$spec' is not label:bytes (e.g. 20MB:20000000)" ;;
        *:*) ;;
        *) die "BENCH_SIZES: '$spec' is not label:bytes (e.g. 20MB:20000000)" ;;
    esac
    [ "${spec#*:}" -ge 4096 ] || die "BENCH_SIZES: '$spec': gen_hits needs at least 4096 bytes"
done

mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-revtable.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
HEADER='hit_time_gmt	date_time	user_agent	ip	event_list	geo_city	geo_region	geo_country	pagename	page_url	product_list	referrer'

# One config per variant: a rule with an option the plugin does not know is
# a configuration error for the whole file.
config() { # config NAME OPTIONS
    cat > "$OUT/revtable-$1.yaml" <<YAML
storage: {type: local, root: "$OUT"}
rules:
  - name: revenue
    match: {bucket: "*"}
    plugin: revenue
    output: "s3://reports/{name}"
$2
runs: {dir: "$OUT/runs-revtable-$1"}
YAML
}
config default ""
config t1 "    options: {threads: 1}"
config t2 "    options: {threads: 2}"
# isolated: the child maps a local input itself (docs/plugins.md, input_map)
config i1 "    isolation: process
    options: {threads: 1}"
config i2 "    isolation: process
    options: {threads: 2}"

# sluice_run VARIANT OUTFILE INPUT [LOG]: one revenue job through the real
# CLI (options before the file: the CLI does not permute arguments)
sluice_run() {
    "$SLUICE" --config "$OUT/revtable-$1.yaml" process --force --rule revenue --output "$2" "$3" \
        >"${4:-/dev/null}" 2>&1
}

# ---- DuckDB --------------------------------------------------------------
have_duckdb=yes
duck_why=""
. "$top_srcdir/plugins/tabular/duckdb_lib.sh"
if duckdb_find; then
    cp "$top_srcdir/bench/duckdb_revenue.mjs" "$TMP/duckdb/"
    duck_threads=$(duck "SELECT current_setting('threads')" 2>/dev/null || echo '?')
else
    have_duckdb=no
    duck_why="n/a (node or npm @duckdb/node-api not found: make duckdb-deps)"
fi
duck_mjs="$TMP/duckdb/duckdb_revenue.mjs"
duck_sql="$top_srcdir/bench/revenue.sql"

# same_rows A B: the two reports hold the same (domain, keyword, revenue)
# rows, whatever their order
same_rows() {
    LC_ALL=C sort "$1" > "$TMP/a.sorted"
    LC_ALL=C sort "$2" > "$TMP/b.sorted"
    cmp -s "$TMP/a.sorted" "$TMP/b.sorted"
}

# ---- probes on small inputs -----------------------------------------------
"$GEN" --bytes 4096 --out "$TMP/probe.tsv"
sluice_run default "$TMP/probe-default.tab" "$TMP/probe.tsv" "$OUT/revtable-probe-default.log" &&
    [ -s "$TMP/probe-default.tab" ] ||
    { cat "$OUT/revtable-probe-default.log" >&2; die "sluice failed on a tiny input (log above, $OUT/revtable-probe-default.log)"; }
threads=yes
threads_why=""
for t in t1 t2 i1 i2; do
    if ! sluice_run $t "$TMP/probe-$t.tab" "$TMP/probe.tsv" "$OUT/revtable-probe-$t.log"; then
        if grep -q "threads" "$OUT/revtable-probe-$t.log"; then
            threads=no
            threads_why="n/a (plugin has no 'threads' option)"
        else
            cat "$OUT/revtable-probe-$t.log" >&2
            die "sluice with options {threads: ${t#t}} failed on a tiny input for another reason (log above)"
        fi
    elif ! cmp -s "$TMP/probe-$t.tab" "$TMP/probe-default.tab"; then
        die "threads: ${t#t} gives another report than the default on a tiny input ($TMP/probe-$t.tab)"
    fi
done

if [ $have_duckdb = yes ]; then
    check=5000000
    "$GEN" --bytes $check --seed 11 --out "$TMP/check.tsv"
    sluice_run default "$TMP/check-sluice.tab" "$TMP/check.tsv" "$TMP/check.log" ||
        { cat "$TMP/check.log" >&2; die "sluice failed on the DuckDB check input"; }
    node "$duck_mjs" "$duck_sql" "$TMP/check.tsv" "$TMP/check-duck.tab" ||
        die "DuckDB failed on the check input (bench/revenue.sql)"
    if same_rows "$TMP/check-sluice.tab" "$TMP/check-duck.tab"; then
        echo "DuckDB report matches sluice's on a $((check / 1000000)) MB check input" \
             "($(($(wc -l < "$TMP/check-sluice.tab") - 1)) rows)"
    else
        diff "$TMP/a.sorted" "$TMP/b.sorted" | head -n 20 >&2
        die "DuckDB's report differs from sluice's on the check input (first differences above; < sluice, > DuckDB)"
    fi
fi

# ---- measuring -------------------------------------------------------------
# measure OUTFILE CMD...: one run; stdout to OUTFILE; prints
# "<wall s> <cpu s> <peak RSS KiB>". GNU time's %e has 10 ms steps, so
# the wall time is taken with date +%s.%N around it, less $overhead (the
# median cost of timing `true` this way), and never below %e.
overhead=0
measure() {
    mo=$1; shift
    t0=$(date +%s.%N)
    /usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$@" >"$mo" 2>"$TMP/stderr" || {
        cat "$TMP/stderr" >&2
        die "failed: $*"
    }
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v o="$overhead" 'END {
        w = b - a - o; if (w < $1) w = $1
        printf "%.4f %.3f %d\n", w, $2 + $3, $4 }' "$TMP/time"
}
median() { # median FILE COLUMN
    awk -v c="$2" '{ print $c }' "$1" | LC_ALL=C sort -n |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
: > "$TMP/res-true"
i=0
while [ $i -lt "$runs" ]; do
    i=$((i + 1))
    measure /dev/null true >> "$TMP/res-true"
done
overhead=$(median "$TMP/res-true" 1)

fmt='%-36s %9s %8s %7s %12s %7s\n'
row() { # row LABEL SIZE RESULTS WC_MBS: a table row from a results file
    awk -v l="$1" -v b="$2" -v w="$(median "$3" 1)" -v c="$(median "$3" 2)" -v wc="$4" \
        -v f="$fmt" '
        { if ($3 > k) k = $3 }
        END {
            mbs = b / 1e6 / (w > 0 ? w : 0.0001)
            x = wc > 0 ? sprintf("%.2fx", mbs / wc) : "-"
            printf f, l, sprintf("%.1f", mbs), sprintf("%.3f", w), sprintf("%.2f", c),
                sprintf("%.1f", k / 1024), x
        }' "$3"
}
text_row() { printf '%-36s %s\n' "$1" "$2"; }

tools="cat wc mawk"
[ $threads = yes ] && tools="$tools t1 t2 i1 i2"
tools="$tools default"

for spec in $sizes; do
    label=${spec%%:*}
    bytes=${spec#*:}
    data="$OUT/hits-$label.tsv"
    if ! [ -f "$data" ] || [ "$(wc -c < "$data" | tr -d ' ')" != "$bytes" ]; then
        avail=$(df -Pk "$OUT" | awk 'NR == 2 { print $4 }')
        have=$(($( [ -f "$data" ] && wc -c < "$data" || echo 0) / 1024))
        [ $((avail + have)) -gt $((bytes / 1024 + 1048576)) ] ||
            die "not enough disk for $data: $bytes bytes needed (plus 1 GB spare), $((avail + have)) KiB free in $OUT"
        echo "generating $data ($bytes bytes)" >&2
        rm -f "$data"
        "$GEN" --bytes "$bytes" --out "$data.tmp"
        mv "$data.tmp" "$data"
    fi
    [ "$(head -n 1 "$data" | tr -d '\r')" = "$HEADER" ] || die "$data does not start with gen_hits' header"
    cat "$data" > /dev/null # warm the page cache

    duck=no
    if [ $have_duckdb = yes ] && [ "$bytes" -le "$duck_max" ]; then duck=yes; fi
    # shellcheck disable=SC2086 # the tool names are words
    set -- $tools
    [ $duck = yes ] && set -- "$@" duckdb
    for t in "$@"; do : > "$TMP/res-$t"; done
    i=0
    while [ $i -lt "$runs" ]; do
        i=$((i + 1))
        for t in "$@"; do
            case $t in
                cat) m=$(measure /dev/null cat "$data") ;;
                wc) m=$(measure "$TMP/wc.out" wc -l "$data") ;;
                mawk) m=$(measure "$TMP/mawk.out" mawk 'END{print NR}' "$data") ;;
                duckdb)
                    rm -f "$TMP/duck.tab"
                    m=$(measure "$TMP/duck.log" node "$duck_mjs" "$duck_sql" "$data" "$TMP/duck.tab")
                    [ $i -gt 1 ] || cp "$TMP/duck.tab" "$TMP/duck-first.tab"
                    same_rows "$TMP/duck.tab" "$TMP/duck-first.tab" ||
                        die "$label: DuckDB run $i gave another report than its first"
                    ;;
                *)
                    r="$TMP/sluice-$t.tab"
                    rm -f "$r"
                    m=$(measure "$TMP/sluice.log" "$SLUICE" --config "$OUT/revtable-$t.yaml" process \
                        --force --rule revenue --output "$r" "$data")
                    grep -q 'state=SUCCEEDED' "$TMP/stderr" || {
                        cat "$TMP/sluice.log" "$TMP/stderr" >&2
                        die "$label: the sluice job ($t) did not run (log above)"
                    }
                    if ! [ -f "$TMP/sluice-first.tab" ]; then
                        cp "$r" "$TMP/sluice-first.tab"
                    elif ! cmp -s "$r" "$TMP/sluice-first.tab"; then
                        cp "$r" "$OUT/revtable-differs-$label-$t.tab"
                        cp "$TMP/sluice-first.tab" "$OUT/revtable-first-$label.tab"
                        die "$label: the sluice report of '$t' (run $i) differs from the first one:" \
                            "$OUT/revtable-differs-$label-$t.tab vs $OUT/revtable-first-$label.tab"
                    fi
                    ;;
            esac
            echo "$m" >> "$TMP/res-$t"
        done
    done
    [ "$(awk '{ print $1 }' "$TMP/wc.out")" = "$(cat "$TMP/mawk.out")" ] ||
        die "$label: wc -l and mawk count different lines"
    if [ $duck = yes ]; then
        if same_rows "$TMP/sluice-first.tab" "$TMP/duck-first.tab"; then
            duck_note="DuckDB report matches sluice's ($(($(wc -l < "$TMP/duck-first.tab") - 1)) rows)"
        else
            diff "$TMP/a.sorted" "$TMP/b.sorted" | head -n 20 >&2
            die "$label: DuckDB's report differs from sluice's (first differences above; < sluice, > DuckDB)"
        fi
    fi
    rm -f "$TMP/sluice-first.tab"

    wc_mbs=$(awk -v b="$bytes" -v w="$(median "$TMP/res-wc" 1)" 'BEGIN { print b / 1e6 / w }')
    echo
    echo "revenue table, $label ($bytes bytes, $(awk '{ print $1 }' "$TMP/wc.out") lines):" \
         "median of $runs runs, warm page cache, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
         "timing overhead $(awk -v o="$overhead" 'BEGIN { printf "%.1f", o * 1000 }') ms subtracted"
    # shellcheck disable=SC2059
    printf "$fmt" tool MB/s "wall s" "CPU s" "peak RSS MB" "x wc-l"
    row "cat >/dev/null" "$bytes" "$TMP/res-cat" 0
    row "wc -l" "$bytes" "$TMP/res-wc" 0
    row "mawk 'END{print NR}'" "$bytes" "$TMP/res-mawk" 0
    if [ $threads = yes ]; then
        row "sluice threads: 1" "$bytes" "$TMP/res-t1" "$wc_mbs"
        row "sluice threads: 2" "$bytes" "$TMP/res-t2" "$wc_mbs"
        row "sluice threads: 1, isolated" "$bytes" "$TMP/res-i1" "$wc_mbs"
        row "sluice threads: 2, isolated" "$bytes" "$TMP/res-i2" "$wc_mbs"
    else
        text_row "sluice threads: 1" "$threads_why"
        text_row "sluice threads: 2" "$threads_why"
    fi
    row "sluice (default)" "$bytes" "$TMP/res-default" "$wc_mbs"
    # shellcheck disable=SC2059
    printf "$fmt" "sluice pre-issue-11 (ref., 1 thread)" 710 "1.44/GB" - - -
    if [ $duck = yes ]; then
        row "DuckDB ($duck_threads threads, revenue.sql)" "$bytes" "$TMP/res-duckdb" 0
    elif [ $have_duckdb = no ]; then
        text_row "DuckDB" "$duck_why"
    else
        if [ "$duck_max" = 1000000000 ]; then
            text_row "DuckDB" "skipped above 1 GB"
        else
            text_row "DuckDB" "skipped above $duck_max bytes (BENCH_DUCKDB_MAX)"
        fi
    fi
    echo "  pre-issue-11: sluice single-threaded before issue 11, 1.44 s per 1 GB (~710 MB/s), not re-measured"
    [ $duck = no ] || echo "  $duck_note"
done
