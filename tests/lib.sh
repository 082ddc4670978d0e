# tests/lib.sh — TAP helpers for the end-to-end shell tests.
# Sourced by tests/e2e/*.sh; automake runs them with tap-driver.sh.
# Environment from the Makefile: top_srcdir, top_builddir, SLUICE (binary).
set -u
_n=0
_failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
: "${top_srcdir:=.}" "${top_builddir:=.}"
: "${SLUICE:=$top_builddir/sluice}"
DATA="$top_srcdir/tests/data"

ok() { # ok CONDITION_EXIT_CODE NAME
    _n=$((_n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _failed=$((_failed + 1)); fi
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

# A free TCP port on 127.0.0.1 (for servers a test starts).
free_port() {
    "${PYTHON3:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# wait_port PORT [SECONDS]: retry a plain TCP connect until it works. Never
# an HTTP request: a moto checking signatures counts every request.
wait_port() {
    "${PYTHON3:-python3}" - "$1" "${2:-20}" <<'PY'
import socket, sys, time
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}
