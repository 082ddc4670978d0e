#!/bin/sh
# The revenue plugin on a real Adobe data feed (tests/data/adobe-feed, the
# contract's fixture): the two headerless gzip'd data files decompressed and
# concatenated, the column names from the lookup archive's
# column_headers.tsv given as `columns`. The defaults give the exact expected
# report; turning off each rule of the data-feed amendment (escapes, excluded
# rows, visitor ids, post_ columns, duplicate purchases) changes the report or
# the run statistics, so every trap in the fixture is shown to matter.
. "$top_srcdir/tests/lib.sh"
FEED="$DATA/adobe-feed"
command -v tar >/dev/null 2>&1 || skip_all "tar is not installed"
make_workspace
gzip -dc "$FEED/01-shopzilla_2009-09-27.tsv.gz" "$FEED/02-shopzilla_2009-09-27.tsv.gz" > "$TMP/feed.tsv"
ok $? "gzip -dc of both data files"
tar -xzf "$FEED/shopzilla_2009-09-27-lookup_data.tar.gz" -C "$TMP" column_headers.tsv
ok $? "column_headers.tsv out of the lookup archive"
cols="$TMP/column_headers.tsv"

# `columns` as a YAML list, with one name replaced: the rule that needs that
# column then cannot see it (renamed FROM TO -> "[a, b, ...]").
renamed() {
    tr '\t' '\n' < "$cols" | tr -d '\r' | sed "s/^$1\$/$2/" | sed 's/.*/"&"/' | paste -sd, - | sed 's/^/[/; s/$/]/'
}
rule() { # rule NAME OPTIONS_FLOW_MAPPING
    add_rule "  - name: $1
    match: {bucket: none}
    plugin: revenue
    output: \"s3://reports/{name}\"
    options: $2"
}
rule feed "{columns: \"$cols\"}"
rule no_escapes "{columns: \"$cols\", escapes: none}"
rule no_escapes_lenient "{columns: \"$cols\", escapes: none, max_bad_ratio: 1}"
rule no_exclude "{columns: \"$cols\", exclude: none}"
rule by_ip "{columns: \"$cols\", visitor: ip}"
rule no_visid "{columns: $(renamed post_visid_high x_visid_high)}"
rule pre_conversion "{columns: $(renamed post_product_list x_post_product_list)}"
rule no_post_events "{columns: $(renamed post_event_list x_post_event_list)}"
rule no_duplicates "{columns: $(renamed duplicate_purchase x_duplicate_purchase)}"
rule headerless "{}"

R='Search Engine Domain	Search Keyword	Revenue'
# run RULE: status in $rc, the report in $got, the log in $TMP/RULE.log
run() {
    rm -rf "$TMP/out-$1"
    "$SLUICE" -c "$TMP/sluice.yaml" process "$TMP/feed.tsv" --rule "$1" --output "$TMP/out-$1/" \
        >/dev/null 2>"$TMP/$1.log"
    rc=$?
    got=$(cat "$TMP/out-$1/"*_SearchKeywordPerformance.tab 2>/dev/null)
}
log() { cat "$TMP/$1.log"; }

run feed; ok $rc "the feed: exit 0"
is "$got" "$(cat "$FEED/expected_SearchKeywordPerformance.tab")" "the feed: the expected report, exactly"
cmp -s "$TMP/out-feed/"*_SearchKeywordPerformance.tab "$FEED/expected_SearchKeywordPerformance.tab"
ok $? "the feed: byte for byte"
like "$(log feed)" 'lines_read=24 ' "24 records (one holds an escaped LF)"
like "$(log feed)" 'data_lines=24 ' "24 data records"
like "$(log feed)" 'malformed_lines=0 ' "no malformed record (escaped TAB, LF, backslash)"
like "$(log feed)" 'excluded_rows=2 ' "excluded rows counted (exclude_hit, hit_source 5)"
like "$(log feed)" 'duplicate_purchases=1 ' "the duplicate purchase counted"
like "$(log feed)" 'revenue_unattributed_cents=0 ' "all revenue attributed (visitor ids)"
like "$(log feed)" 'visitor post_visid_high \+ post_visid_low; events from post_event_list, products from post_product_list' \
    "the log says which columns were used"

# escapes: none -- the escaped TAB and LF break three records apart
run no_escapes
ok $((rc == 0)) "escapes none: the run fails"
like "$(log no_escapes)" 'malformed.*max_bad_ratio' "escapes none: too many malformed records"
is "$(ls "$TMP/out-no_escapes" 2>/dev/null)" "" "escapes none: nothing published"
run no_escapes_lenient; ok $rc "escapes none, max_bad_ratio 1: exit 0"
is "$got" "$R
google.com	ipod	480.00
yahoo.com	cd player	0.00" "escapes none: the bing search (escaped TAB in its user agent) is lost"
like "$(log no_escapes_lenient)" 'lines_read=25 .*malformed_lines=3 ' "escapes none: 25 lines, 3 malformed"

run no_exclude; ok $rc "exclude none: exit 0"
is "$got" "$R
google.com	ipod	1479.00
bing.com	zune	250.00
google.com	data source row	0.00
yahoo.com	cd player	0.00" "exclude none: the exclude_hit purchase and the hit_source 5 search count"
like "$(log no_exclude)" 'excluded_rows=0 ' "exclude none: nothing excluded"

want_ip="$R
bing.com	zune	250.00
google.com	ipod	190.00
yahoo.com	cd player	0.00"
run by_ip; ok $rc "visitor ip: exit 0"
is "$got" "$want_ip" "visitor ip: the purchase after the IP change is unattributed"
like "$(log by_ip)" 'revenue_unattributed_cents=29000 ' "visitor ip: 290.00 unattributed"
run no_visid; ok $rc "without post_visid_high: exit 0"
is "$got" "$want_ip" "visitor auto without both visid columns is the ip"

run pre_conversion; ok $rc "without post_product_list: exit 0"
is "$got" "$R
google.com	ipod	528.00
bing.com	zune	275.00
yahoo.com	cd player	0.00" "without post_product_list: the pre-conversion revenue of product_list"

run no_post_events; ok $rc "without post_event_list: exit 0"
is "$got" "$(cat "$FEED/expected_SearchKeywordPerformance.tab")" "event_list alone gives the same purchases here"
like "$(log no_post_events)" 'events from event_list' "without post_event_list: event_list is used"

run no_duplicates; ok $rc "without duplicate_purchase: exit 0"
is "$got" "$R
bing.com	zune	500.00
google.com	ipod	480.00
yahoo.com	cd player	0.00" "without duplicate_purchase: the duplicate is counted twice"
like "$(log no_duplicates)" 'duplicate_purchases=0 ' "without duplicate_purchase: none counted"

# headerless without columns (an hourly set without its lookup archive)
run headerless
ok $((rc == 0)) "headerless without columns: the run fails"
like "$(log headerless)" "no header line .*no column_headers.tsv.*option 'columns' is not set" \
    "headerless: the message says what is missing"
is "$(ls "$TMP/out-headerless" 2>/dev/null)" "" "headerless: nothing published"
done_testing
