# tests/lib.sh — TAP helpers for the end-to-end shell tests.
# Sourced by tests/cli/*.sh; automake runs them with tap-driver.sh.
# Environment from the Makefile: top_srcdir, top_builddir, SLUICE (binary).
set -u
_n=0
_failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
: "${top_srcdir:=.}" "${top_builddir:=.}"
: "${SLUICE:=$top_builddir/sluice}"
DATA="$top_srcdir/tests/data"

ok() { # ok CONDITION_EXIT_CODE NAME (a NAME with "# TODO why" is a known bug)
    _n=$((_n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else
        echo "not ok $_n - $2"
        case "$2" in *"# TODO"*) ;; *) _failed=$((_failed + 1)) ;; esac
    fi
}
is() { # is GOT WANT NAME
    _n=$((_n + 1))
    if [ "$1" = "$2" ]; then echo "ok $_n - $3"; else
        echo "not ok $_n - $3"; _failed=$((_failed + 1))
        printf '%s\n' "$1" | sed 's/^/#   got:  /'; printf '%s\n' "$2" | sed 's/^/#   want: /'
    fi
}
like() { # like GOT GREP_ERE NAME
    _n=$((_n + 1))
    if printf '%s' "$1" | grep -Eq -- "$2"; then echo "ok $_n - $3"; else
        echo "not ok $_n - $3"; _failed=$((_failed + 1))
        printf '%s\n' "$1" | head -20 | sed 's/^/#   got:  /'; echo "#   want match: $2"
    fi
}
unlike() { # unlike GOT GREP_ERE NAME
    _n=$((_n + 1))
    if printf '%s' "$1" | grep -Eq -- "$2"; then echo "not ok $_n - $3"; _failed=$((_failed + 1))
        printf '%s\n' "$1" | grep -E -- "$2" | head -5 | sed 's/^/#   matched:  /'
    else echo "ok $_n - $3"; fi
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
done_testing() { echo "1..$_n"; [ "$_failed" -eq 0 ]; }

# A workspace: $TMP/root is the local storage root, $TMP/sluice.yaml a
# config whose rules the test appends. Test plugins are on the path.
make_workspace() {
    mkdir -p "$TMP/root/in" "$TMP/root/out"
    cat > "$TMP/sluice.yaml" <<YAML
storage:
  type: local
  root: root
plugins:
  path: [$top_builddir/tests/plugins]
rules:
YAML
}
add_rule() { # add_rule YAML_TEXT (indented as a list item)
    printf '%s\n' "$1" >> "$TMP/sluice.yaml"
}
put_object() { # put_object BUCKET KEY SOURCE_FILE
    mkdir -p "$(dirname "$TMP/root/$1/$2")"
    cp "$3" "$TMP/root/$1/$2"
}
s3_event() { # s3_event BUCKET ENCODED_KEY [EVENT_NAME] [TIME] -> S3 notification JSON
    printf '{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"%s","eventName":"%s","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"%s"},"object":{"key":"%s","size":1,"eTag":"abc"}}}]}\n' \
        "${4:-2026-11-20T09:15:42.118Z}" "${3:-ObjectCreated:Put}" "$1" "$2"
}
# Files left in the storage tree, relative, sorted (temporaries included).
tree() { (cd "$TMP/root/$1" 2>/dev/null && find . -type f | sed 's|^\./||' | LC_ALL=C sort); }

# --- waiting --------------------------------------------------------------
# No test sleeps a fixed time to let something happen: it polls for the
# state it needs (a file, a log line, a port file) and gives up only after a
# generous deadline, so a loaded machine is slower but never red. See
# tests/README.

# The deadline of every wait (seconds), unless a wait says otherwise.
: "${SLUICE_TEST_DEADLINE:=60}"

# wait_until SECONDS COMMAND...: polls COMMAND every 50 ms; 0 when it
# succeeded in time, 1 otherwise.
wait_until() {
    _deadline=$(( $(date +%s%N) / 1000000 + $(awk "BEGIN { printf \"%d\", $1 * 1000 }") ))
    shift
    while :; do
        "$@" && return 0
        [ "$(( $(date +%s%N) / 1000000 ))" -ge "$_deadline" ] && return 1
        sleep 0.05
    done
}

# eventually COMMAND...: wait_until with the default deadline.
eventually() { wait_until "$SLUICE_TEST_DEADLINE" "$@"; }
# exited PID: true once the background process PID has ended (a zombie
# counts: its status is collected by wait).
_gone() { ! kill -0 "$1" 2>/dev/null || [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ]; }
exited() { _gone "$1"; }
# size_is FILE BYTES: true once FILE holds exactly BYTES bytes.
size_is() { [ "$(wc -c < "$1" 2>/dev/null | tr -d ' ')" = "$2" ]; }

# --- servers and ports -----------------------------------------------------
# Servers a test starts bind port 0 and report the port the kernel chose in
# a port file (written atomically once they listen): no test picks a "free"
# port and binds it later, which races every other process on the machine.

# wait_port_file FILE [SECONDS]: waits for a port file; prints the port.
wait_port_file() {
    wait_until "${2:-$SLUICE_TEST_DEADLINE}" test -s "$1" || return 1
    cat "$1"
}

# _listening_or_gone PORT_FILE PID: the server wrote its port, or died.
_listening_or_gone() { [ -s "$1" ] || ! kill -0 "$2" 2>/dev/null; }

# A loopback port where nothing listens, for "the peer is down" tests:
# binding it needs root and no test does, so a connection to it is refused
# at once, whatever else runs on the machine.
CLOSED_PORT=1

# awsd_start: awscli for the rest of the test through tests/awsd.py, one
# warm awscli that forks per command (about 0.4 s of CPU less a command).
# It ends when the test's shell or $TMP is gone. `aws` below is a
# function, so commands that run the program themselves get awscli as
# installed.
awsd_start() {
    [ -z "${AWSD_SOCKET:-}" ] && command -v aws >/dev/null 2>&1 || return 0
    AWSD_SOCKET="$TMP/awsd.sock"
    export AWSD_SOCKET
    # not a child of the test's shell, whose `wait` would wait for it too
    ( "${PYTHON3:-python3}" "$top_srcdir/tests/awsd.py" "$AWSD_SOCKET" $$ </dev/null \
        >"$TMP/awsd.log" 2>&1 & )
}
aws() {
    if [ -n "${AWSD_SOCKET:-}" ]; then
        "${PYTHON3:-python3}" -S "$top_srcdir/tests/awsc.py" "$@"
    else
        command aws "$@"
    fi
}

# launch_moto LOG ENV [OPTIONS...]: tests/moto_server.py (stock moto with
# emulator fixes) on 127.0.0.1, on a port the kernel picks; ENV is a list of
# VAR=VALUE for its environment ("" for none). Sets MOTO_PID and MOTO_PORT
# once it listens, or bails out. The caller stops MOTO_PID when it exits.
launch_moto() {
    _log=$1 _env=$2
    shift 2
    awsd_start
    rm -f "$_log.port"
    # shellcheck disable=SC2086
    env $_env "${PYTHON3:-python3}" "$top_srcdir/tests/moto_server.py" -H 127.0.0.1 \
        --port-file "$_log.port" "$@" >"$_log" 2>&1 &
    MOTO_PID=$!
    wait_until "$SLUICE_TEST_DEADLINE" _listening_or_gone "$_log.port" "$MOTO_PID"
    if ! MOTO_PORT=$(wait_port_file "$_log.port" 0); then
        echo "Bail out! moto_server did not start"
        sed 's/^/# /' "$_log"
        exit 1
    fi
}
