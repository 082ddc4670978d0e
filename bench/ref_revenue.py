#!/usr/bin/env python3
"""ref_revenue.py — a slow, straightforward model of the revenue report,
written from the spec alone, to cross-check the C plugin on generated data:

    python3 bench/ref_revenue.py [--first] [--ip-ua|--ip] [--timeout N]
        [--columns column_headers.tsv] [--no-escapes] [--no-exclude] FILE > OUT
    cmp OUT <(bench/rev_bench FILE /dev/stdout ...)

Default engines only. Also the data-feed amendment: backslash escapes,
caret escapes in lists, post_event_list / post_product_list, visitor ids
(visitor auto), excluded rows, duplicate purchases."""
import re
import sys

ENGINES = [  # (base, any_tld, param)
    ("google", True, b"q"), ("bing.com", False, b"q"), ("yahoo.com", False, b"p"),
    ("duckduckgo.com", False, b"q"), ("msn.com", False, b"q"), ("ask.com", False, b"q"),
    ("baidu.com", False, b"wd"), ("yandex", True, b"text"),
]
TLD = re.compile(rb"^(.*)\.(?:[a-zA-Z]{2,3}|(?:co|com)\.[a-zA-Z]{2})$")
AMOUNT = re.compile(rb"^(\d*)(?:\.(\d*))?$")


def under(host, base):
    return host == base or host.endswith(b"." + base)


def engine_param(host):
    for base, any_tld, param in ENGINES:
        base = base.encode()
        if not any_tld:
            if under(host, base):
                return param
            continue
        # every way of splitting off a <tld>
        for n in (1, 2):
            labels = host.split(b".")
            if len(labels) <= n:
                continue
            tld = labels[-n:]
            ok = (n == 1 and 2 <= len(tld[0]) <= 3 and tld[0].isalpha() and tld[0].isascii()) or \
                 (n == 2 and tld[0] in (b"co", b"com") and len(tld[1]) == 2 and tld[1].isalpha()
                  and tld[1].isascii())
            if ok and under(b".".join(labels[:-n]), base):
                return param
    return None


def url_parts(ref):
    m = re.match(rb"^(?i:https?)://([^/?#]*)([^?#]*)(\?[^#]*)?", ref)
    if not m:
        return None, None
    auth = m.group(1)
    host = auth.rsplit(b"@", 1)[-1]
    if host.startswith(b"["):
        return None, None
    host = host.split(b":", 1)[0]
    if host.endswith(b"."):
        host = host[:-1]
    if not host or len(host) > 255 or any(c <= 0x20 or c == 0x7F for c in host):
        return None, None
    return host.lower(), (m.group(3)[1:] if m.group(3) else None)


def decode(v):
    out = bytearray()
    i = 0
    while i < len(v):
        c = v[i]
        if c == ord("+"):
            out.append(0x20)
        elif c == ord("%") and i + 2 < len(v) and all(
                chr(x) in "0123456789abcdefABCDEF" for x in v[i + 1:i + 3]):
            out.append(int(v[i + 1:i + 3], 16))
            i += 2
        else:
            out.append(c)
        i += 1
    return bytes(out)


def normalise(v):
    v = re.sub(rb"[\x00-\x20\x7f]+", b" ", v).strip(b" ")
    return bytes(c + 32 if 65 <= c <= 90 else c for c in v)


def keyword(query, param):
    for piece in query.split(b"&"):
        name, eq, value = piece.partition(b"=")
        if eq and name == param:
            k = normalise(decode(value))
            if k:
                return k
    return None


def shorten(host):
    labels = host.split(b".")
    while len(labels) > 2 and labels[0] in (b"www", b"search"):
        labels.pop(0)
    return b".".join(labels)


CARET = {b",": b"\x00a", b";": b"\x00b", b"=": b"\x00c", b"^": b"\x00d"}


def caret_hide(s):
    """Escaped list separators out of the way (left to right, so ^^ pairs)."""
    return re.sub(rb"\^([,;=^])", lambda m: CARET[m.group(1)], s)


def caret_show(s):
    for k, v in CARET.items():
        s = s.replace(v, k)
    return s


def is_purchase(events):
    for item in caret_hide(events).split(b","):
        ident = re.split(rb"[=:]", item.strip(b" "), maxsplit=1)[0]
        if caret_show(ident).strip(b" ") == b"1":
            return True
    return False


BACKSLASH = {b"\\": b"\x00x", b"\t": b"\x00y", b"\n": b"\x00z"}


def backslash_hide(data):
    return re.sub(rb"\\([\\\t\n])", lambda m: BACKSLASH[m.group(1)], data)


def backslash_show(s):
    for k, v in BACKSLASH.items():
        s = s.replace(v, k)
    return s


def cents(amount):
    a = amount.strip(b" ")
    if not a:
        return 0, False
    m = AMOUNT.match(a)
    if not m or not (m.group(1) or m.group(2)) or len(m.group(1).lstrip(b"0")) > 15:
        return 0, True
    frac = (m.group(2) or b"") + b"000"
    return int(m.group(1) or b"0") * 100 + int(frac[:2]) + (frac[2] >= ord("5")), False


def main():
    args = sys.argv[1:]
    first = "--first" in args
    ip_ua = "--ip-ua" in args
    escapes = "--no-escapes" not in args
    exclude = "--no-exclude" not in args
    timeout = 1800
    if "--timeout" in args:
        timeout = int(args[args.index("--timeout") + 1])
    path = args[-1]
    visitors = {}  # key -> [last, search]
    revenue = {}
    now = -1
    header = None
    columns = None
    if "--columns" in args:
        with open(args[args.index("--columns") + 1], "rb") as f:
            columns = f.read().split(b"\n")[0].rstrip(b"\r").split(b"\t")
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if escapes:
        data = backslash_hide(data)

    def use(names):
        h = {}
        for i, name in enumerate(names):
            h.setdefault(name, i)
        for post in (b"event_list", b"product_list"):
            if b"post_" + post in h:
                h[post] = h[b"post_" + post]
        return h, len(names)

    visid = False
    for line in data.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            continue
        fields = line.split(b"\t")
        if header is None:
            if b"hit_time_gmt" in fields:
                header, ncols = use(fields)
            else:
                assert columns, "needs a header or --columns"
                header, ncols = use(columns)
            visid = not ip_ua and "--ip" not in args and \
                b"post_visid_high" in header and b"post_visid_low" in header
            if b"hit_time_gmt" in fields:
                continue
        if len(fields) != ncols:
            continue
        fields = [backslash_show(x) for x in fields] if escapes else fields
        if exclude:
            x = fields[header[b"exclude_hit"]] if b"exclude_hit" in header else b""
            src = fields[header[b"hit_source"]] if b"hit_source" in header else b""
            if (x and x != b"0") or src in (b"5", b"7", b"8", b"9"):
                continue
        t = fields[header[b"hit_time_gmt"]]
        if visid:
            ip = fields[header[b"post_visid_high"]]
            low = fields[header[b"post_visid_low"]]
            if not ip or not low:
                continue
        else:
            ip = fields[header[b"ip"]]
        if not re.fullmatch(rb"\d{1,18}", t) or not ip:
            continue
        t = int(t)
        now = max(now, t)
        key = ip + b"\t" + fields[header[b"user_agent"]] if ip_ua else ip
        if visid:
            key = ip + b"\t" + low
        v = visitors.get(key)
        if v is not None:
            if now - v[0] > timeout:
                v[1] = None
            v[0] = max(v[0], t)
        else:
            v = visitors[key] = [t, None]
        host, query = url_parts(fields[header[b"referrer"]])
        if host is not None and query is not None:
            param = engine_param(host)
            if param is not None:
                k = keyword(query, param)
                if k is not None:
                    pair = (shorten(host), k)
                    revenue.setdefault(pair, 0)
                    if v[1] is None or not first:
                        v[1] = pair
        dup = b"duplicate_purchase" in header and fields[header[b"duplicate_purchase"]] == b"1"
        if is_purchase(fields[header[b"event_list"]]) and not dup:
            total = 0
            for product in caret_hide(fields[header[b"product_list"]]).split(b","):
                parts = product.split(b";")
                total += cents(caret_show(parts[3]))[0] if len(parts) > 3 else 0
            if v[1] is not None:
                revenue[v[1]] += total
    out = sys.stdout.buffer
    out.write(b"Search Engine Domain\tSearch Keyword\tRevenue\n")
    for (d, k), c in sorted(revenue.items(), key=lambda x: (-x[1], x[0][0], x[0][1])):
        out.write(b"%s\t%s\t%d.%02d\n" % (d, k, c // 100, c % 100))


main()
