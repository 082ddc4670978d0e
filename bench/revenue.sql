-- bench/revenue.sql — the Search Keyword Performance report
-- (../shared/specs/search-keyword-performance.md, modelled by
-- bench/ref_revenue.py) in DuckDB SQL, for the `make bench` table
-- (bench/rev_table.sh runs it through bench/duckdb_revenue.mjs, which
-- replaces @INPUT@ with the input's path as an SQL string literal and
-- prints the last statement's rows after the report's header line).
--
-- Input: the 12 columns of bench/gen_hits (tests/data/hit_data.tsv), in
-- that order, with a header line (rev_table.sh checks the header): TSV,
-- LF or CRLF, no quoting, all VARCHAR. Defaults only: visitor = ip,
-- attribution last, visit_timeout 1800, include_zero, the default engines.
--
-- Where this differs from the plugin (none of it occurs in gen_hits data,
-- which is ASCII without backslashes):
--   * a line that is not valid UTF-8 is dropped by DuckDB's CSV reader
--     (ignore_errors), and a keyword that decodes to invalid UTF-8 is no
--     keyword (DuckDB strings must be UTF-8); the plugin keeps the bytes;
--   * backslash escapes of data feeds (a backslash before TAB, LF or a
--     backslash) are not undone: a CSV reader cannot join such lines;
--   * columns are taken by position, not found by name.
-- Lines with too many fields are dropped (ignore_errors), lines with too
-- few are padded with NULL (null_padding; nullstr is a newline, which no
-- field can hold, so an empty field stays '' and only a missing one is
-- NULL): both are malformed and skipped, as are lines whose hit_time_gmt
-- is not 1 to 18 digits or whose ip is empty.

SET preserve_insertion_order = true;

-- ASCII-only lower-casing (bytes >= 0x80 are kept as they are)
CREATE MACRO lower_ascii(s) AS
    translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');

-- Percent-decoding: '+' is a space, %XX (hex, either case) that byte, any
-- other '%' literal. Valid escapes are marked with \x01 (a literal \x01 is
-- first written %01), every other '%' becomes %25, '+' %20, then
-- url_decode. NULL when the result is not UTF-8.
CREATE MACRO pct_decode(v) AS
    try(url_decode(replace(replace(replace(
        regexp_replace(replace(v, chr(1), '%01'), '%([0-9A-Fa-f]{2})', chr(1) || '\1', 'g'),
        '%', '%25'), '+', '%20'), chr(1), '%')));

-- Normalised keyword: runs of whitespace, C0 controls or DEL become one
-- space, trimmed, ASCII letters lower-cased.
CREATE MACRO norm_kw(v) AS
    lower_ascii(trim(regexp_replace(pct_decode(v), '[\x00-\x20\x7f]+', ' ', 'g'), ' '));

-- The first occurrence of the parameter whose normalised value is not
-- empty; pieces split on '&', name and value at the first '='.
CREATE MACRO keyword_of(q, param) AS
    list_filter(list_transform(string_split(q, '&'), lambda p:
        CASE WHEN strpos(p, '=') > 0 AND left(p, strpos(p, '=') - 1) = param
             THEN norm_kw(substr(p, strpos(p, '=') + 1)) END),
        lambda k: k IS NOT NULL AND k <> '')[1];

-- The default engine table: the keyword parameter of the host's engine.
CREATE MACRO engine_param(h) AS CASE
    WHEN regexp_full_match(h, '(.*\.)?google\.([a-z]{2,3}|(co|com)\.[a-z]{2})') THEN 'q'
    WHEN h = 'bing.com' OR ends_with(h, '.bing.com') THEN 'q'
    WHEN h = 'yahoo.com' OR ends_with(h, '.yahoo.com') THEN 'p'
    WHEN h = 'duckduckgo.com' OR ends_with(h, '.duckduckgo.com') THEN 'q'
    WHEN h = 'msn.com' OR ends_with(h, '.msn.com') THEN 'q'
    WHEN h = 'ask.com' OR ends_with(h, '.ask.com') THEN 'q'
    WHEN h = 'baidu.com' OR ends_with(h, '.baidu.com') THEN 'wd'
    WHEN regexp_full_match(h, '(.*\.)?yandex\.([a-z]{2,3}|(co|com)\.[a-z]{2})') THEN 'text'
    END;

-- Search Engine Domain: leading www. and search. labels removed while
-- more than two labels remain.
CREATE MACRO lead_run(h) AS regexp_extract(h, '^(?:(?:www|search)\.)*');
CREATE MACRO shorten(h) AS array_to_string(string_split(h, '.')[1 + greatest(0, least(
    strlen(lead_run(h)) - strlen(replace(lead_run(h), '.', '')),
    len(string_split(h, '.')) - 2)):], '.');

-- Caret escapes of list separators (^, ^; ^= ^^) out of the way, left to
-- right, before splitting event_list and product_list.
CREATE MACRO caret_hide(s) AS CASE WHEN strpos(s, '^') = 0 THEN s ELSE
    replace(replace(replace(replace(regexp_replace(s, '\^([,;=^])', chr(1) || '\1', 'g'),
        chr(1) || ',', chr(2)), chr(1) || ';', chr(3)), chr(1) || '=', chr(4)),
        chr(1) || '^', chr(5)) END;

-- Purchase: an event_list item (spaces around allowed) whose id, the part
-- before any '=' or ':', is 1.
CREATE MACRO is_purchase(ev) AS
    len(list_filter(string_split(caret_hide(ev), ','),
        lambda i: trim(regexp_extract(trim(i, ' '), '^[^=:]*'), ' ') = '1')) > 0;

-- One amount in cents: digits with an optional fraction, rounded half away
-- from zero on its own; anything else (or more than 15 integer digits) 0.
CREATE MACRO cents_of(a) AS CASE
    WHEN a <> '' AND a <> '.' AND regexp_full_match(a, '[0-9]*(\.[0-9]*)?')
         AND strlen(ltrim(split_part(a, '.', 1), '0')) <= 15
    THEN coalesce(CAST(nullif(ltrim(split_part(a, '.', 1), '0'), '') AS BIGINT), 0) * 100
         + CAST(left(split_part(a, '.', 2) || '000', 2) AS BIGINT)
         + CASE WHEN substr(split_part(a, '.', 2) || '000', 3, 1) >= '5' THEN 1 ELSE 0 END
    ELSE 0 END;

-- Revenue of a product_list: the fourth ';' field of each ',' product.
CREATE MACRO revenue_of(pl) AS
    coalesce(list_sum(list_transform(string_split(caret_hide(pl), ','), lambda p:
        CASE WHEN len(string_split(p, ';')) > 3
             THEN cents_of(trim(string_split(p, ';')[4], ' ')) ELSE 0 END)), 0);

-- One row per well-formed hit, in file order (preserve_insertion_order:
-- the table's rowid is the line order): visitor, time, the (domain,
-- keyword) of an external search hit (else NULL), the revenue in cents of
-- a purchase hit (else NULL).
CREATE TEMP TABLE hits AS
WITH raw AS (
    SELECT ip, CAST(hit_time_gmt AS BIGINT) AS t, event_list, product_list,
           regexp_extract(referrer, '^(?i:https?)://([^/?#]*)[^?#]*(\?[^#]*)?',
                          ['auth', 'query']) AS u
    FROM read_csv(@INPUT@, auto_detect = false, header = true, delim = '\t',
        quote = '', escape = '', comment = '', null_padding = true, nullstr = E'\n',
        ignore_errors = true,
        columns = {'hit_time_gmt': 'VARCHAR', 'date_time': 'VARCHAR',
                   'user_agent': 'VARCHAR', 'ip': 'VARCHAR', 'event_list': 'VARCHAR',
                   'geo_city': 'VARCHAR', 'geo_region': 'VARCHAR',
                   'geo_country': 'VARCHAR', 'pagename': 'VARCHAR',
                   'page_url': 'VARCHAR', 'product_list': 'VARCHAR',
                   'referrer': 'VARCHAR'})
    WHERE referrer IS NOT NULL AND ip <> ''
      AND regexp_full_match(hit_time_gmt, '[0-9]{1,18}')
), hosted AS (
    SELECT *,
           -- the authority without user@ and :port, one trailing '.' removed
           regexp_replace(split_part(regexp_extract(u.auth, '[^@]*$'), ':', 1), '\.$', '') AS h0,
           CASE WHEN u.query <> '' THEN substr(u.query, 2) END AS q
    FROM raw
), engined AS (
    SELECT *, CASE WHEN h0 <> '' AND NOT starts_with(regexp_extract(u.auth, '[^@]*$'), '[')
                        AND strlen(h0) <= 255 AND NOT regexp_matches(h0, '[\x00-\x20\x7f]')
                   THEN lower_ascii(h0) END AS host
    FROM hosted
), searched AS (
    SELECT *, CASE WHEN q IS NOT NULL AND engine_param(host) IS NOT NULL
                   THEN keyword_of(q, engine_param(host)) END AS kw
    FROM engined
)
SELECT ip, t,
       CASE WHEN kw IS NOT NULL THEN shorten(host) || chr(9) || kw END AS pair,
       CASE WHEN is_purchase(event_list) THEN revenue_of(product_list) END AS cents
FROM searched;

-- Attribution: `now` is the largest time so far in file order, `last` the
-- visitor's largest earlier time; a gap now - last above 1800 s starts a
-- new visit. A purchase's revenue goes to the visit's latest search up to
-- and including its own line. Every pair seen appears, revenue 0 or more.
WITH o AS (
    SELECT rowid AS n, ip, t, pair, cents,
           max(t) OVER (ORDER BY rowid ROWS UNBOUNDED PRECEDING) AS now,
           max(t) OVER (PARTITION BY ip ORDER BY rowid
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS last
    FROM hits
), v AS (
    SELECT *, sum(CASE WHEN now - last > 1800 THEN 1 ELSE 0 END)
                  OVER (PARTITION BY ip ORDER BY n ROWS UNBOUNDED PRECEDING) AS visit
    FROM o
), a AS (
    SELECT pair, cents,
           last_value(pair IGNORE NULLS) OVER (PARTITION BY ip, visit ORDER BY n
                                               ROWS UNBOUNDED PRECEDING) AS cur
    FROM v
), r AS (
    SELECT pair, sum(c) AS c FROM (
        SELECT pair, 0 AS c FROM a WHERE pair IS NOT NULL
        UNION ALL
        SELECT cur, cents FROM a WHERE cents IS NOT NULL AND cur IS NOT NULL)
    GROUP BY pair
)
SELECT split_part(pair, chr(9), 1) AS domain, split_part(pair, chr(9), 2) AS keyword,
       printf('%d.%02d', CAST(c // 100 AS BIGINT), CAST(c % 100 AS BIGINT)) AS revenue
FROM r
ORDER BY c DESC, domain, keyword;
