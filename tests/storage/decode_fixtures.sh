# tests/storage/decode_fixtures.sh — compressed and archived objects made by
# the system's tools (gzip, zstd, bzip2, bsdtar) and python's zipfile and
# tarfile, for decode.sh and tests/cli/decode_jobs.sh.
#
#   decode_fixtures DIR   writes into DIR:
#     plain.tsv                       the content every good fixture holds
#     good/NAME                       objects whose decoded content is plain.tsv
#     ab/NAME                         archives holding a.tsv then b.tsv
#     bad/NAME + bad/NAME.why         bad objects and a regex of their error
#     jobs/NAME                       archives for `members_as: jobs`: the
#                                     members a_hit_data.tsv, notes.txt and
#                                     d/b_hit_data.tsv (src/ has the first and
#                                     last), three.tar and three.zip whole;
#                                     symlink.tar, dotdot.zip, crc.zip and
#                                     truncated.tar with one member bad
# Needs python3; the caller checks for the tools (decode_tools_missing).
decode_tools_missing() {
    for t in gzip zstd bzip2 bsdtar python3; do
        command -v "$t" >/dev/null 2>&1 || { echo "$t"; return; }
    done
}

decode_fixtures() {
    d=$1
    mkdir -p "$d/good" "$d/ab" "$d/bad" "$d/src" "$d/jobs" "$d/src/d"
    # 100000 lines of tab-separated text (1.9 MB): many codec buffers long
    awk 'BEGIN { for (i = 0; i < 100000; i++) printf "%d\thit-%d\t%s\n", i, i * 7, (i % 3 ? "a" : "bb") }' \
        > "$d/plain.tsv"
    p=$d/plain.tsv
    half=$(($(wc -l < "$p") / 2))
    head -n "$half" "$p" > "$d/src/h1"; tail -n +"$((half + 1))" "$p" > "$d/src/h2"
    seq 1 10 > "$d/src/a.tsv"; seq 11 30 > "$d/src/b.tsv"
    printf 'page\tvalue\nhome\t1\ncart\t2\n' > "$d/src/a_hit_data.tsv"
    printf 'page\tvalue\nsearch\t30\n' > "$d/src/d/b_hit_data.tsv"
    echo 'not hit data' > "$d/src/notes.txt"

    gzip -c "$p" > "$d/good/plain.gz"
    gzip -9 -c "$p" > "$d/good/plain.gz9"
    { gzip -c "$d/src/h1"; gzip -c "$d/src/h2"; } > "$d/good/multi.gz"
    zstd -q -c "$p" > "$d/good/plain.zst"
    zstd -q -19 -c "$p" > "$d/good/plain.zst19"
    { zstd -q -c "$d/src/h1"; zstd -q -c "$d/src/h2"; } > "$d/good/multi.zst"
    bzip2 -c "$p" > "$d/good/plain.bz2"
    { bzip2 -c "$d/src/h1"; bzip2 -c "$d/src/h2"; } > "$d/good/multi.bz2"
    cp "$p" "$d/src/plain.tsv"
    (cd "$d/src" && bsdtar -cf "$d/good/bsdtar.tar" plain.tsv &&
        bsdtar -czf "$d/good/bsdtar.tar.gz" plain.tsv &&
        bsdtar --zstd -cf "$d/good/bsdtar.tar.zst" plain.tsv &&
        bsdtar -cjf "$d/good/bsdtar.tar.bz2" plain.tsv &&
        bsdtar --format zip -cf "$d/good/bsdtar.zip" plain.tsv &&
        bsdtar -cf "$d/ab/bsdtar.tar" a.tsv b.tsv &&
        bsdtar -czf "$d/ab/bsdtar.tar.gz" a.tsv b.tsv &&
        bsdtar --format zip -cf "$d/ab/bsdtar.zip" a.tsv b.tsv &&
        bsdtar -cf "$d/jobs/three.tar" a_hit_data.tsv notes.txt d/b_hit_data.tsv &&
        bsdtar --format zip -cf "$d/jobs/three.zip" a_hit_data.tsv notes.txt d/b_hit_data.tsv)
    python3 - "$d" <<'PY'
import io, sys, tarfile, zipfile
d = sys.argv[1]
plain = open(d + "/plain.tsv", "rb").read()
a = open(d + "/src/a.tsv", "rb").read()
b = open(d + "/src/b.tsv", "rb").read()

# good: python's writers, zip64 among them
with tarfile.open(d + "/good/py.tar.gz", "w:gz") as t:
    ti = tarfile.TarInfo("dir/plain.tsv"); ti.size = len(plain)
    t.addfile(ti, io.BytesIO(plain))
with tarfile.open(d + "/good/py_pax.tar", "w", format=tarfile.PAX_FORMAT) as t:
    ti = tarfile.TarInfo("d\u00e9j\u00e0/" + "x" * 120 + ".tsv"); ti.size = len(plain)
    t.addfile(ti, io.BytesIO(plain))
with zipfile.ZipFile(d + "/good/py_deflate.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("plain.tsv", plain)
with zipfile.ZipFile(d + "/good/py_stored.zip", "w", zipfile.ZIP_STORED) as z:
    z.writestr("plain.tsv", plain)
with zipfile.ZipFile(d + "/good/py_zip64.zip", "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("plain.tsv", "w", force_zip64=True) as f:
        f.write(plain)
with zipfile.ZipFile(d + "/good/py_dir.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("d/", b"")
    z.writestr("d/plain.tsv", plain)
with zipfile.ZipFile(d + "/ab/py.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("a.tsv", a); z.writestr("b.tsv", b)

# bad archives
def tar(name, entries):
    with tarfile.open(d + "/bad/" + name, "w") as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
def reg(n, data=b"x\n"):
    ti = tarfile.TarInfo(n); ti.size = len(data); return ti, data
def special(n, typ, link=""):
    ti = tarfile.TarInfo(n); ti.type = typ; ti.linkname = link; return ti, None
def why(name, text):
    open(d + "/bad/" + name + ".why", "w").write(text + "\n")
tar("dotdot.tar", [reg("../evil.tsv")]); why("dotdot.tar", 'member "\\.\\./evil\\.tsv": unsafe path')
tar("absolute.tar", [reg("/etc/evil.tsv")]); why("absolute.tar", 'member "/etc/evil\\.tsv": unsafe path')
tar("symlink.tar", [special("l.tsv", tarfile.SYMTYPE, "/etc/passwd")])
why("symlink.tar", 'member "l\\.tsv": is a symbolic link \\(to "/etc/passwd"\\)')
tar("hardlink.tar", [reg("a.tsv"), special("h.tsv", tarfile.LNKTYPE, "a.tsv")])
why("hardlink.tar", 'member "h\\.tsv": is a hard link \\(to "a\\.tsv"\\)')
tar("device.tar", [special("dev.tsv", tarfile.CHRTYPE)])
why("device.tar", 'member "dev\\.tsv": is a character device')
tar("fifo.tar", [special("f.tsv", tarfile.FIFOTYPE)])
why("fifo.tar", 'member "f\\.tsv": is a FIFO')
with zipfile.ZipFile(d + "/bad/dotdot.zip", "w") as z:
    z.writestr("../x.tsv", b"x")
why("dotdot.zip", 'member "\\.\\./x\\.tsv": unsafe path')
# members_as: jobs: three members, one of them bad
ja = open(d + "/src/a_hit_data.tsv", "rb").read()
jb = open(d + "/src/d/b_hit_data.tsv", "rb").read()
def jobs_tar(name, middle):
    with tarfile.open(d + "/jobs/" + name, "w") as t:
        for ti, data in [reg("a_hit_data.tsv", ja), middle, reg("d/b_hit_data.tsv", jb)]:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
jobs_tar("symlink.tar", special("l_hit_data.tsv", tarfile.SYMTYPE, "/etc/passwd"))
with zipfile.ZipFile(d + "/jobs/dotdot.zip", "w") as z:
    z.writestr("a_hit_data.tsv", ja)
    z.writestr("../x_hit_data.tsv", b"page\tvalue\nevil\t6\n")
    z.writestr("d/b_hit_data.tsv", jb)
with zipfile.ZipFile(d + "/jobs/crc.zip", "w", zipfile.ZIP_STORED) as z:
    z.writestr("a_hit_data.tsv", ja)
    z.writestr("d/b_hit_data.tsv", jb)
buf = bytearray(open(d + "/jobs/crc.zip", "rb").read())
buf[30 + len("a_hit_data.tsv") + 12] ^= 0x01   # a byte of a_hit_data.tsv's content
open(d + "/jobs/crc.zip", "wb").write(buf)
# cut inside d/b_hit_data.tsv's header: a_hit_data.tsv and notes.txt are whole
full = open(d + "/jobs/three.tar", "rb").read()
open(d + "/jobs/truncated.tar", "wb").write(full[: 4 * 512 + 100])

# a stored member whose bytes no longer match its CRC-32
with zipfile.ZipFile(d + "/bad/crc.zip", "w", zipfile.ZIP_STORED) as z:
    z.writestr("plain.tsv", plain)
buf = bytearray(open(d + "/bad/crc.zip", "rb").read())
buf[30 + len("plain.tsv") + 100] ^= 0x01
open(d + "/bad/crc.zip", "wb").write(buf)
why("crc.zip", 'member "plain\\.tsv": cannot be read: .*(CRC|crc)')
# a deflated member cut short
full = open(d + "/good/py_deflate.zip", "rb").read()
open(d + "/bad/truncated.zip", "wb").write(full[: len(full) // 2])
why("truncated.zip", 'member "plain\\.tsv": cannot be read: .*(runcat|EOF|end)')
# a tar cut inside its member
full = open(d + "/good/bsdtar.tar", "rb").read()
open(d + "/bad/truncated.tar", "wb").write(full[: 512 + 10000])
why("truncated.tar", 'member "plain\\.tsv": cannot be read: .*(runcat|EOF|end)')
PY
    (cd "$d/src" && bsdtar --format zip --options zip:encryption=zipcrypt --passphrase secret \
        -cf "$d/bad/encrypted.zip" a.tsv)
    echo 'member "a\.tsv": is encrypted' > "$d/bad/encrypted.zip.why"

    # bad streams
    head -c 3000 "$d/good/plain.gz" > "$d/bad/truncated.gz"
    echo 'truncated gzip stream' > "$d/bad/truncated.gz.why"
    head -c 3000 "$d/good/plain.zst" > "$d/bad/truncated.zst"
    echo 'truncated zstd stream' > "$d/bad/truncated.zst.why"
    head -c 3000 "$d/good/plain.bz2" > "$d/bad/truncated.bz2"
    echo 'truncated bzip2 stream' > "$d/bad/truncated.bz2.why"
    python3 - "$d" <<'PY'
import sys
d = sys.argv[1]
def flip(src, dst, at):
    b = bytearray(open(d + "/good/" + src, "rb").read())
    b[at if at >= 0 else len(b) + at] ^= 0xff
    open(d + "/bad/" + dst, "wb").write(bytes(b))
flip("plain.gz", "crc.gz", -6)     # the trailer's CRC-32
flip("plain.gz", "size.gz", -2)    # the trailer's ISIZE
flip("plain.gz", "corrupt.gz", 2000)
flip("plain.bz2", "corrupt.bz2", 2000)
flip("plain.zst", "corrupt.zst", 2000)
open(d + "/bad/trailing.gz", "wb").write(open(d + "/good/plain.gz", "rb").read() + b"garbage!")
PY
    echo 'CRC or size mismatch' > "$d/bad/crc.gz.why"
    echo 'CRC or size mismatch' > "$d/bad/size.gz.why"
    echo '(corrupt|CRC)' > "$d/bad/corrupt.gz.why"
    echo 'corrupt bzip2 data' > "$d/bad/corrupt.bz2.why"
    echo 'corrupt zstd data' > "$d/bad/corrupt.zst.why"
    echo 'trailing data after the last gzip stream' > "$d/bad/trailing.gz.why"
    # a bomb: 100 concatenated bzip2 streams of 100 MiB of zeros each,
    # about 11 KB expanding to 10 GiB
    head -c 104857600 /dev/zero | bzip2 -9 > "$d/src/zeros.bz2"
    for _ in $(seq 1 100); do cat "$d/src/zeros.bz2"; done > "$d/bad/bomb.bz2"
    echo 'over max_ratio 1000\): refused as a decompression bomb' > "$d/bad/bomb.bz2.why"
}
