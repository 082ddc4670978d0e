#!/usr/bin/env python3
"""gen.py — deterministic tables for the tabular plugin's tests and bench.

    gen.py table ROWS PREFIX   writes PREFIX.csv, PREFIX.jsonl (the same rows;
                               the JSON has real nulls in the string column)
                               and PREFIX.expect.csv / PREFIX.expect.jsonl:
                               what DuckDB must read back from the converted
                               file, in check.mjs's line format, ordered by id.
    gen.py bench BYTES FILE    an orders CSV of about BYTES bytes.

Columns: id int64, s string, b bool, i32 int32, d double, dec decimal(12,2),
dt date, ts timestamp. Typed columns are empty (null) in some rows; strings
carry unicode, quotes, delimiters, newlines and empty values.
"""
import datetime
import json
import random
import sys

WORDS = ["plain", "zoë", "naïve café", "☃ snow", "𝄞 clef", 'say "hi"', "a,b", "multi\nline",
         "tab\there", "", "中文", "x" * 300]
EPOCH = datetime.datetime(1970, 1, 1)


def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def js_double(x):
    return str(int(x)) if x == int(x) else repr(x)


def row(rnd, i):
    null = lambda: rnd.random() < 0.1  # noqa: E731
    s = None if rnd.random() < 0.05 else rnd.choice(WORDS) + ("" if rnd.random() < 0.5 else str(i))
    b = None if null() else rnd.random() < 0.5
    i32 = None if null() else rnd.randint(-2**31, 2**31 - 1)
    d = None if null() else round(rnd.uniform(-1e6, 1e6), 3)
    dec = None if null() else rnd.randint(-10**11 + 1, 10**11 - 1)  # cents
    dt = None if null() else EPOCH.date() + datetime.timedelta(days=rnd.randint(-20000, 40000))
    ts = None if null() else EPOCH + datetime.timedelta(microseconds=rnd.randint(0, 4 * 10**15))
    if i == 0:  # the extremes
        i32, dec = -2**31, 10**10 - 1
    return dict(id=i * 7 - 3, s=s, b=b, i32=i32, d=d, dec=dec, dt=dt, ts=ts)


def text(r, nulls_in_s):
    """CSV field texts: typed nulls are empty; a null string is empty too."""
    dec = r["dec"]
    return {
        "id": str(r["id"]),
        "s": "" if r["s"] is None else r["s"],
        "b": "" if r["b"] is None else ("true" if r["b"] else "false"),
        "i32": "" if r["i32"] is None else str(r["i32"]),
        "d": "" if r["d"] is None else repr(r["d"]),
        "dec": "" if dec is None else "%s%d.%02d" % ("-" if dec < 0 else "", abs(dec) // 100, abs(dec) % 100),
        "dt": "" if r["dt"] is None else r["dt"].isoformat(),
        "ts": "" if r["ts"] is None else r["ts"].strftime("%Y-%m-%d %H:%M:%S.%f"),
    }


def expect(r, t, json_input):
    def v(k, s):
        return "\\N" if r[k] is None else s
    s = "\\N" if (r["s"] is None and json_input) else esc(t["s"])
    return "\t".join([t["id"], s, v("b", t["b"]), v("i32", t["i32"]),
                      v("d", js_double(r["d"]) if r["d"] is not None else ""),
                      v("dec", t["dec"]), v("dt", t["dt"]), v("ts", t["ts"])])


def csv_field(s, string):
    if (s == "" and string) or any(c in s for c in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def table(rows, prefix):
    rnd = random.Random(20261206)
    cols = ["id", "s", "b", "i32", "d", "dec", "dt", "ts"]
    with open(prefix + ".csv", "w", encoding="utf-8", newline="") as c, \
         open(prefix + ".jsonl", "w", encoding="utf-8") as j, \
         open(prefix + ".expect.csv", "w", encoding="utf-8") as ec, \
         open(prefix + ".expect.jsonl", "w", encoding="utf-8") as ej:
        c.write(",".join(cols) + "\r\n")
        for i in range(rows):
            r = row(rnd, i)
            t = text(r, False)
            c.write(",".join(csv_field(t[k], k == "s") for k in cols) + "\r\n")
            obj = {"id": r["id"], "s": r["s"], "b": r["b"], "i32": r["i32"], "d": r["d"],
                   "dec": t["dec"] or None, "dt": t["dt"] or None, "ts": t["ts"] or None}
            j.write(json.dumps(obj, ensure_ascii=False) + "\n")
            ec.write(expect(r, t, False) + "\n")
            ej.write(expect(r, t, True) + "\n")


def bench(size, path):
    rnd = random.Random(1)
    countries = ["US", "CA", "FR", "DE", "JP", "BR", "GB", "IN"]
    names = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov",
             "Donald Knuth", "Frances Allen", "Ken Thompson"]
    # a block of distinct lines, repeated with fresh ids: fast to make
    block = []
    for i in range(20000):
        block.append(",%d.%02d,2026-%02d-%02d %02d:%02d:%02d,\"%s\",%s,%s\n" % (
            rnd.randint(0, 99999), rnd.randint(0, 99), rnd.randint(1, 12), rnd.randint(1, 28),
            rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59), rnd.choice(names),
            rnd.choice(countries), "sku-%05d" % rnd.randint(0, 50000)))
    written = 0
    n = 0
    with open(path, "w") as f:
        head = "order_id,amount,placed_at,Customer Name,country,sku\n"
        f.write(head)
        written += len(head)
        while written < size:
            chunk = "".join(str(n + k) + line for k, line in enumerate(block))
            n += len(block)
            f.write(chunk)
            written += len(chunk)


if __name__ == "__main__":
    if sys.argv[1] == "table":
        table(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "bench":
        bench(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)
