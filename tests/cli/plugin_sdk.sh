#!/bin/sh
# The plugin SDK as a third party uses it: build a plugin out of tree with
# nothing but sluice-plugin.pc and the public header, load it through
# plugins.path; shipped plugins export only their descriptor.
. "$top_srcdir/tests/lib.sh"

for so in "$top_builddir"/plugins/.libs/*.so; do
    syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[A-TV-Z]$/ {print $3}' | grep -v '^_' | sort | tr '\n' ' ')
    is "$syms" "sluice_plugin_descriptor " "$(basename "$so") exports only its descriptor"
done

# The .pc file, with its includedir pointed at the source tree (what an
# installed copy points at /usr/include).
cflags=$(PKG_CONFIG_PATH="$top_builddir" pkg-config --define-variable=includedir="$top_srcdir/include" --cflags sluice-plugin)
ok $? "pkg-config knows sluice-plugin"
pdir=$(PKG_CONFIG_PATH="$top_builddir" pkg-config --variable=plugindir sluice-plugin)
like "$pdir" '/lib/sluice/plugins$' "pkg-config gives the plugin directory"

mkdir -p "$TMP/src" "$TMP/plugins"
cat > "$TMP/src/upper.c" <<'C'
#include <ctype.h>
#include <sluice/plugin.h>
static int run(void *state, sluice_job *job)
{
    const sluice_host *h = state;
    char buf[4096];
    ssize_t n;
    h->set_output_name(job, "UPPER.txt");
    while ((n = h->read(job, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            buf[i] = (char)toupper((unsigned char)buf[i]);
        if (h->write(job, buf, (size_t)n) != 0)
            return SLUICE_ERROR;
    }
    h->counter_add(job, "uppered", 1);
    return n < 0 ? SLUICE_ERROR : SLUICE_OK;
}
static int init(const sluice_host *h, const sluice_value *o, void **s, char *e, size_t l)
{
    (void)o; (void)e; (void)l;
    *s = (void *)h;
    return SLUICE_OK;
}
SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
    .abi_version = SLUICE_PLUGIN_ABI_VERSION, .name = "upper", .version = "0.1.0",
    .description = "upper-cases text", .options_schema = "{\"type\":\"object\"}",
    .init = init, .run = run,
};
C
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $cflags -o "$TMP/plugins/upper.so" "$TMP/src/upper.c"
ok $? "out-of-tree plugin compiles against the public header alone"

cat > "$TMP/sluice.yaml" <<YAML
storage: {type: local, root: root}
plugins: {path: [plugins]}
rules:
  - name: up
    match: {bucket: "*"}
    plugin: upper
    output: "s3://out/{name}"
YAML
mkdir -p "$TMP/root/in"; printf 'hello sluice\n' > "$TMP/root/in/x.txt"
out=$("$SLUICE" -q -c "$TMP/sluice.yaml" process s3://in/x.txt); ok $? "loaded from plugins.path (relative to the config)"
is "$out" "s3://out/UPPER.txt" "plugin's proposed name used"
is "$(cat "$TMP/root/out/UPPER.txt")" "HELLO SLUICE" "plugin transformed the object"
out=$("$SLUICE" -c "$TMP/sluice.yaml" plugins); like "$out" 'upper 0\.1\.0' "listed by sluice plugins"

# Progress on a terminal (script(1) gives the run a pseudo-terminal). The
# input is a FIFO: one MB, then a byte every 0.1 s until the test has seen
# the progress line (it is drawn at a read once the job is 0.5 s old), then
# another MB. No sleep has to be long enough: the job lasts until the line
# is there (60 s at most).
if command -v script >/dev/null 2>&1 && command -v mkfifo >/dev/null 2>&1; then
    mkfifo "$TMP/fifo"
    ( head -c 1000000 /dev/zero
      i=0; while [ ! -e "$TMP/drawn" ] && [ $i -lt 600 ]; do printf x; sleep 0.1; i=$((i + 1)); done
      head -c 1000000 /dev/zero ) > "$TMP/fifo" &
    feed=$!
    script -qec "\"$SLUICE\" -q -c \"$TMP/sluice.yaml\" process \"$TMP/fifo\" --rule up --output \"$TMP/o1\"" /dev/null > "$TMP/tty.out" 2>&1 &
    run=$!
    drawn() { tr '\r' '\n' < "$TMP/tty.out" | grep -Eq 'fifo: 1\.0 MB .*B/s'; }
    eventually drawn; r=$?
    touch "$TMP/drawn"
    wait "$run"; ok $? "process on a terminal"
    wait "$feed"
    ok $r "progress shows bytes and rate"
    [ $r -eq 0 ] || tr '\r' '\n' < "$TMP/tty.out" | head -5 | sed 's/^/#   /'
    # Not a terminal: the same kind of slow job (the feed pauses 1.2 s
    # between its halves, and a slower machine only makes it slower) draws
    # nothing.
    ( head -c 1000000 /dev/zero; sleep 1.2; head -c 1000000 /dev/zero ) > "$TMP/fifo" &
    feed=$!
    "$SLUICE" -q -c "$TMP/sluice.yaml" process "$TMP/fifo" --rule up --output "$TMP/o2" 2>"$TMP/pipe.err" >/dev/null
    wait "$feed"
    is "$(cat "$TMP/pipe.err")" "" "no progress when stderr is not a terminal"
    is "$(wc -c < "$TMP/o2")" "2000000" "streamed input complete"
else
    ok 0 "# SKIP script(1) or mkfifo not available"
fi
done_testing
