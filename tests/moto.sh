# tests/moto.sh — start a private moto_server for a test (sourced after
# tests/lib.sh), through tests/moto_server.py (stock moto with two emulator
# bugs fixed: see that file). Binds 127.0.0.1 on a port the kernel picks
# (reported through a port file: no race for a port chosen in advance) and
# is stopped by PID when the test exits.
#   moto_start [ENV=VALUE ...]   sets MOTO_PORT, MOTO_URL, MOTO_PID
#   awsm ARGS...                 awscli against it
#   sqs_queue NAME [ATTRS-JSON]  creates a queue, prints its URL
#   sqs_send URL BODY            sends one message
#   sqs_depth URL                "VISIBLE IN-FLIGHT"
command -v moto_server >/dev/null 2>&1 || skip_all "moto_server not installed (pip install 'moto[server]')"
command -v aws >/dev/null 2>&1 || skip_all "awscli not installed"

moto_start() {
    launch_moto "$TMP/moto.log" "$*"
    MOTO_URL="http://127.0.0.1:$MOTO_PORT"
    trap 'kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
    export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
    unset AWS_PROFILE AWS_SESSION_TOKEN
}

awsm() { aws --endpoint-url "$MOTO_URL" --output text "$@"; }

sqs_queue() {
    if [ -n "${2:-}" ]; then awsm sqs create-queue --queue-name "$1" --attributes "$2" --query QueueUrl
    else awsm sqs create-queue --queue-name "$1" --query QueueUrl; fi
}
sqs_send() { awsm sqs send-message --queue-url "$1" --message-body "$2" >/dev/null; }
sqs_depth() {
    awsm sqs get-queue-attributes --queue-url "$1" --attribute-names All \
        --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' | tr '\t' ' '
}
