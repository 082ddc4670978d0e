#!/bin/sh
# `sluice watch DIR --to s3://bucket/prefix/` with real inotify and the
# local storage backend (root/<bucket>/<key>): files arrive whole and only
# once complete (a slow writer in chunks, a writer holding a file open at
# start), moved in, nested and new directories, hidden names, --run; a
# restart while a large file is being written loses and re-uploads
# nothing; a crash between upload and move is resumed without uploading
# again; --on-done delete; usage errors.
#
# Nothing here waits a fixed time. Writers are held open by files the test
# creates (not by sleeps), and "sluice did not upload X" is asserted only
# after the watcher was seen looking at X and holding it back (its debug
# line "X is open for writing"), so a slow machine cannot make it pass or
# fail early.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/intake/intake_lib.sh"

make_workspace
add_rule '  - name: lines
    match: {bucket: bkt, prefix: pre/run/}
    plugin: linecount
    output: "s3://out/{key}"'

# start_watch NAME ARGS...: sluice watch in the background, logging (debug
# level) to $TMP/NAME.log; sets WATCH_PID once it watches.
start_watch() {
    _name=$1; shift
    _ready=$(( $(grep_count 'watching ' "$TMP/$_name.log") + 1 ))
    "$SLUICE" --log-level debug -c "$TMP/sluice.yaml" watch "$@" >> "$TMP/$_name.out" 2>> "$TMP/$_name.log" &
    WATCH_PID=$!; track $WATCH_PID
    eventually _watching "$TMP/$_name.log" "$_ready" || echo "# watch $_name did not start"
}
_watching() { [ "$(grep_count 'watching ' "$1")" -ge "$2" ]; }
uploads() { # uploads LOGFILE REL: how many times REL was uploaded
    grep_count "uploaded $2 to " "$1"
}
obj() { echo "$TMP/root/$1"; }
# uploaded BUCKET/KEY: the object exists (for `eventually`, which polls it)
uploaded() { test -f "$TMP/root/$1"; }
# all_sent DIR REL...: every REL was marked done (moved to DIR/.sent/)
all_sent() {
    _d=$1; shift
    for _f in "$@"; do [ -e "$_d/.sent/$_f" ] || return 1; done
}
# held_back LOGFILE REL N: the watcher said at least N times that REL is
# open for writing (it looked at the file and kept it back)
held_back() { [ "$(grep_count " $2 is open for writing: waiting for its close" "$1")" -ge "$3" ]; }

# --- instance A -------------------------------------------------------------
IN="$TMP/in-a"
mkdir -p "$IN/run" "$TMP/staging/batch"
printf 'before start\n' > "$IN/pre.txt"
# a writer holding a file open across the start (until $TMP/release
# exists); its mtime is set well past --settle, so only the open-for-writing
# check keeps it back
( printf 'part1,'; while [ ! -e "$TMP/release" ]; do sleep 0.05; done; printf 'part2\n' ) > "$IN/held.txt" &
HELD_PID=$!; track $HELD_PID
eventually grep -q 'part1,' "$IN/held.txt"; ok $? "a writer holds held.txt open"
touch -m -d '1 minute ago' "$IN/held.txt"
start_watch a "$IN" --to s3://bkt/pre --settle 0.3 --workers 2 --run
A=$WATCH_PID

eventually uploaded bkt/pre/pre.txt; ok $? "a file present at start is uploaded"
is "$(cat "$(obj bkt/pre/pre.txt)")" "before start" "its bytes"
eventually test -f "$IN/.sent/pre.txt"; ok $? "then moved to .sent/"
ok "$([ ! -e "$IN/pre.txt" ]; echo $?)" "and gone from DIR"
eventually held_back "$TMP/a.log" held.txt 1; ok $? "the file open for writing at start is looked at, and held back"
ok "$([ ! -e "$(obj bkt/pre/held.txt)" ]; echo $?)" "a file open for writing at start is not uploaded"

# a slow writer on one open file: two chunks, then (once $TMP/slow.go
# exists) two more
head -c 400000 /dev/urandom > "$TMP/slow.src"
( dd if="$TMP/slow.src" bs=100000 count=2 2>/dev/null
  while [ ! -e "$TMP/slow.go" ]; do sleep 0.05; done
  dd if="$TMP/slow.src" bs=100000 skip=2 count=2 2>/dev/null ) > "$IN/slow.bin" &
SLOW_PID=$!; track $SLOW_PID
eventually size_is "$IN/slow.bin" 200000; ok $? "the writer wrote half of slow.bin, and holds it open"
# its writes report nothing (no close yet): a rescan makes the watcher look
kill -HUP "$A"
eventually held_back "$TMP/a.log" slow.bin 1; ok $? "the watcher looked at slow.bin mid-write, and held it back"
ok "$([ ! -e "$(obj bkt/pre/slow.bin)" ]; echo $?)" "nothing uploaded while the writer is still writing"
is "$(tree bkt | grep -c sluice-tmp)" 0 "not even a temporary object"

# moved in; a new nested directory with a file written at once; a whole
# directory moved in; a hidden name, then renamed
printf 'a,b\n1,2\n' > "$TMP/staging/moved.csv"
mv "$TMP/staging/moved.csv" "$IN/moved.csv"
mkdir -p "$IN/new/deeper" && printf 'nested\n' > "$IN/new/deeper/n.txt"
printf 'one\n' > "$TMP/staging/batch/1.txt"; printf 'two\n' > "$TMP/staging/batch/2.txt"
mv "$TMP/staging/batch" "$IN/batch"
printf 'hidden\n' > "$IN/.part.tmp"
printf '1\n2\n3\n' > "$IN/run/r.txt"

eventually uploaded bkt/pre/moved.csv; ok $? "a file moved in is uploaded"
eventually uploaded bkt/pre/new/deeper/n.txt; ok $? "a file in a new nested directory is uploaded"
# both: the two workers upload them side by side, 2.txt may land first
both_uploaded() { uploaded bkt/pre/batch/1.txt && uploaded bkt/pre/batch/2.txt; }
eventually both_uploaded; ok $? "a directory moved in: its files are uploaded"
is "$(cat "$(obj bkt/pre/batch/1.txt)")" "one" "batch/1.txt bytes"
eventually test -f "$TMP/root/out/pre/run/r.txt"; ok $? "--run: the routing rules ran on the uploaded object"
cmp -s "$TMP/root/out/pre/run/r.txt" "$IN/.sent/run/r.txt"; ok $? "--run: the job's output"
ok "$([ ! -e "$(obj bkt/pre/.part.tmp)" ] && [ -e "$IN/.part.tmp" ]; echo $?)" "a hidden name is left alone"
mv "$IN/.part.tmp" "$IN/renamed.txt"
eventually uploaded bkt/pre/renamed.txt; ok $? "renamed to a visible name: uploaded"

ok "$([ ! -e "$(obj bkt/pre/slow.bin)" ]; echo $?)" "slow.bin still not uploaded after the others"
touch "$TMP/slow.go"; wait "$SLOW_PID"; untrack "$SLOW_PID"
eventually uploaded bkt/pre/slow.bin; ok $? "the slow file arrives once closed"
cmp -s "$(obj bkt/pre/slow.bin)" "$TMP/slow.src"; ok $? "whole: all four chunks, exact bytes"
is "$(uploads "$TMP/a.log" slow.bin)" 1 "uploaded exactly once"
touch "$TMP/release"; wait "$HELD_PID"; untrack "$HELD_PID"
eventually uploaded bkt/pre/held.txt; ok $? "the file held open at start arrives after its close"
is "$(cat "$(obj bkt/pre/held.txt)")" "part1,part2" "whole"
is "$(uploads "$TMP/a.log" held.txt)" 1 "uploaded exactly once"

eventually test -f "$IN/.sent/renamed.txt"
is "$(tree bkt)" "pre/batch/1.txt
pre/batch/2.txt
pre/held.txt
pre/moved.csv
pre/new/deeper/n.txt
pre/pre.txt
pre/renamed.txt
pre/run/r.txt
pre/slow.bin" "exactly the expected objects, no temporaries"
is "$(cd "$IN" && find . -type f | LC_ALL=C sort)" "./.sent/batch/1.txt
./.sent/batch/2.txt
./.sent/held.txt
./.sent/moved.csv
./.sent/new/deeper/n.txt
./.sent/pre.txt
./.sent/renamed.txt
./.sent/run/r.txt
./.sent/slow.bin" "every file moved to the .sent tree, keeping its path"
is "$(grep -c 'uploaded .* to ' "$TMP/a.log")" 9 "nine uploads in all"
stop_pid "$A" INT; is "$STATUS" 0 "SIGINT: exit 0"
like "$(tail -1 "$TMP/a.log")" 'stopped: 9 uploaded, 0 already uploaded, 0 failures' "summary on stop"

# --- instance B: a restart while a large file is being written -----------------
IN="$TMP/in-b"
mkdir -p "$IN"
start_watch b "$IN" --to s3://bkt2/p/ --settle 0.3
for i in 1 2 3 4 5; do printf 'small %s\n' $i > "$IN/s$i.txt"; done
eventually all_sent "$IN" s1.txt s2.txt s3.txt s4.txt s5.txt; ok $? "small files uploaded"

# the large file: half of it, then (once $TMP/big.go exists) the rest
head -c 4194304 /dev/urandom > "$TMP/big.src"
( dd if="$TMP/big.src" bs=524288 count=4 2>/dev/null
  while [ ! -e "$TMP/big.go" ]; do sleep 0.05; done
  dd if="$TMP/big.src" bs=524288 skip=4 count=4 2>/dev/null ) > "$IN/big.bin" &
BIG_PID=$!; track $BIG_PID
eventually size_is "$IN/big.bin" 2097152; ok $? "the large file is half written"
stop_pid "$WATCH_PID" TERM; is "$STATUS" 0 "SIGTERM in the middle of the large file: exit 0"
# while it is down: a new file; a file whose upload committed just before a
# crash (the object exists, the move did not happen); a file whose key
# holds an older, different object. They were written a while before the
# restart (their mtime says so explicitly: older than --settle, whatever
# the machine's speed), so the restart's scan takes them at once.
printf 'while down\n' > "$IN/during.txt"
printf 'committed before the crash\n' > "$IN/crash.txt"
mkdir -p "$(obj bkt2/p)"; cp "$IN/crash.txt" "$(obj bkt2/p/crash.txt)"
printf 'new version\n' > "$IN/differs.txt"; printf 'old version!\n' > "$(obj bkt2/p/differs.txt)"
touch -m -d '1 minute ago' "$IN/during.txt" "$IN/crash.txt" "$IN/differs.txt"
start_watch b "$IN" --to s3://bkt2/p/ --settle 0.3
eventually held_back "$TMP/b.log" big.bin 1; ok $? "after the restart the half-written file is found, and held back"
ok "$([ ! -e "$(obj bkt2/p/big.bin)" ]; echo $?)" "it is not uploaded half written"
touch "$TMP/big.go"; wait "$BIG_PID"; untrack "$BIG_PID"
eventually test -f "$IN/.sent/big.bin"; ok $? "after the restart the large file arrives once closed"
cmp -s "$(obj bkt2/p/big.bin)" "$TMP/big.src"; ok $? "whole: exact bytes"
eventually all_sent "$IN" during.txt crash.txt differs.txt
is "$(tree bkt2)" "p/big.bin
p/crash.txt
p/differs.txt
p/during.txt
p/s1.txt
p/s2.txt
p/s3.txt
p/s4.txt
p/s5.txt" "nothing lost: every object, no temporaries"
is "$(cat "$(obj bkt2/p/during.txt)")" "while down" "the file written while down"
is "$(cat "$(obj bkt2/p/differs.txt)")" "new version" "a different object at the key is replaced"
cat "$TMP/b.log" > "$TMP/b.all"
for f in s1.txt s2.txt s3.txt s4.txt s5.txt big.bin during.txt differs.txt; do
    is "$(uploads "$TMP/b.all" $f)" 1 "$f uploaded exactly once over both runs"
done
is "$(uploads "$TMP/b.all" crash.txt)" 0 "committed before the crash: not uploaded again"
like "$(cat "$TMP/b.all")" 'crash.txt is already at s3://bkt2/p/crash.txt: marking it done' "only marked done"
is "$(cd "$IN" && find . -type f ! -path './.sent/*' | wc -l | tr -d ' ')" 0 "nothing left in DIR"
stop_pid "$WATCH_PID" TERM; is "$STATUS" 0 "second stop: exit 0"

# --- instance C: --on-done delete ------------------------------------------------
IN="$TMP/in-c"
mkdir -p "$IN/sub"
start_watch c "$IN" --to s3://bkt3 --on-done delete --settle 0
printf 'delete me\n' > "$IN/sub/d.txt"
eventually uploaded bkt3/sub/d.txt; ok $? "uploaded (no prefix: the relative path is the key)"
eventually test ! -e "$IN/sub/d.txt"; ok $? "then deleted"
ok "$([ ! -e "$IN/.sent" ]; echo $?)" "no .sent tree"
is "$(cat "$(obj bkt3/sub/d.txt)")" "delete me" "bytes"
stop_pid "$WATCH_PID" TERM; is "$STATUS" 0 "exit 0"

# --- instance D: a crash right after a file was written ------------------------
# Like crash.txt above, but the file is younger than --settle when the
# watcher starts (its mtime is in the future: "young" however slow the
# machine). It is held back for --settle, then must still be compared with
# the object already there, not uploaded again (the scan's "compare
# first" once got lost when the file was put off for --settle).
IN="$TMP/in-d"
mkdir -p "$IN" "$(obj bkt4)"
printf 'committed just before the crash\n' > "$IN/young.txt"
cp "$IN/young.txt" "$(obj bkt4/young.txt)"
touch -m -d '+2 seconds' "$IN/young.txt"
start_watch d "$IN" --to s3://bkt4 --settle 0.3
eventually test -e "$IN/.sent/young.txt"; ok $? "the young file is marked done"
if [ "$(uploads "$TMP/d.log" young.txt)" = 0 ]; then r=0; else r=1; fi
ok $r "young file whose object exists: not uploaded again"
stop_pid "$WATCH_PID" TERM; is "$STATUS" 0 "exit 0"

# --- usage ------------------------------------------------------------------------
err=$("$SLUICE" -c "$TMP/sluice.yaml" watch "$TMP/in-c" 2>&1); is $? 2 "no --to: exit 2"
like "$err" '--to s3://bucket/prefix/ is required' "explained"
err=$("$SLUICE" -c "$TMP/sluice.yaml" watch "$TMP/in-c" --to /tmp/x 2>&1); is $? 2 "--to not s3://: exit 2"
err=$("$SLUICE" -c "$TMP/sluice.yaml" watch "$TMP/nope" --to s3://b/ --on-done delete 2>&1); is $? 2 "missing DIR: exit 2"
like "$err" "$TMP/nope: No such file or directory" "explained"
err=$("$SLUICE" -c "$TMP/sluice.yaml" watch "$TMP/in-c" --to s3://b/ --on-done keep 2>&1); is $? 2 "bad --on-done: exit 2"
"$SLUICE" watch --help | grep -q 'open for writing'; ok $? "--help"
done_testing
