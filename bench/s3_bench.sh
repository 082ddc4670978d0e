#!/bin/sh
# bench/s3_bench.sh — sluice's S3 throughput next to awscli's, against one
# moto_server on loopback, in one run (`make bench-s3`). Prints MB/s for:
#   aws s3 cp   upload   LOCAL -> s3://bench/aws-up.tsv
#   sluice      upload   LOCAL -> s3:// through linecount (multipart upload)
#   aws s3 cp   download s3://bench/hits.tsv -> a local file
#   sluice      download s3://bench/hits.tsv through linecount (count mode)
#   sluice      download s3://bench/hits.tsv into the revenue plugin
# on the same 1 GB object of generated hit data (bench/gen_hits). Each is the
# best of $BENCH_RUNS rounds (default 3); a round runs every measurement
# once, so background load hits the tools alike. moto runs without
# signature checking (both clients sign anyway), so the server does the
# same work for each. awscli downloads with parallel ranged GETs, sluice
# with one streamed GET (read-ahead overlapping the plugin).
#
# Environment (from bench/s3.am): GEN, SLUICE, OUT. Optional:
# BENCH_S3_BYTES (default 1000000000), BENCH_RUNS, BENCH_S3_PART_SIZE
# (default 8388608).
set -eu

: "${GEN:?}" "${SLUICE:?}" "${OUT:?}"
bytes=${BENCH_S3_BYTES:-1000000000}
runs=${BENCH_RUNS:-3}
part=${BENCH_S3_PART_SIZE:-8388608}
for tool in moto_server aws python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "s3_bench: $tool is not installed" >&2; exit 1; }
done
mkdir -p "$OUT"
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-s3bench.XXXXXX")
moto_pid=""
cleanup() {
    [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

data="$OUT/hits-1GB.tsv"
[ "$bytes" = 1000000000 ] || data="$OUT/hits-$bytes.tsv"
if ! [ -f "$data" ] || [ "$(wc -c <"$data" | tr -d ' ')" != "$bytes" ]; then
    echo "generating $data ($bytes bytes)" >&2
    "$GEN" --bytes "$bytes" --out "$data"
fi
cat "$data" >/dev/null # warm the page cache

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
python3 - "$port" <<'PY'
import socket, sys, time
for _ in range(400):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit("moto_server did not start")
PY
url="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1 \
    AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
export AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/aws-credentials"
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
awsm() { aws --endpoint-url "$url" "$@"; }
printf '[default]\ns3 =\n    multipart_threshold = 16GB\n' >"$work/aws-config-single"
awsm s3 mb s3://bench >/dev/null

cat >"$work/sluice.yaml" <<YAML
storage:
  type: s3
  endpoint: $url
  region: us-east-1
  part_size: $part
rules:
  - name: revenue
    match: {bucket: bench}
    plugin: revenue
    output: "$work/{name}"
  - name: count
    match: {bucket: bench}
    plugin: linecount
    options: {mode: count}
    output: "$work/{name}.count"
  - name: copy
    match: {bucket: "*"}
    plugin: linecount
    output: "s3://bench/sluice-up.tsv"
YAML

# measure ID CMD...: one timed run; keeps the best time per ID in $work/ID.best
measure() {
    id=$1
    shift
    t0=$(date +%s.%N)
    if ! "$@" >"$work/cmd.out" 2>"$work/cmd.err"; then
        echo "s3_bench: $id failed:" >&2
        tail -n 5 "$work/cmd.err" >&2
        exit 1
    fi
    case $id in sluice_*)
        # a job that was skipped (e.g. as a duplicate) prints no output
        [ -s "$work/cmd.out" ] || { echo "s3_bench: $id ran no job" >&2; exit 1; } ;;
    esac
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v f="$work/$id.best" 'BEGIN {
        t = b - a; best = ""
        if ((getline line < f) > 0) best = line
        close(f)
        if (best == "" || t < best + 0) print t > f }'
}
mbs() { awk -v n="$bytes" -v f="$work/$1.best" 'BEGIN { getline t < f; printf "%.0f", n / t / 1e6 }'; }
secs() { cat "$work/$1.best"; }
report() { printf '%-44s %8s MB/s  (%.2f s)\n' "$2" "$(mbs "$1")" "$(secs "$1")"; }

# Rounds interleave the tools, so background load hits them alike.
awsm s3 cp "$data" s3://bench/hits.tsv >/dev/null
round=1
while [ $round -le "$runs" ]; do
    echo "round $round of $runs" >&2
    measure aws_up awsm s3 cp "$data" s3://bench/aws-up.tsv
    # --force: every round is a new run, not a duplicate of the last one
    measure sluice_up "$SLUICE" -q -c "$work/sluice.yaml" process --force --rule copy "$data"
    if [ $round -eq 1 ]; then
        # awscli's default: parallel ranged GETs, each of which moto serves by
        # re-reading the object; slow on moto, so measured once
        measure aws_down awsm s3 cp s3://bench/hits.tsv "$work/aws-down.tsv"
        rm -f "$work/aws-down.tsv"
    fi
    # awscli's best case here: one streamed GET (threshold above the size)
    measure aws_down1 env AWS_CONFIG_FILE="$work/aws-config-single" \
        aws --endpoint-url "$url" s3 cp s3://bench/hits.tsv "$work/aws-down.tsv"
    rm -f "$work/aws-down.tsv"
    measure sluice_count "$SLUICE" -q -c "$work/sluice.yaml" process --force --rule count s3://bench/hits.tsv
    measure sluice_revenue "$SLUICE" -q -c "$work/sluice.yaml" process --force --rule revenue \
        s3://bench/hits.tsv
    round=$((round + 1))
done
got=$(awsm s3api head-object --bucket bench --key sluice-up.tsv --query ContentLength --output text)
[ "$got" = "$bytes" ] || { echo "s3_bench: sluice's upload has $got bytes" >&2; exit 1; }
[ "$(cat "$work/hits.tsv.count")" = "$(wc -l <"$data" | tr -d ' ')" ] ||
    { echo "s3_bench: sluice's line count differs from wc -l" >&2; exit 1; }

echo "S3 throughput: $bytes-byte object, one moto_server on $url, best of $runs rounds"
report aws_up "upload    aws s3 cp"
report sluice_up "upload    sluice (linecount copy, multipart)"
report aws_down "download  aws s3 cp (default, ranged GETs)"
report aws_down1 "download  aws s3 cp (one GET stream)"
report sluice_count "download  sluice -> linecount (count mode)"
report sluice_revenue "download  sluice -> revenue plugin"
best_aws_down=$(awk -v a="$(mbs aws_down)" -v b="$(mbs aws_down1)" 'BEGIN { print (a > b ? a : b) }')
echo "sluice / awscli (awscli's better download): upload $(awk -v a="$(mbs sluice_up)" -v b="$(mbs aws_up)" 'BEGIN { printf "%.2f", a / b }')x," \
    "download $(awk -v a="$(mbs sluice_count)" -v b="$best_aws_down" 'BEGIN { printf "%.2f", a / b }')x," \
    "download into revenue $(awk -v a="$(mbs sluice_revenue)" -v b="$best_aws_down" 'BEGIN { printf "%.2f", a / b }')x"
