#!/bin/sh
# The plugin SDK as a third party uses it: build a plugin out of tree with
# nothing but sluice-plugin.pc and the public header, load it through
# plugins.path; shipped plugins export only their descriptor; and the kit:
# `sluice plugins new` -> build -> check -> install -> a rule, against a
# staged install of this tree.
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
# --- the plugin kit from a fresh directory: `sluice plugins new demo`
# against sluice installed into a temporary prefix (make install DESTDIR=),
# the generated project built with autotools through pkg-config, its own
# make check (which runs `sluice plugins check`), make install, and a rule
# of a configuration that uses the installed plugin.
kit_section() {
    prefix=$(PKG_CONFIG_PATH="$top_builddir" pkg-config --variable=prefix sluice-plugin)
    # the outer make's flags (TESTS=..., -j) are not the inner builds'
    unset MAKEFLAGS MFLAGS MAKELEVEL
    make -s -C "$top_builddir" install DESTDIR="$TMP/inst" > "$TMP/install.log" 2>&1; r=$?
    ok $r "make install DESTDIR=\$TMP/inst of the built tree"
    [ $r -eq 0 ] || { tail -20 "$TMP/install.log" | sed 's/^/#   /'; return; }
    I="$TMP/inst$prefix"
    K="$I/bin/sluice"
    ok "$([ -f "$I/share/sluice/plugin-template/linecount.c" ]; echo $?)" "the template is installed under pkgdatadir"
    mkdir "$TMP/fresh" && cd "$TMP/fresh" || return
    out=$("$K" plugins new demo); ok $? "plugins new demo"
    is "$out" "demo" "prints the project directory"
    ok "$(for f in .gitignore Makefile.am configure.ac demo.c sample.txt test_demo.sh configure Makefile.in; do [ -f "demo/$f" ] || exit 1; done; echo 0)" "the project's files, configure generated"
    like "$(grep '\.name' demo/demo.c)" '"demo"' "the source has NAME filled in"
    unlike "$(cat demo/*)" 'linecount' "no trace of the template's name"
    "$K" plugins new demo 2>"$TMP/new.err"; is $? 2 "new into a directory that is not empty: exit 2"
    like "$(cat "$TMP/new.err")" 'demo: it exists and is not an empty directory' "says so"
    is "$(ls -A | LC_ALL=C sort | tr '\n' ' ')" "demo " "and leaves nothing behind"
    "$K" plugins new Demo-1 2>/dev/null; is $? 2 "an invalid NAME: exit 2"
    mkdir empty
    out=$("$K" plugins new other --dir empty/ --no-autoreconf); ok $? "new --dir an empty directory"
    is "$out" "empty" "--dir is the project directory"
    ok "$([ -f empty/other.c ]; echo $?)" "the project is in it"
    "$K" plugins new third --template "$TMP/nowhere" 2>"$TMP/new.err"; is $? 2 "--template naming nothing: exit 2"
    like "$(cat "$TMP/new.err")" "no plugin template at $TMP/nowhere" "says where it looked"
    ok "$([ ! -e third ] && [ -z "$(ls -A | grep third)" ]; echo $?)" "and leaves nothing behind"
    out=$("$K" plugins new --help); like "$out" '^Usage: sluice plugins new NAME' "new --help"
    out=$("$K" plugins new plain --no-autoreconf); ok $? "new --no-autoreconf"
    ok "$([ -f plain/configure.ac ] && [ ! -e plain/configure ]; echo $?)" "writes the sources only"
    mkdir -p "$TMP/fakebin"; printf '#!/bin/sh\necho "autoreconf: broken on purpose" >&2\nexit 1\n' > "$TMP/fakebin/autoreconf"
    chmod +x "$TMP/fakebin/autoreconf"
    PATH="$TMP/fakebin:$PATH" "$K" plugins new broken 2>"$TMP/new.err"; is $? 2 "a failing autoreconf: exit 2"
    like "$(cat "$TMP/new.err")" 'autoreconf -fi in the new project failed.*broken on purpose' "says so, with its last line"
    ok "$([ ! -e broken ] && [ -z "$(ls -A | grep broken)" ]; echo $?)" "and leaves nothing behind"
    rm -rf plain

    cd demo || return
    # pkg-config finds the staged install through PKG_CONFIG_PATH; with
    # --define-prefix its paths follow the .pc file to where it is.
    export PKG_CONFIG_PATH="$I/lib/pkgconfig" PKG_CONFIG="pkg-config --define-prefix"
    ok "$([ -x configure ] && [ ! -e autom4te.cache ] && [ ! -e autoreconf.log ]; echo $?)" "new ran autoreconf: the project starts at ./configure"
    { ./configure && make && make check && make install; } > "$TMP/demo.log" 2>&1; r=$?
    ok $r "the generated project: configure, make, make check, make install"
    [ $r -eq 0 ] || tail -30 "$TMP/demo.log" | sed 's/^/#   /'
    like "$(cat test-suite.log 2>/dev/null; grep -E '^# (PASS|FAIL)' "$TMP/demo.log")" '# PASS: +1' "its make check passed"
    ok "$([ -f "$I/lib/sluice/plugins/demo.so" ]; echo $?)" "make install put demo.so into sluice's plugin directory"
    out=$("$K" -q plugins check .libs/demo.so --input sample.txt); ok $? "sluice plugins check on the built plugin"
    like "$out" 'keeps the plugin contract' "it keeps the contract"
    unset PKG_CONFIG_PATH PKG_CONFIG

    # a rule using the installed plugin, found along the installed path
    mkdir -p "$TMP/kitws/root/in"
    printf 'a\nb\nc\nd\n' > "$TMP/kitws/root/in/four.txt"
    cat > "$TMP/kitws/sluice.yaml" <<YAML
storage: {type: local, root: root}
rules:
  - name: count-lines
    match: {bucket: in}
    plugin: demo
    options: {mode: count, suffix: .n}
    output: "s3://out/{name}"
YAML
    out=$("$K" -q -c "$TMP/kitws/sluice.yaml" process s3://in/four.txt); ok $? "a rule runs the installed demo plugin"
    is "$out" "s3://out/four.txt.n" "its proposed name"
    is "$(cat "$TMP/kitws/root/out/four.txt.n")" "4" "its output"
    cd "$TMP" || return
}
if command -v autoreconf >/dev/null 2>&1 && command -v libtoolize >/dev/null 2>&1; then
    kit_section
else
    ok 0 "# SKIP autoreconf or libtoolize not installed (autoconf, automake, libtool)"
fi
done_testing
