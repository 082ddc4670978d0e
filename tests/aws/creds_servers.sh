#!/bin/sh
# creds_servers.sh — the HTTP credential sources against loopback servers:
#   * EC2 IMDSv2 and the ECS/EKS container endpoint: fake_metadata.py, a
#     strict stand-in (exact paths, methods, headers; every request logged);
#   * STS AssumeRoleWithWebIdentity: moto_server;
#   * STS AssumeRole from a role profile, signed: moto_server checking
#     signatures (a wrong secret must be refused).
# creds_driver prints the source and key id of what it got (never a secret);
# at the end no secret handed out by any server may appear in any output.
. "$top_srcdir/tests/lib.sh"

PY=${PYTHON3:-python3}
DRIVER="$top_builddir/tests/aws/creds_driver"
FAKE="$top_srcdir/tests/aws/fake_metadata.py"
LOG="$TMP/fake.log"
ALL="$TMP/all-output" # everything the driver ever printed
FAKE_PID= MOTO_PID=
: > "$ALL"

stop_pid() { # stop_pid PID
    [ -n "$1" ] || return 0
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}
trap 'stop_pid "$FAKE_PID"; stop_pid "$MOTO_PID"; rm -rf "$TMP"' EXIT

# A clean slate: no AWS_* from the caller, an empty HOME, no shared files.
clean_env() {
    for v in $(env | sed -n 's/^\(AWS_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
    HOME="$TMP/home"; export HOME
    mkdir -p "$HOME"
    AWS_SHARED_CREDENTIALS_FILE="$TMP/none/credentials"; export AWS_SHARED_CREDENTIALS_FILE
    AWS_CONFIG_FILE="$TMP/none/config"; export AWS_CONFIG_FILE
}

start_fake() { # start_fake [fake_metadata.py options]
    stop_pid "$FAKE_PID"
    rm -f "$TMP/port" "$LOG"
    "$PY" "$FAKE" --port-file "$TMP/port" --log "$LOG" "$@" 2>>"$TMP/fake.err" &
    FAKE_PID=$!
    FAKE_PORT=$(wait_port_file "$TMP/port") || { echo "Bail out! fake_metadata.py did not start"; exit 1; }
    BASE="http://127.0.0.1:$FAKE_PORT"
}

# drive [creds_driver options]: sets OUT (stdout+stderr) and RC
drive() {
    OUT=$("$DRIVER" "$@" 2>&1); RC=$?
    printf '%s\n' "$OUT" >> "$ALL"
}
lines() { printf '%s\n' "$OUT" | grep -v '^elapsed_ms=' | sed 's/ expires_in=[0-9-]*//'; }
elapsed() { printf '%s\n' "$OUT" | sed -n 's/^elapsed_ms=//p'; }
log() { cat "$LOG" 2>/dev/null; }

IMDS_PUT="PUT /latest/api/token 200"
IMDS_LIST="GET /latest/meta-data/iam/security-credentials/ 200"
IMDS_ROLE="GET /latest/meta-data/iam/security-credentials/sluice-test-role 200"
nl='
'
IMDS_ROUND="$IMDS_PUT$nl$IMDS_LIST$nl$IMDS_ROLE"

[ -x "$DRIVER" ] || { echo "Bail out! $DRIVER not built"; exit 1; }

# ---------------------------------------------------------------- IMDSv2
clean_env
start_fake --expires-in 3600
AWS_EC2_METADATA_SERVICE_ENDPOINT=$BASE; export AWS_EC2_METADATA_SERVICE_ENDPOINT
drive -n 3
is "$RC" 0 "imds: credentials found"
is "$(lines)" "source=imds key=ASIAIMDS1 token=yes secret_len=40
source=imds key=ASIAIMDS1 token=yes secret_len=40
source=imds key=ASIAIMDS1 token=yes secret_len=40" "imds: three gets, one set of keys"
is "$(log)" "$IMDS_ROUND" "imds: token PUT with TTL, role list and role GET with the token, once (cached)"
is "$(printf '%s\n' "$OUT" | grep -c 'expires_in=3[56][0-9][0-9] ')" 3 "imds: expires in about an hour"

: > "$LOG"
drive -n 2 -i
is "$(lines | sed 's/key=ASIAIMDS[0-9]*/key=K/')" "source=imds key=K token=yes secret_len=40
source=imds key=K token=yes secret_len=40" "imds: invalidate"
is "$(log)" "$IMDS_ROUND$nl$IMDS_ROUND" "imds: invalidate fetches again, with a new token"

AWS_EC2_METADATA_SERVICE_ENDPOINT=$BASE/; export AWS_EC2_METADATA_SERVICE_ENDPOINT
: > "$LOG"
drive -n 1
is "$RC" 0 "imds: endpoint with a trailing slash"
is "$(log)" "$IMDS_ROUND" "imds: no double slash in the paths"

start_fake --expires-in 120
AWS_EC2_METADATA_SERVICE_ENDPOINT=$BASE; export AWS_EC2_METADATA_SERVICE_ENDPOINT
drive -n 3
is "$(lines)" "source=imds key=ASIAIMDS1 token=yes secret_len=40
source=imds key=ASIAIMDS2 token=yes secret_len=40
source=imds key=ASIAIMDS3 token=yes secret_len=40" "imds: 2 minutes left: refreshed at every get"
is "$(log)" "$IMDS_ROUND$nl$IMDS_ROUND$nl$IMDS_ROUND" "imds: three full rounds"

start_fake --no-role
AWS_EC2_METADATA_SERVICE_ENDPOINT=$BASE; export AWS_EC2_METADATA_SERVICE_ENDPOINT
drive -n 1
is "$RC" 1 "imds without a role: fails"
like "$OUT" "no AWS credentials found \(environment: AWS_ACCESS_KEY_ID not set; .*EC2 instance metadata at $BASE: no IAM role is attached to this instance" \
    "imds without a role: every source listed, then the reason"

AWS_EC2_METADATA_DISABLED=true; export AWS_EC2_METADATA_DISABLED
: > "$LOG"
drive -n 1
is "$RC" 1 "imds disabled: fails"
like "$OUT" "EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED\)" "imds disabled: says so"
is "$(log)" "" "imds disabled: not asked"
unset AWS_EC2_METADATA_DISABLED

start_fake --hang-token-put
AWS_EC2_METADATA_SERVICE_ENDPOINT=$BASE; export AWS_EC2_METADATA_SERVICE_ENDPOINT
drive -n 1
is "$RC" 1 "imds token PUT unanswered: fails"
like "$OUT" "EC2 instance metadata at $BASE: the token request \(PUT /latest/api/token\) timed out" \
    "imds token PUT unanswered: says the token PUT timed out"
like "$OUT" "hop limit is 1: raise it with \`aws ec2 modify-instance-metadata-options --instance-id <id> --http-put-response-hop-limit 2\`" \
    "imds token PUT unanswered: the hop-limit hint"
# Time bounds: the lower ones are exact (a timeout never fires early, and a
# slow machine only adds time); the upper ones only say "it gave up, long
# before the stand-in's 60 s hang" and leave a loaded machine ample room.
ms=$(elapsed)
ok "$([ "$ms" -ge 1500 ] && [ "$ms" -lt 10000 ]; echo $?)" "imds token PUT unanswered: gives up after the 2 s default ($ms ms)"
drive -n 1 -t 3500
ms=$(elapsed)
ok "$([ "$ms" -ge 3500 ] && [ "$ms" -lt 30000 ]; echo $?)" "imds: the timeout option (3.5 s, above the default) is honoured ($ms ms)"
is "$(log)" "PUT /latest/api/token HANG
PUT /latest/api/token HANG" "imds token PUT unanswered: nothing else asked"

# ------------------------------------------------------ ECS / EKS container
clean_env
start_fake --expires-in 3600 --ecs-token "containerAUTHtoken-5f2c"
AWS_EC2_METADATA_SERVICE_ENDPOINT=$BASE; export AWS_EC2_METADATA_SERVICE_ENDPOINT
AWS_CONTAINER_CREDENTIALS_FULL_URI=$BASE/v1/credentials; export AWS_CONTAINER_CREDENTIALS_FULL_URI
AWS_CONTAINER_AUTHORIZATION_TOKEN=containerAUTHtoken-5f2c; export AWS_CONTAINER_AUTHORIZATION_TOKEN
drive -n 3
is "$RC" 0 "container: credentials found"
is "$(lines)" "source=container key=ASIAECS1 token=yes secret_len=40
source=container key=ASIAECS1 token=yes secret_len=40
source=container key=ASIAECS1 token=yes secret_len=40" "container: three gets, one set of keys"
is "$(log)" "GET /v1/credentials 200" "container: one GET with the exact Authorization; IMDS not asked"

printf '  containerAUTHtoken-5f2c \n' > "$TMP/ecs-token"
AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong-but-the-file-wins
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$TMP/ecs-token; export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
AWS_CONTAINER_CREDENTIALS_FULL_URI=http://localhost:$FAKE_PORT/v1/credentials
: > "$LOG"
drive -n 1
is "$(lines)" "source=container key=ASIAECS2 token=yes secret_len=40" \
    "container: token file (trimmed) wins over the variable; localhost allowed"
is "$(log)" "GET /v1/credentials 200" "container: token file: the exact header"
unset AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE

AWS_CONTAINER_AUTHORIZATION_TOKEN=containerAUTHtoken-wrong
: > "$LOG"
drive -n 1
is "$RC" 1 "container: wrong token: fails"
like "$OUT" "^error: AWS credentials \(container endpoint\): container credentials endpoint http://localhost:$FAKE_PORT/v1/credentials \(AWS_CONTAINER_CREDENTIALS_FULL_URI\): HTTP 401 \(InvalidToken: authorization mismatch\)" \
    "container: wrong token: status and AWS error in the message"
unset AWS_CONTAINER_AUTHORIZATION_TOKEN
: > "$LOG"
drive -n 1
is "$RC" 1 "container: no token: refused by the strict stand-in"
like "$(log)" "GET /v1/credentials 401 BAD Authorization is wrong or missing" "container: no token: no header sent"

start_fake --expires-in 200 --ecs-token "containerAUTHtoken-5f2c"
AWS_CONTAINER_CREDENTIALS_FULL_URI=$BASE/v1/credentials
AWS_CONTAINER_AUTHORIZATION_TOKEN=containerAUTHtoken-5f2c; export AWS_CONTAINER_AUTHORIZATION_TOKEN
drive -n 2
is "$(lines)" "source=container key=ASIAECS1 token=yes secret_len=40
source=container key=ASIAECS2 token=yes secret_len=40" "container: short expiry: refreshed"
is "$(log)" "GET /v1/credentials 200
GET /v1/credentials 200" "container: two GETs"

start_fake --ecs-path /v2/credentials/task-uuid-42 --ecs-token containerAUTHtoken-5f2c
unset AWS_CONTAINER_CREDENTIALS_FULL_URI
AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/task-uuid-42; export AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
AWS_CONTAINER_CREDENTIALS_FULL_URI=$BASE/v1/credentials; export AWS_CONTAINER_CREDENTIALS_FULL_URI
drive -n 1 -t 300
is "$RC" 1 "container: the relative URI wins over the full one (169.254.170.2 is not here)"
like "$OUT" "container credentials endpoint http://169.254.170.2 \(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI\)" \
    "container: relative URI goes to 169.254.170.2"
unlike "$OUT" "task-uuid-42" "container: the relative path is not repeated"
is "$(log)" "" "container: relative URI: the loopback stand-in was not asked"

# ------------------------------------------------------------ STS (moto)
if ! command -v moto_server >/dev/null 2>&1; then
    echo "# SKIP moto_server not installed: web identity and AssumeRole untested"
    for t in "web identity" "assume role"; do
        _n=$((_n + 1)); echo "ok $_n - $t # SKIP moto_server not installed"
    done
else
    stop_pid "$FAKE_PID"; FAKE_PID=
    clean_env
    launch_moto "$TMP/moto.log" ""   # bails out if it does not start
    PORT=$MOTO_PORT
    printf 'webIDENTITYtoken-eyJhbGciOi.payload.sig\n' > "$TMP/web-token"
    AWS_WEB_IDENTITY_TOKEN_FILE=$TMP/web-token; export AWS_WEB_IDENTITY_TOKEN_FILE
    AWS_ROLE_ARN=arn:aws:iam::123456789012:role/test; export AWS_ROLE_ARN
    AWS_ENDPOINT_URL_STS=http://127.0.0.1:$PORT; export AWS_ENDPOINT_URL_STS
    AWS_REGION=us-east-1; export AWS_REGION
    AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1; export AWS_EC2_METADATA_SERVICE_ENDPOINT
    drive -n 2
    is "$RC" 0 "web identity: credentials from moto's STS"
    like "$OUT" "^source=web-identity key=ASIA[A-Z0-9]{16} token=yes expires_in=3[56][0-9][0-9] secret_len=40$" \
        "web identity: temporary keys that expire in an hour"
    is "$(printf '%s\n' "$OUT" | grep -c '^source=web-identity')" 2 "web identity: second get served"
    is "$(grep -c 'POST / ' "$TMP/moto.log")" 1 "web identity: one STS call (cached)"
    AWS_ROLE_SESSION_NAME=sluice-ci; export AWS_ROLE_SESSION_NAME
    printf '[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = fileSECRETkey\n' \
        > "$TMP/credentials"
    AWS_SHARED_CREDENTIALS_FILE=$TMP/credentials; export AWS_SHARED_CREDENTIALS_FILE
    drive -n 1
    like "$OUT" "^source=web-identity key=ASIA" "web identity: before the shared files"
    is "$(grep -c 'POST / ' "$TMP/moto.log")" 2 "web identity: a new provider asks STS again"
    unset AWS_WEB_IDENTITY_TOKEN_FILE
    drive -n 1
    like "$OUT" "^source=profile:default key=AKIDFILE token=no expires_in=never secret_len=13" \
        "without the token file: the shared files"
    unset AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME
    stop_pid "$MOTO_PID"; MOTO_PID=

    # AssumeRole from a role profile, against moto checking signatures
    if ! command -v aws >/dev/null 2>&1; then
        _n=$((_n + 1)); echo "ok $_n - assume role # SKIP awscli not installed"
    else
        launch_moto "$TMP/moto.log" INITIAL_NO_AUTH_ACTION_COUNT=3   # bails out if it does not start
        PORT=$MOTO_PORT
        awsm() { AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap \
            AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
            aws --endpoint-url "http://127.0.0.1:$PORT" --region us-east-1 "$@"; }
        awsm iam create-user --user-name sluice >/dev/null 2>&1
        awsm iam put-user-policy --user-name sluice --policy-name all --policy-document \
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' >/dev/null 2>&1
        KEYS=$(awsm iam create-access-key --user-name sluice --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text 2>&1)
        AKID=$(printf '%s' "$KEYS" | cut -f1); SECRET=$(printf '%s' "$KEYS" | cut -f2)
        like "$AKID" "^AKIA" "assume role: an IAM key made in moto"
        printf '%s\n' "$SECRET" > "$TMP/iam-secret"
        cat > "$TMP/config" <<EOF
[profile src]
aws_access_key_id = $AKID
aws_secret_access_key = $SECRET
[profile worker]
role_arn = arn:aws:iam::123456789012:role/test
source_profile = src
role_session_name = sluice-assume
[profile badsrc]
aws_access_key_id = $AKID
aws_secret_access_key = roleSECRETsource-wrong
[profile badworker]
role_arn = arn:aws:iam::123456789012:role/test
source_profile = badsrc
EOF
        AWS_CONFIG_FILE=$TMP/config; export AWS_CONFIG_FILE
        AWS_ENDPOINT_URL_STS=http://127.0.0.1:$PORT; export AWS_ENDPOINT_URL_STS
        AWS_REGION=us-east-1; export AWS_REGION
        AWS_PROFILE=worker; export AWS_PROFILE
        drive -n 1
        is "$RC" 0 "assume role: a role profile, signed with the source profile's keys"
        like "$OUT" "^source=assume-role:worker key=ASIA[A-Z0-9]{16} token=yes expires_in=3[56][0-9][0-9] secret_len=40$" \
            "assume role: temporary keys"
        drive -n 1 -p badworker
        is "$RC" 1 "assume role: a wrong source secret is refused"
        like "$OUT" "^error: AWS credentials \(shared files\): STS AssumeRole at http://127.0.0.1:$PORT: HTTP 403 SignatureDoesNotMatch" \
            "assume role: SignatureDoesNotMatch in one line"
        ! grep -qF -f "$TMP/iam-secret" "$ALL"; ok $? "assume role: the IAM secret never printed"
        stop_pid "$MOTO_PID"; MOTO_PID=
    fi
fi

# ------------------------------------------------------------- secrets
unlike "$(cat "$ALL")" "SECRET|SESSION|imdsTOKEN|containerAUTHtoken|webIDENTITYtoken" \
    "no secret, session token, IMDS token, auth token or web identity token in any output"
unlike "$(cat "$TMP/fake.err" 2>/dev/null)" "Traceback" "the stand-in did not crash"
done_testing
