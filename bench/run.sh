#!/bin/sh
# bench/run.sh — the revenue benchmark, run by `make bench`.
#
# Generates 100 MB and 1 GB of hit data (reused when present with the right
# size), warms the page cache, runs
#     sluice --config CONFIG process --rule revenue --output OUTFILE FILE
# (options before the file: the CLI does not permute arguments)
# and prints one line per size:
#     revenue  100MB  <MB/s> MB/s  peak RSS <N> MB
# Wall time is the best of $BENCH_RUNS runs (default 3); peak RSS comes from
# /usr/bin/time (%M) or, without it, python3's getrusage of the child.
# Each report is compared with the one the core computes alone (rev_bench).
#
# Environment (set by bench/bench.am): GEN, REV_BENCH, SLUICE, OUT.
# Optional: BENCH_SIZES="100MB:100000000 1GB:1000000000", BENCH_RUNS=3.
set -eu

: "${GEN:?}" "${REV_BENCH:?}" "${SLUICE:?}" "${OUT:?}"
sizes=${BENCH_SIZES:-"100MB:100000000 1GB:1000000000"}
runs=${BENCH_RUNS:-3}
mkdir -p "$OUT"
config="$OUT/bench.yaml"
cat > "$config" <<YAML
storage: {type: local, root: "$OUT"}
rules:
  - name: revenue
    match: {bucket: "*"}
    plugin: revenue
    output: "s3://reports/{name}"
runs: {dir: "$OUT/runs"}
YAML

have_time=no
[ -x /usr/bin/time ] && /usr/bin/time -f '%e %M' true >/dev/null 2>&1 && have_time=yes
if [ $have_time = no ] && ! command -v python3 >/dev/null 2>&1; then
    echo "run.sh: need /usr/bin/time (GNU) or python3 to measure peak RSS" >&2
    exit 1
fi

# measure CMD...: prints "<seconds> <peak RSS KiB>" of one run.
measure() {
    if [ $have_time = yes ]; then
        t0=$(date +%s.%N)
        /usr/bin/time -f '%M' -o "$OUT/time.out" "$@" >"$OUT/cmd.log" 2>&1 || {
            cat "$OUT/cmd.log" >&2
            return 1
        }
        t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" -v k="$(tail -n 1 "$OUT/time.out")" \
            'BEGIN { printf "%.4f %d\n", b - a, k }'
    else
        python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t0 = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
t = time.perf_counter() - t0
if r.returncode:
    sys.stderr.write(r.stderr.decode(errors="replace"))
    sys.exit(1)
print("%.4f %d" % (t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
PY
    fi
}

# Is the CLI usable? A tiny run must succeed and produce the report.
tool=sluice
"$GEN" --bytes 4096 --out "$OUT/probe.tsv"
rm -f "$OUT/probe.tab" "$OUT/probe.log"
if ! [ -x "$SLUICE" ]; then
    tool=rev_bench
    echo "NOTE: $SLUICE was not built; measuring the plugin core alone" \
         "with bench/rev_bench" >&2
elif ! "$SLUICE" --config "$config" process --rule revenue --output "$OUT/probe.tab" \
        "$OUT/probe.tsv" >"$OUT/probe.log" 2>&1 || ! [ -s "$OUT/probe.tab" ]; then
    tool=rev_bench
    echo "NOTE: the sluice CLI failed on a tiny input (see $OUT/probe.log);" \
         "measuring the plugin core alone with bench/rev_bench" >&2
fi

for spec in $sizes; do
    label=${spec%%:*}
    bytes=${spec#*:}
    data="$OUT/hits-$label.tsv"
    if ! [ -f "$data" ] || [ "$(wc -c < "$data" | tr -d ' ')" != "$bytes" ]; then
        echo "generating $data ($bytes bytes)" >&2
        "$GEN" --bytes "$bytes" --out "$data"
    fi
    cat "$data" > /dev/null # warm the page cache

    out="$OUT/report-$label.tab"
    best=""
    rss=0
    i=0
    while [ $i -lt "$runs" ]; do
        i=$((i + 1))
        rm -f "$out"
        if [ $tool = sluice ]; then
            m=$(measure "$SLUICE" --config "$config" process --rule revenue --output "$out" "$data")
        else
            m=$(measure "$REV_BENCH" "$data" "$out")
        fi
        s=${m% *}
        k=${m#* }
        if [ -z "$best" ] || awk "BEGIN { exit !($s < $best) }"; then best=$s; fi
        [ "$k" -gt "$rss" ] && rss=$k
    done

    "$REV_BENCH" "$data" "$OUT/core-$label.tab" >/dev/null
    if cmp -s "$out" "$OUT/core-$label.tab"; then same=yes; else same=NO; fi
    awk -v l="$label" -v b="$bytes" -v s="$best" -v k="$rss" -v t="$tool" -v same="$same" \
        'BEGIN { printf "revenue  %s  %.0f MB/s  peak RSS %d MB  (%s, best of runs, %.3f s; report matches core: %s)\n", l, b / 1e6 / s, k / 1024, t, s, same }'
done
