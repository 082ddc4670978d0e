#!/bin/sh
# bench/feed_run.sh — the revenue job on a real-width Adobe Analytics
# delivery, run by `make bench` after bench/run.sh (whose 12-column figures
# it leaves alone).
#
# Generates (once; reused while the size matches) a delivery of FEED_BYTES
# uncompressed hit data with bench/gen_delivery: 279 columns, ~1.5 KB rows,
# FEED_FILES gzip'd data files, lookup archive, manifest, under
# $OUT/feeds/<label>/, plus the same records uncompressed in
# $OUT/feed-<label>.tsv. Then, on the same machine in one run, best of
# BENCH_RUNS:
#   revenue plain   sluice process on the uncompressed file, `columns` from
#                   the lookup archive's column_headers.tsv
#   revenue gzip'd  sluice process on the manifest through a `delivery: adobe`
#                   rule (the engine decompresses; the plugin gets the names
#                   from the lookup archive), after a small delivery's
#                   report is checked against the core's.
#   ISA-L inflate alone (bench/codec_bench --inflate), gzip -dc, zstd -dc
#                   of the same .gz files (the yardsticks)
# and prints MB/s of uncompressed data, peak RSS, wall and CPU seconds (the
# machine may be shared: CPU time says what the job itself cost), and the
# gzip'd run's wall time as a multiple of the plain one's (target <= 1.25).
# Every report is compared with the one the plugin core gives (rev_bench).
#
# Environment (set by bench/bench.am): GEN_DELIVERY, REV_BENCH, CODEC_BENCH,
# SLUICE, OUT.
# Optional: FEED_BYTES (1000000000), FEED_LABEL (1GB), FEED_FILES (4),
# BENCH_RUNS (3).
set -eu

: "${GEN_DELIVERY:?}" "${REV_BENCH:?}" "${CODEC_BENCH:?}" "${SLUICE:?}" "${OUT:?}"
bytes=${FEED_BYTES:-1000000000}
label=${FEED_LABEL:-1GB}
files=${FEED_FILES:-4}
runs=${BENCH_RUNS:-3}
rsid=benchrsid
day=2009-09-27
mkdir -p "$OUT/feeds"
dir="$OUT/feeds/$label"
plain="$OUT/feed-$label.tsv"
stamp="$OUT/feed-$label.stamp"
manifest="$dir/${rsid}_$day.txt"

if ! [ -x /usr/bin/time ] || ! /usr/bin/time -f '%e' true >/dev/null 2>&1; then
    echo "feed_run.sh: needs GNU time (/usr/bin/time, Debian package time)" >&2
    exit 1
fi

want="$bytes $files $(cksum < "$GEN_DELIVERY" | cut -d' ' -f1)"
if ! [ -f "$manifest" ] || ! [ -f "$plain" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "generating the $label delivery in $dir" >&2
    rm -rf "$dir" "$plain" "$stamp"
    "$GEN_DELIVERY" --bytes "$bytes" --files "$files" --rsid $rsid --date $day \
        --out "$dir" --plain "$plain" >&2
    echo "$want" > "$stamp"
fi
tar -xzf "$dir/${rsid}_$day-lookup_data.tar.gz" -O column_headers.tsv > "$OUT/feed-columns.tsv"
size=$(wc -c < "$plain" | tr -d ' ')

cat > "$OUT/feed.yaml" <<YAML
storage: {type: local, root: "$OUT"}
rules:
  - name: feed_plain
    match: {bucket: "*"}
    plugin: revenue
    output: "s3://reports/{name}"
    options: {columns: "$OUT/feed-columns.tsv"}
runs: {dir: "$OUT/runs-feed"}
YAML
cat > "$OUT/feed-delivery.yaml" <<YAML
storage: {type: local, root: "$OUT"}
rules:
  - name: feed_delivery
    match: {bucket: feeds, suffix: .txt}
    delivery: adobe
    plugin: revenue
    output: "s3://reports/{name}"
runs: {dir: "$OUT/runs-feed-delivery"}
YAML

# measure CMD...: "<wall s> <cpu s> <peak RSS KiB>" of one run
measure() {
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S %M' -o "$OUT/time.out" "$@" >"$OUT/cmd.log" 2>&1 || {
        cat "$OUT/cmd.log" >&2
        return 1
    }
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" '{ printf "%.4f %.2f %d\n", b - a, $1 + $2, $3 }' "$OUT/time.out"
}

# best NAME CMD...: best of $runs; sets best_wall, best_cpu, peak_kib
best() {
    best_wall="" best_cpu="" peak_kib=0
    i=0
    while [ $i -lt "$runs" ]; do
        i=$((i + 1))
        m=$(measure "$@") || return 1
        # a sluice run counts only when it did the job (not skipped)
        if [ "$1" = "$SLUICE" ] && ! grep -q 'state=SUCCEEDED' "$OUT/cmd.log"; then
            echo "feed_run.sh: the job did not run:" >&2
            cat "$OUT/cmd.log" >&2
            return 1
        fi
        w=${m%% *} rest=${m#* }
        c=${rest%% *} k=${rest#* }
        if [ -z "$best_wall" ] || awk "BEGIN { exit !($w < $best_wall) }"; then
            best_wall=$w best_cpu=$c
        fi
        if [ "$k" -gt "$peak_kib" ]; then peak_kib=$k; fi
    done
}

line() { # line LABEL WHAT EXTRA
    awk -v l="$1" -v lab="$label" -v s="$size" -v w="$best_wall" -v c="$best_cpu" \
        -v k="$peak_kib" -v x="$2" 'BEGIN { printf "%-22s %s  %5.0f MB/s  peak RSS %4d MB  (best of runs: %.3f s wall, %.2f s CPU)%s\n", l, lab, s / 1e6 / w, k / 1024, w, c, x }'
}

# The core against the independent Python model of the contract, on a small
# delivery of the same generator, with each rule on and off.
if command -v python3 >/dev/null 2>&1; then
    small="$OUT/feeds/model"
    rm -rf "$small"
    "$GEN_DELIVERY" --bytes 5000000 --files 2 --rsid $rsid --date $day --out "$small" \
        --plain "$OUT/model-plain.tsv" >/dev/null
    for opt in "" --no-escapes --no-exclude --ip --ip-ua --first; do
        python3 "$(dirname "$0")/ref_revenue.py" --columns "$OUT/feed-columns.tsv" $opt \
            "$OUT/model-plain.tsv" > "$OUT/model-ref.tab"
        "$REV_BENCH" --columns "$OUT/feed-columns.tsv" $opt "$OUT/model-plain.tsv" \
            "$OUT/model-core.tab" >/dev/null
        if cmp -s "$OUT/model-ref.tab" "$OUT/model-core.tab"; then r=yes; else r=NO; fi
        echo "model check ${opt:-(defaults)}: the core's report equals ref_revenue.py's: $r"
    done
fi

"$REV_BENCH" --columns "$OUT/feed-columns.tsv" "$plain" "$OUT/feed-core-$label.tab" >/dev/null
cat "$plain" > /dev/null # warm the page cache
cat "$dir"/*.tsv.gz > /dev/null

out="$OUT/feed-report-$label.tab"
rm -f "$out"
best "$SLUICE" --config "$OUT/feed.yaml" process --force --rule feed_plain --output "$out" "$plain"
plain_wall=$best_wall
if cmp -s "$out" "$OUT/feed-core-$label.tab"; then same=yes; else same=NO; fi
line "revenue feed plain" "; report matches core: $same"

# The gzip'd delivery: first a small one, whose report must equal the core's.
probe="$OUT/feeds/probe"
rm -rf "$probe" "$OUT/probe-plain.tsv" "$OUT/probe-delivery.tab"
"$GEN_DELIVERY" --bytes 300000 --files 2 --rsid $rsid --date $day --out "$probe" \
    --plain "$OUT/probe-plain.tsv" >/dev/null
"$REV_BENCH" --columns "$OUT/feed-columns.tsv" "$OUT/probe-plain.tsv" "$OUT/probe-core.tab" >/dev/null
if ! "$SLUICE" --config "$OUT/feed-delivery.yaml" process --rule feed_delivery \
        --output "$OUT/probe-delivery.tab" "s3://feeds/probe/${rsid}_$day.txt" \
        >"$OUT/probe-delivery.log" 2>&1 ||
    ! cmp -s "$OUT/probe-delivery.tab" "$OUT/probe-core.tab"; then
    echo "feed_run.sh: the delivery rule failed or differs from the core on a small delivery" \
        "(see $OUT/probe-delivery.log, $OUT/probe-delivery.tab)" >&2
    exit 1
fi
gout="$OUT/feed-report-gz-$label.tab"
rm -f "$gout"
best "$SLUICE" --config "$OUT/feed-delivery.yaml" process --force --rule feed_delivery \
    --output "$gout" "s3://feeds/$label/${rsid}_$day.txt"
gz_wall=$best_wall
if cmp -s "$gout" "$OUT/feed-core-$label.tab"; then same=yes; else same=NO; fi
ratio=$(awk -v g="$best_wall" -v p="$plain_wall" 'BEGIN { printf "%.2f", g / p }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.25) ? "within" : "ABOVE" }')
line "revenue feed gzip'd" "; report matches core: $same; wall ${ratio}x plain ($verdict the 1.25x target)"

# Yardsticks. ISA-L's inflate alone, streamed as the engine streams it, is
# the floor of the gzip'd run's wall time: one gzip stream inflates on one
# core, and the files must reach the plugin in manifest order.
best "$CODEC_BENCH" --inflate "$dir"/*.tsv.gz
ratio=$(awk -v g="$gz_wall" -v i="$best_wall" 'BEGIN { printf "%.2f", g / i }')
line "ISA-L inflate alone" "; the gzip'd run's wall is ${ratio}x this"
best sh -c 'gzip -dc "$@" > /dev/null' gzip "$dir"/*.tsv.gz
line "gzip -dc (yardstick)" ""
if command -v zstd >/dev/null 2>&1; then
    best sh -c 'zstd -q -dc "$@" > /dev/null' zstd "$dir"/*.tsv.gz
    line "zstd -dc (yardstick)" ""
else
    echo "zstd -dc (yardstick)   $label  SKIPPED: zstd is not installed"
fi
