# tests/storage/s3_lib.sh — the S3 tests' harness: a moto_server on a loopback
# port the kernel picks with signature checking on, an IAM key made for the test,
# awscli pointed at it, and a sluice config for the s3 backend. With
# S3_SERVER=rgw set before sourcing, the server is Ceph's RADOS Gateway
# instead (tests/rgw.sh; start_rgw), a real S3 implementation.
#
# Sourced after tests/lib.sh. Skips the whole file (loudly) only when
# moto_server is not installed; awscli and python3 are then required.
# With S3_SERVER=rgw: skips (loudly) when Ceph's daemons are not installed,
# or awscli or boto3 (the reference clients) are not.
#
# moto is started through tests/moto_server.py, stock moto_server with
# one fix: signatures are checked against the request path as sent (moto
# 5.x checks a decoded copy, which rejects correctly signed keys with '+',
# '%' or non-ASCII characters, from awscli as much as from sluice).
. "$top_srcdir/tests/lib.sh"

S3DIR="$top_srcdir/tests/storage"
if [ "${S3_SERVER:-moto}" = rgw ]; then
    . "$top_srcdir/tests/rgw.sh"
    command -v aws >/dev/null 2>&1 || skip_all "awscli not installed (the reference client; pip install awscli)"
    "$RGW_PY" -c 'import boto3' 2>/dev/null ||
        skip_all "boto3 not installed (the reference client; pip install boto3)"
else
    if ! command -v moto_server >/dev/null 2>&1; then
        echo "# moto_server is not installed: the S3 tests cannot run (pip install 'moto[server]')" >&2
        skip_all "moto_server not installed"
    fi
    for tool in aws python3; do
        command -v "$tool" >/dev/null 2>&1 || {
            echo "Bail out! moto_server is installed but $tool is not"
            exit 1
        }
    done
fi

# A clean AWS environment: nothing from the developer's profile leaks in.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 \
    AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
    AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CA_BUNDLE
export AWS_CONFIG_FILE="$TMP/aws-config" AWS_SHARED_CREDENTIALS_FILE="$TMP/aws-credentials"
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER="" AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=2
: > "$AWS_CONFIG_FILE"
: > "$AWS_SHARED_CREDENTIALS_FILE"

_pids=""
_cleanup() {
    [ -z "${RGW_PIDS:-}" ] || rgw_stop
    for p in $_pids; do kill "$p" 2>/dev/null; done
    for p in $_pids; do wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM


# start_moto [extra moto_server options]: sets MOTO_PORT, MOTO_URL
# (https when MOTO_SCHEME=https, for a server started with -c/-k), and
# S3_PORT, S3_URL: the server's, whichever it is. MOTO_ENV: more VAR=VALUE
# for the server's environment.
start_moto() {
    launch_moto "$TMP/moto.log" "INITIAL_NO_AUTH_ACTION_COUNT=${MOTO_NO_AUTH:-3} ${MOTO_ENV:-}" "$@"
    _pids="$_pids $MOTO_PID"
    MOTO_URL="${MOTO_SCHEME:-http}://127.0.0.1:$MOTO_PORT"
    S3_PORT=$MOTO_PORT S3_URL=$MOTO_URL
}

# start_rgw (S3_SERVER=rgw): a Ceph RADOS Gateway cluster of its own
# (tests/rgw.sh: rgw_start, stopped by SIGKILL at exit) and its S3 user's
# key in the environment. Sets S3_PORT, S3_URL and the RGW_* variables.
# Clients that sign the payload in a trailer (boto3 >= 1.36 by default)
# are told to compute checksums only where required: Ceph 16 predates
# those trailers.
start_rgw() {
    awsd_start
    rgw_start
    trap _cleanup EXIT
    S3_PORT=$RGW_PORT S3_URL=$RGW_URL
    AWS_ACCESS_KEY_ID=$RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$RGW_SECRET_KEY
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
}

awsm() { aws --endpoint-url "$S3_URL" "$@"; }

# make_iam_key: the moto recipe. The first three requests are not
# checked; they make a user, an allow-all policy and a key. From then on
# every request's signature is recomputed, and only that key works. One
# boto3 process for the three: each awscli start costs about 0.5 s of CPU.
make_iam_key() {
    _key=$("${PYTHON3:-python3}" - "$S3_URL" <<'PY'
import json, sys
import boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="sluice-test")
iam.put_user_policy(UserName="sluice-test", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
k = iam.create_access_key(UserName="sluice-test")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
) && [ -n "$_key" ] || {
        echo "Bail out! could not create an IAM key in moto"
        exit 1
    }
    AWS_ACCESS_KEY_ID=${_key% *} AWS_SECRET_ACCESS_KEY=${_key#* }
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
}

# start_moto_checked: moto with signature checking on and a key in the env.
start_moto_checked() {
    start_moto "$@"
    make_iam_key
}

# random_lines LINES SEED > FILE: LINES lines of 16 hex digits, the same
# for the same seed (17 bytes a line: a multipart-sized input).
random_lines() {
    python3 -c '
import random, sys
r = random.Random(int(sys.argv[2]))
sys.stdout.buffer.write(b"".join(b"%016x\n" % r.getrandbits(64) for _ in range(int(sys.argv[1]))))
' "$1" "$2"
}

# s3_config FILE ENDPOINT [extra storage lines...]: a sluice config using
# the s3 backend; rules are appended with add_rule_to FILE.
s3_config() {
    _f=$1 _ep=$2
    shift 2
    {
        echo "storage:"
        echo "  type: s3"
        [ -n "$_ep" ] && echo "  endpoint: $_ep"
        echo "  region: us-east-1"
        for line in "$@"; do echo "  $line"; done
        echo "plugins:"
        echo "  path: [$top_builddir/tests/plugins]"
        echo "rules:"
    } >"$_f"
}
add_rule_to() { printf '%s\n' "$2" >>"$1"; }

# Does the config loader accept these storage keys yet? (The loader
# rejects unknown keys; new ones land with the lead's config.c.)
config_accepts() { # config_accepts FILE
    "$SLUICE" -c "$1" validate >/dev/null 2>&1
}

# start_proxy RULES_FILE: the fault-injecting proxy in front of the server; sets
# PROXY_PORT, PROXY_URL, PROXY_LOG.
start_proxy() {
    PROXY_LOG="$TMP/proxy.log"
    : >"$PROXY_LOG"
    rm -f "$TMP/proxy.port"
    python3 "$S3DIR/faultproxy.py" --upstream "127.0.0.1:$S3_PORT" --rules "$1" \
        --log "$PROXY_LOG" --port-file "$TMP/proxy.port" 2>"$TMP/proxy.err" &
    _pids="$_pids $!"
    if ! PROXY_PORT=$(wait_port_file "$TMP/proxy.port"); then
        echo "Bail out! the fault proxy did not start"
        sed 's/^/# /' "$TMP/proxy.err"
        exit 1
    fi
    PROXY_URL="http://127.0.0.1:$PROXY_PORT"
}

# open_uploads BUCKET: how many multipart uploads are still open.
open_uploads() {
    if _j=$(awsm s3api list-multipart-uploads --bucket "$1" --output json 2>&1); then
        printf '%s' "$_j" |
            python3 -c 'import json,sys; t=sys.stdin.read().strip(); print(len(json.loads(t).get("Uploads", [])) if t else 0)'
    else
        echo "error: $_j"
    fi
}
# object_state BUCKET KEY -> "present", "absent" (404) or "error: ..."
object_state() {
    if _e=$(awsm s3api head-object --bucket "$1" --key "$2" 2>&1 >/dev/null); then
        echo present
    elif printf '%s' "$_e" | grep -q '(404)'; then
        echo absent
    else
        echo "error: $_e"
    fi
}
