# tests/rgw.sh — a private Ceph RADOS Gateway (radosgw) for a test, sourced
# after tests/lib.sh: a real S3 implementation, not an emulator. Recipe and
# quirks: ../shared/specs/real-s3-server.md (Ceph 16 "Pacific", Debian 12).
#
#   rgw_start   brings up, in $TMP/rgw, one monitor, one OSD keeping its data
#               in memory (memstore) and radosgw (beast), all on 127.0.0.1,
#               with an S3 user of a known key, and returns once `GET /`
#               answers 200. Sets RGW_URL, RGW_PORT, RGW_ACCESS_KEY,
#               RGW_SECRET_KEY, RGW_PIDS, RGW_DIR (logs: $RGW_DIR/*.log),
#               RGW_START_MS (how long it took; phases in
#               $RGW_DIR/startup.log). RGW_PY (below) is set on sourcing.
#   rgw_stop    SIGKILL to each daemon by PID (radosgw can hang on SIGTERM
#               once the OSD is gone), and reaps them.
#
# Sourcing it skips the whole test file (loudly) when Ceph's daemons are not
# installed (`apt-get install radosgw ceph-mon ceph-osd`; .ci/install-deps
# tries). Once installed, a cluster that does not come up is a failure
# (Bail out, with the daemons' logs), not a skip.
#
# rgw_start sets `trap 'rgw_stop; rm -rf "$TMP"' EXIT`; a harness with more
# to clean up (tests/storage/s3_lib.sh: start_rgw) calls rgw_stop from its
# own trap.
#
# Ports. ceph-mon's address is written into the monitor map before it
# starts, and radosgw's into its frontend setting: neither can bind port 0
# and report what it got, as moto_server and sluice do. So each port is
# chosen with the least race there is: python binds 127.0.0.1:0, prints the
# port the kernel gave, closes, and the daemon is started on it at once.
# Another process could take the port in between (well under a second for
# the monitor; for radosgw, the second or two it spends creating its pools
# before it binds). That is detected, never guessed: the monitor exits with
# "unable to bind", radosgw logs "failed to bind address" and exits (and
# "frontend listening on" when it got the port, which is what is waited
# for, so an answer from someone else's server on that port is never taken
# for ours). The daemon is then started again on a new port, up to 3 times.
# The OSD picks its own ports in 6800-7300 and skips busy ones.
#
# Fast start-up (4-6 s on a loaded 2-core machine): osd.0 is put in the
# initial OSD map (osdmaptool --createsimple; no `ceph osd new`, a python
# CLI start), paxos proposes every 0.1 s, pools have one placement group and
# one replica, no python CLI (`ceph`) runs at all. Order: monitor, OSD,
# radosgw-admin (the user; it waits for the OSD and makes the pools),
# radosgw. A step that hangs is cut off after $SLUICE_TEST_DEADLINE s.
_rgw_missing=""
for _t in ceph-mon ceph-osd radosgw radosgw-admin monmaptool osdmaptool; do
    command -v "$_t" >/dev/null 2>&1 || _rgw_missing="$_rgw_missing $_t"
done
if [ -n "$_rgw_missing" ]; then
    echo "# Ceph RGW is not installed (missing:$_rgw_missing): this test cannot run against a real S3 server (apt-get install radosgw ceph-mon ceph-osd)" >&2
    skip_all "Ceph RGW not installed: missing$_rgw_missing"
fi

RGW_DIR="$TMP/rgw"
RGW_PIDS=""
RGW_ACCESS_KEY=RGWSLUICETESTKEY0001
# a secret with '/' and '+', as AWS's have
RGW_SECRET_KEY='rgw/sluice+Secret/0123456789abcdefghijklm'
# RGW_PY: the tests' python3 ($PYTHON3) resolved to the interpreter
# itself, past any version manager's shim (which can take a second to start
# on a loaded machine); the port probe uses it, and so may the test.
RGW_PY=$("${PYTHON3:-python3}" -c 'import sys; print(sys.executable)' 2>/dev/null) || RGW_PY=python3

rgw_stop() {
    for _p in $RGW_PIDS; do kill -KILL "$_p" 2>/dev/null; done
    for _p in $RGW_PIDS; do wait "$_p" 2>/dev/null; done
    RGW_PIDS=""
}

_rgw_fail() { # _rgw_fail WHAT: Bail out with the daemons' logs
    echo "Bail out! Ceph RGW is installed but did not start: $1"
    for _f in "$RGW_DIR"/*.out "$RGW_DIR"/*.log; do
        [ -s "$_f" ] || continue
        echo "# --- $_f"
        # (the monitor's log carries rocksdb's statistics tables: left out)
        grep -v -e '^ *$' -e 'rocksdb' "$_f" | grep -E -v '^( |\*\*|Level|Priority|User|-----|Uptime|Flush|AddFile|Cumulative|Interval|Stalls|Blob|Estimated)' |
            tail -n 15 | sed 's/^/# /'
    done
    rgw_stop
    exit 1
}

_rgw_free_port() { # see "Ports" above
    "$RGW_PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# _rgw_settled PID FILE REGEX: the daemon logged REGEX, or is gone
_rgw_settled() { grep -q -E -- "$3" "$2" 2>/dev/null || ! kill -0 "$1" 2>/dev/null; }

_rgw_conf() { # _rgw_conf MON_PORT
    cat >"$RGW_DIR/ceph.conf" <<CONF
[global]
fsid = $_rgw_fsid
mon host = v2:127.0.0.1:$1
public addr = 127.0.0.1
cluster addr = 127.0.0.1
# one bind attempt, no 5 s pause: a port taken is reported at once
ms bind retry count = 1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
client mount timeout = 60
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 1
osd pool default pgp num = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
paxos propose interval = 0.1
# a nearly full disk must not stop the monitor (its default is 5% free)
mon data avail warn = 1
mon data avail crit = 0
# everything under the test's directory, nothing in /var
mon cluster log to file = false
run dir = $RGW_DIR/run
admin socket = $RGW_DIR/run/\$name.asok
crash dir = $RGW_DIR/crash
log file = $RGW_DIR/\$name.log
keyring = $RGW_DIR/keyring
mon data = $RGW_DIR/mon/\$id
osd data = $RGW_DIR/osd/\$id
osd objectstore = memstore
memstore device bytes = 1073741824
[client.rgw]
rgw data = $RGW_DIR/rgw-data
# level 4 logs "frontend listening on ADDR" once beast has bound its port
debug rgw = 4
CONF
}

# _rgw_mon: 0 once the monitor leads; 1 when its port was taken.
_rgw_mon() {
    _port=$(_rgw_free_port) || _rgw_fail "no port for the monitor"
    _rgw_conf "$_port"
    rm -rf "$RGW_DIR/mon" "$RGW_DIR/mon.a.log"
    mkdir -p "$RGW_DIR/mon/a"
    monmaptool --create --clobber --add a "v2:127.0.0.1:$_port" --fsid "$_rgw_fsid" "$RGW_DIR/monmap" \
        >"$RGW_DIR/monmaptool.out" 2>&1 || _rgw_fail "monmaptool"
    # osd.0 exists from the first OSD map on (its uuid is taken at boot)
    osdmaptool --createsimple 1 --clobber "$RGW_DIR/osdmap" >"$RGW_DIR/osdmaptool.out" 2>&1 ||
        _rgw_fail "osdmaptool"
    timeout "$SLUICE_TEST_DEADLINE" ceph-mon -i a --mkfs --monmap "$RGW_DIR/monmap" --osdmap "$RGW_DIR/osdmap" \
        >"$RGW_DIR/mon-mkfs.out" 2>&1 || _rgw_fail "ceph-mon --mkfs"
    ceph-mon -i a -f >"$RGW_DIR/mon.out" 2>&1 &
    _pid=$!
    wait_until "$SLUICE_TEST_DEADLINE" _rgw_settled "$_pid" "$RGW_DIR/mon.a.log" 'is new leader' ||
        _rgw_fail "the monitor did not form a quorum"
    if kill -0 "$_pid" 2>/dev/null; then
        RGW_PIDS="$RGW_PIDS $_pid"
        return 0
    fi
    wait "$_pid" 2>/dev/null
    grep -q 'unable to bind' "$RGW_DIR/mon.a.log" "$RGW_DIR/mon.out" 2>/dev/null && return 1
    _rgw_fail "ceph-mon exited"
}

# _rgw_gw_settled: radosgw ($_pid) listens, failed to bind or is gone, or
# the OSD is gone
_rgw_gw_settled() {
    _rgw_settled "$_pid" "$RGW_DIR/client.rgw.log" \
        "frontend listening on 127\.0\.0\.1:$RGW_PORT\$|failed to bind address" ||
        ! kill -0 "$_rgw_osd_pid" 2>/dev/null
}

# _rgw_gateway: 0 once radosgw listens on RGW_PORT; 1 when the port was taken.
_rgw_gateway() {
    RGW_PORT=$(_rgw_free_port) || _rgw_fail "no port for radosgw"
    rm -f "$RGW_DIR/client.rgw.log"
    radosgw -n client.rgw -f --rgw-frontends "beast endpoint=127.0.0.1:$RGW_PORT" \
        >"$RGW_DIR/rgw.out" 2>&1 &
    _pid=$!
    wait_until "$SLUICE_TEST_DEADLINE" _rgw_gw_settled || _rgw_fail "radosgw did not start listening"
    if grep -q -E "frontend listening on 127\.0\.0\.1:$RGW_PORT\$" "$RGW_DIR/client.rgw.log"; then
        RGW_PIDS="$RGW_PIDS $_pid"
        return 0
    fi
    kill -KILL "$_pid" 2>/dev/null
    wait "$_pid" 2>/dev/null
    kill -0 "$_rgw_osd_pid" 2>/dev/null || _rgw_fail "ceph-osd exited"
    grep -q 'failed to bind address' "$RGW_DIR/client.rgw.log" && return 1
    _rgw_fail "radosgw exited"
}

# _rgw_phase WHAT: one line in $RGW_DIR/startup.log, ms since rgw_start began
_rgw_phase() { echo "$(( $(date +%s%N) / 1000000 - _rgw_t0 )) ms $1" >>"$RGW_DIR/startup.log"; }

_rgw_answers() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$RGW_URL/" 2>/dev/null)" = 200 ]
}

rgw_start() {
    for _t in curl timeout; do
        command -v "$_t" >/dev/null 2>&1 || _rgw_fail "$_t is not installed"
    done
    trap 'rgw_stop; rm -rf "$TMP"' EXIT
    _rgw_t0=$(( $(date +%s%N) / 1000000 ))
    rm -rf "$RGW_DIR"
    mkdir -p "$RGW_DIR/run" "$RGW_DIR/crash" "$RGW_DIR/osd/0" "$RGW_DIR/rgw-data"
    export CEPH_CONF="$RGW_DIR/ceph.conf"
    _rgw_fsid=$(cat /proc/sys/kernel/random/uuid)
    _try=1
    until _rgw_mon; do
        [ $_try -lt 3 ] || _rgw_fail "the monitor's port was taken 3 times"
        _try=$((_try + 1))
    done
    _rgw_phase "monitor leads"
    timeout "$SLUICE_TEST_DEADLINE" ceph-osd -i 0 --mkfs >"$RGW_DIR/osd-mkfs.out" 2>&1 ||
        _rgw_fail "ceph-osd --mkfs"
    ceph-osd -i 0 -f >"$RGW_DIR/osd.out" 2>&1 &
    _rgw_osd_pid=$!
    RGW_PIDS="$RGW_PIDS $_rgw_osd_pid"
    _rgw_phase "OSD started"
    # The user first, before any radosgw runs: radosgw-admin tells every
    # running gateway about a new user and waits for each to acknowledge,
    # and a gateway killed after a port clash would hold it up for 30 s.
    # (It also makes radosgw's pools, so the gateway starts faster.)
    timeout "$SLUICE_TEST_DEADLINE" radosgw-admin user create --uid sluice-test --display-name sluice-test \
        --access-key "$RGW_ACCESS_KEY" --secret-key "$RGW_SECRET_KEY" \
        >"$RGW_DIR/user.out" 2>&1 || _rgw_fail "radosgw-admin user create"
    _rgw_phase "user made"
    _try=1
    until _rgw_gateway; do
        [ $_try -lt 3 ] || _rgw_fail "radosgw's port was taken 3 times"
        _try=$((_try + 1))
    done
    _rgw_phase "radosgw listens"
    RGW_URL="http://127.0.0.1:$RGW_PORT"
    eventually _rgw_answers || _rgw_fail "GET / did not answer 200"
    _rgw_phase "GET / answers"
    RGW_START_MS=$(( $(date +%s%N) / 1000000 - _rgw_t0 ))
}
