# tests/moto.sh — start a private moto_server for a test (sourced after
# tests/lib.sh), through tests/moto_server.py (stock moto with two emulator
# bugs fixed: see that file). Binds 127.0.0.1 on a free port, waits with a plain TCP
# connect (with signature checking on, every HTTP request counts), and is
# stopped by PID when the test exits.
#   moto_start [ENV=VALUE ...]   sets MOTO_PORT, MOTO_URL, MOTO_PID
#   awsm ARGS...                 awscli against it
command -v moto_server >/dev/null 2>&1 || skip_all "moto_server not installed (pip install 'moto[server]')"
command -v aws >/dev/null 2>&1 || skip_all "awscli not installed"

moto_start() {
    MOTO_PORT=$(free_port)
    MOTO_URL="http://127.0.0.1:$MOTO_PORT"
    env "$@" "$PYTHON3" "$top_srcdir/tests/moto_server.py" -H 127.0.0.1 -p "$MOTO_PORT" >"$TMP/moto.log" 2>&1 &
    MOTO_PID=$!
    trap 'kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
    wait_port "$MOTO_PORT" 20 || { echo "Bail out! moto_server did not start"; cat "$TMP/moto.log"; exit 1; }
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
    export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
    unset AWS_PROFILE AWS_SESSION_TOKEN
}

awsm() { aws --endpoint-url "$MOTO_URL" --output text "$@"; }
