#!/bin/sh
# infra/lambda/package.sh — builds the deployable artifact of sluice, the
# zip `make lambda-zip` makes: the Lambda custom runtime's package
# (provided.al2023) and, unchanged, what the EC2 workers of
# infra/cloudformation/sluice-workers.yaml install.
#
#   package.sh SRCDIR BUILDDIR OUT.zip [CONFIG.yaml]
#
# Layout of the zip (every path relative to its root, /var/task on Lambda):
#   bootstrap                     infra/lambda/bootstrap, mode 0755
#   bin/sluice                    the engine from BUILDDIR, mode 0755
#   plugins/*.so                  every plugin BUILDDIR built
#   lib/*.so.*                    every shared library the engine and the
#                                 plugins need (ldd), except glibc's own
#   systemd/sluice-poll.service   the workers' unit (infra/systemd)
#   sluice.yaml                   CONFIG, when given
#   MANIFEST                      what is in it, and the glibc it needs
#
# "Static enough": glibc is the only library taken from the system that
# runs the zip; everything else the binary and plugins load is in lib/ and
# found through LD_LIBRARY_PATH, which the bootstrap sets. The newest
# GLIBC_x.y symbol version any packaged file needs is computed (objdump) and
# must not be newer than LAMBDA_GLIBC_MAX (default 2.34: Amazon Linux
# 2023's glibc); otherwise packaging fails and names the files. Build on
# Amazon Linux 2023 (infra/lambda/README.md) to satisfy it; set
# LAMBDA_GLIBC_MAX=none to package anyway (a zip for local tests only).
#
# Nothing is published on failure: the zip is written beside OUT and
# renamed into place at the end.
set -eu

usage() {
    echo "usage: package.sh SRCDIR BUILDDIR OUT.zip [CONFIG.yaml]" >&2
    echo "  environment: LAMBDA_GLIBC_MAX (default 2.34, or none), PYTHON3" >&2
    exit 2
}
case ${1:-} in -h | --help) usage ;; esac
[ $# -ge 3 ] && [ $# -le 4 ] || usage
src=$1 build=$2 out=$3 config=${4:-}
glibc_max=${LAMBDA_GLIBC_MAX:-2.34}
py=${PYTHON3:-python3}

die() { echo "package.sh: $*" >&2; exit 1; }
[ -x "$build/sluice" ] || die "$build/sluice: not built (run make first)"
[ -f "$src/infra/lambda/bootstrap" ] || die "$src/infra/lambda/bootstrap: missing"
[ -z "$config" ] || [ -f "$config" ] || die "$config: no such configuration file"
command -v ldd >/dev/null 2>&1 || die "ldd not found"
command -v objdump >/dev/null 2>&1 || die "objdump not found (binutils)"

stage=$(mktemp -d "${TMPDIR:-/tmp}/sluice-lambda.XXXXXX")
trap 'rm -rf "$stage" "$out.tmp"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/plugins" "$stage/systemd"

cp "$src/infra/lambda/bootstrap" "$stage/bootstrap"
cp "$build/sluice" "$stage/bin/sluice"
for so in "$build"/plugins/.libs/*.so; do
    [ -f "$so" ] || die "$build/plugins/.libs: no plugins built"
    cp "$so" "$stage/plugins/"
done
cp "$src/infra/systemd/sluice-poll.service" "$stage/systemd/"
[ -z "$config" ] || cp "$config" "$stage/sluice.yaml"

# glibc's own libraries come from the system that runs the zip (they must
# match its ld.so); the vDSO is no file.
is_glibc() {
    case $(basename "$1") in
        libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | libresolv.so.* | \
            libutil.so.* | libanl.so.* | libnsl.so.* | ld-linux*.so.* | libmvec.so.*) return 0 ;;
    esac
    return 1
}
for f in "$stage/bin/sluice" "$stage"/plugins/*.so; do
    missing=$(ldd "$f" | grep 'not found' | head -1 | sed 's/^[[:space:]]*//')
    [ -z "$missing" ] || die "${f#"$stage"/}: $missing"
    ldd "$f" | awk '/=> \// { print $3 }' >> "$stage/.libs-needed"
done
for lib in $(sort -u "$stage/.libs-needed"); do
    is_glibc "$lib" || cp -L "$lib" "$stage/lib/"
done
rm -f "$stage/.libs-needed"

# The newest glibc symbol version each packaged file needs (undefined
# symbols only: a library's own version definitions do not count).
needs=$(for f in "$stage/bin/sluice" "$stage"/plugins/*.so "$stage"/lib/*; do
    objdump -T "$f" | awk '/\*UND\*/' | grep -o 'GLIBC_2\.[0-9.]*' | sort -uV | tail -1 |
        sed "s|^GLIBC_||; s|\$| ${f#"$stage"/}|"
done | sort -V)
newest=$(printf '%s\n' "$needs" | tail -1 | cut -d' ' -f1)
if [ "$glibc_max" != none ]; then
    too_new=$(printf '%s\n' "$needs" | awk -v max="$glibc_max" '
        function cmp(a, b,   x, y, i) { split(a, x, "."); split(b, y, ".")
            for (i = 1; i <= 3; i++) if ((x[i] + 0) != (y[i] + 0)) return (x[i] + 0) - (y[i] + 0)
            return 0 }
        cmp($1, max) > 0 { printf "%s%s (GLIBC_%s)", sep, $2, $1; sep = ", " }')
    [ -z "$too_new" ] || die "needs a glibc newer than $glibc_max (Amazon Linux 2023): $too_new;" \
        "build on Amazon Linux 2023 (infra/lambda/README.md) or set LAMBDA_GLIBC_MAX=none for a local test zip"
fi

{
    echo "sluice $("$build/sluice" --version 2>/dev/null | head -1)"
    echo "glibc-needed $newest"
    echo "glibc-max ${glibc_max}"
    (cd "$stage" && find . -type f ! -name MANIFEST | sed 's|^\./||' | LC_ALL=C sort)
} > "$stage/MANIFEST"

# A zip with unix modes (bootstrap and bin/sluice executable), entries in
# a fixed order.
"$py" - "$stage" "$out.tmp" <<'PY'
import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
paths = []
for d, _, files in os.walk(root):
    for f in files:
        paths.append(os.path.relpath(os.path.join(d, f), root))
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for rel in sorted(paths):
        full = os.path.join(root, rel)
        mode = 0o755 if rel in ("bootstrap", "bin/sluice") else 0o644
        info = zipfile.ZipInfo(rel, date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | mode) << 16
        info.create_system = 3  # unix: the modes above are honoured
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(full, "rb") as f:
            z.writestr(info, f.read())
PY
mv "$out.tmp" "$out"
echo "package.sh: wrote $out (needs glibc >= $newest)"
