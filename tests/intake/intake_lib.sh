# tests/intake/intake_lib.sh — helpers for the long-running intake tests
# (lambda, watch), sourced after tests/lib.sh. Background processes are
# tracked by PID and stopped by PID when the test exits.
_bg_pids=""
trap '_stop_all; rm -rf "$TMP"' EXIT

_stop_all() {
    for p in $_bg_pids; do kill "$p" 2>/dev/null; done
    for p in $_bg_pids; do wait "$p" 2>/dev/null; done
}
track() { _bg_pids="$_bg_pids $1"; }
untrack() { _bg_pids=$(printf '%s\n' $_bg_pids | grep -vx "$1" | tr '\n' ' '); }

# (wait_until SECONDS COMMAND... is in tests/lib.sh.)

# stop_pid PID [SIGNAL] [SECONDS]: signals PID and waits for it (by default
# up to $SLUICE_TEST_DEADLINE); sets STATUS to its exit status, or "timeout"
# (then it is killed). Not in a command substitution: only this shell can
# wait for its children.
stop_pid() {
    kill "-${2:-TERM}" "$1" 2>/dev/null
    if wait_until "${3:-$SLUICE_TEST_DEADLINE}" _gone "$1"; then
        wait "$1"; STATUS=$?
    else
        kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; STATUS=timeout
    fi
    untrack "$1"
}
# reap PID: waits for a process known to have ended; sets STATUS.
reap() { wait "$1"; STATUS=$?; untrack "$1"; }
# (exited PID is in tests/lib.sh.)

# grep_count ERE FILE: the number of matching lines (0 when none).
grep_count() { _c=$(grep -Ec -- "$1" "$2" 2>/dev/null); echo "${_c:-0}"; }
