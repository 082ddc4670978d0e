#!/bin/sh
# The artifact of `make lambda-zip` (infra/lambda/package.sh): the layout
# the provided.al2023 custom runtime needs, a binary and plugins that load
# with nothing but the zip's lib/ and glibc, the bootstrap handing over to
# the zip's own sluice, the glibc check, and nothing written on failure.
. "$top_srcdir/tests/lib.sh"
command -v objdump >/dev/null 2>&1 || skip_all "objdump (binutils) not installed"
command -v unzip >/dev/null 2>&1 || skip_all "unzip not installed"
PKG="$top_srcdir/infra/lambda/package.sh"
export PYTHON3

cat > "$TMP/sluice.yaml" <<'YAML'
storage: {type: s3}
runs: {location: "s3://out/_sluice/runs/{date}/{run_id}.json"}
rules:
  - name: revenue
    match: {bucket: in, prefix: hit-data/, suffix: .tsv}
    plugin: revenue
    options: {attribution: last}
    output: "s3://out/reports/{date}/{name}"
YAML
LAMBDA_GLIBC_MAX=none sh "$PKG" "$top_srcdir" "$top_builddir" "$TMP/fn.zip" "$TMP/sluice.yaml" > "$TMP/pkg.log" 2>&1
ok $? "package.sh builds the zip" || sed 's/^/# /' "$TMP/pkg.log"
Z="$TMP/z"; mkdir -p "$Z" && (cd "$Z" && unzip -q "$TMP/fn.zip")

# Layout: what the custom runtime executes, at the root, executable.
zmode() { # the unix mode stored in the zip for one entry
    "$PYTHON3" -c 'import sys, zipfile; print(oct((zipfile.ZipFile(sys.argv[1]).getinfo(sys.argv[2]).external_attr >> 16) & 0o777))' "$TMP/fn.zip" "$1"
}
is "$(zmode bootstrap) $(zmode bin/sluice)" "0o755 0o755" "bootstrap and bin/sluice are stored executable (0755)"
cmp -s "$Z/bootstrap" "$top_srcdir/infra/lambda/bootstrap"; ok $? "bootstrap at the root is infra/lambda/bootstrap"
[ -f "$Z/plugins/revenue.so" ] && [ -f "$Z/plugins/linecount.so" ]; ok $? "plugins/ holds the built plugins"
cmp -s "$Z/sluice.yaml" "$TMP/sluice.yaml"; ok $? "sluice.yaml is the configuration given"
[ -f "$Z/systemd/sluice-poll.service" ]; ok $? "systemd/sluice-poll.service for the EC2 workers"
is "$(ls "$Z/lib" | grep -E '^(libc|libm|libpthread|libdl|librt|libresolv)\.so|^ld-linux')" "" "lib/ holds no glibc library"
like "$(ls "$Z/lib")" "libjansson\.so\.4" "lib/ holds the libraries sluice needs (libjansson among them)"
is "$(sed -n '/^bin\/sluice$/,$p' "$Z/MANIFEST" | LC_ALL=C sort)" "$(cd "$Z" && find . -type f ! -name MANIFEST | sed 's|^\./||' | LC_ALL=C sort)" \
    "MANIFEST lists every file of the zip"

# Only the zip's libraries (and glibc) are loaded.
outside() { # outside FILE...: libraries resolved outside $Z/lib, glibc aside
    awk -v lib="$Z/lib/" '/=> \// && index($3, lib) != 1 { print $1 }' |
        grep -v -E '^(libc|libm|libpthread|libdl|librt|libresolv)\.so|^ld-linux' || true
}
is "$(env -i LD_LIBRARY_PATH="$Z/lib" LD_TRACE_LOADED_OBJECTS=1 "$Z/bin/sluice" | outside)" "" \
    "bin/sluice resolves every library but glibc's from the zip's lib/"
for so in "$Z"/plugins/*.so; do
    is "$(env -i LD_LIBRARY_PATH="$Z/lib" ldd "$so" | outside)" "" "plugins/$(basename "$so") too"
done
like "$(env -i LD_LIBRARY_PATH="$Z/lib" "$Z/bin/sluice" --version)" "^sluice [0-9]" "bin/sluice --version starts on the zip's libraries alone"
env -i LD_LIBRARY_PATH="$Z/lib" SLUICE_PLUGIN_PATH="$Z/plugins" LD_DEBUG=files \
    "$Z/bin/sluice" validate --config "$Z/sluice.yaml" > "$TMP/validate" 2>&1
ok $? "bin/sluice validate accepts the zip's configuration" || grep -v 'LD_DEBUG\|^ *[0-9]*:' "$TMP/validate" | sed 's/^/# /'
like "$(cat "$TMP/validate")" "file=$Z/plugins/revenue\.so \[0\]; +dynamically loaded" "loading the revenue plugin from the zip's plugins/"

# The bootstrap runs the zip's sluice lambda, with only Lambda's variables.
env -i PATH=/usr/bin:/bin LAMBDA_TASK_ROOT="$Z" _HANDLER=sluice.yaml sh "$Z/bootstrap" > "$TMP/boot.out" 2> "$TMP/boot.err"
is "$?" "2" "bootstrap execs the zip's sluice lambda (status 2 without AWS_LAMBDA_RUNTIME_API)"
like "$(cat "$TMP/boot.err")" "AWS_LAMBDA_RUNTIME_API" "which names what is missing"

# The glibc check: Amazon Linux 2023 has glibc 2.34.
newest=$(for f in "$Z/bin/sluice" "$Z"/plugins/*.so "$Z"/lib/*; do objdump -T "$f" | awk '/\*UND\*/' | grep -o 'GLIBC_2\.[0-9.]*'; done |
    sed 's/GLIBC_//' | sort -uV | tail -1)
is "$(sed -n 's/^glibc-needed //p' "$Z/MANIFEST")" "$newest" "MANIFEST records the newest glibc the zip needs ($newest)"
sh "$PKG" "$top_srcdir" "$top_builddir" "$TMP/al2023.zip" > "$TMP/al2023.log" 2>&1; rc=$?
if [ "$(printf '%s\n2.34\n' "$newest" | sort -V | tail -1)" = "2.34" ]; then
    is "$rc" "0" "with LAMBDA_GLIBC_MAX=2.34 (the default) it packages: nothing needs more than 2.34"
else
    is "$rc" "1" "with LAMBDA_GLIBC_MAX=2.34 (the default) it refuses: this build needs glibc $newest"
    like "$(cat "$TMP/al2023.log")" "needs a glibc newer than 2\.34 \(Amazon Linux 2023\): .*\(GLIBC_$newest\)" "naming the files and versions"
    [ ! -e "$TMP/al2023.zip" ] && [ ! -e "$TMP/al2023.zip.tmp" ]; ok $? "and writes no zip"
fi
sh "$PKG" "$top_srcdir" "$top_builddir" "$TMP/none.zip" "$TMP/missing.yaml" > "$TMP/none.log" 2>&1
is "$?" "1" "a missing configuration fails the packaging"
like "$(cat "$TMP/none.log")" "missing\.yaml: no such configuration file" "naming the file"
[ ! -e "$TMP/none.zip" ]; ok $? "and writes no zip"
done_testing
