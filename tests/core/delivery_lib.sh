# tests/core/delivery_lib.sh — building delivery sets for the delivery tests
# (sourced after tests/lib.sh). FEED is the fixture: tests/data/adobe-feed,
# a copy of the shared contract's delivery.
FEED="$DATA/adobe-feed"
STEM=shopzilla_2009-09-27

md5_of() { md5sum "$1" | cut -d' ' -f1; }
size_of() { wc -c < "$1" | tr -d ' '; }

# write_manifest DIR NAME TOTAL FILE...: DIR/NAME, a manifest listing FILEs
# ("L:name" a lookup archive, "D:name:records" a data file) with their real
# MD5 and size, in that order.
write_manifest() {
    _dir=$1 _name=$2 _total=$3
    shift 3
    _nl=0 _nd=0
    for _f in "$@"; do case $_f in L:*) _nl=$((_nl + 1)) ;; *) _nd=$((_nd + 1)) ;; esac; done
    {
        printf 'Datafeed-Manifest-Version: 1.0\nLookup-Files: %s\nData-Files: %s\nTotal-Records: %s\n' \
            "$_nl" "$_nd" "$_total"
        for _f in "$@"; do
            case $_f in
            L:*) _fn=${_f#L:}
                printf '\nLookup-File: %s\nMD5-Digest: %s\nFile-Size: %s\n' "$_fn" \
                    "$(md5_of "$_dir/$_fn")" "$(size_of "$_dir/$_fn")" ;;
            D:*) _r=${_f##*:} _fn=${_f#D:}; _fn=${_fn%:*}
                printf '\nData-File: %s\nMD5-Digest: %s\nFile-Size: %s\nRecord-Count: %s\n' "$_fn" \
                    "$(md5_of "$_dir/$_fn")" "$(size_of "$_dir/$_fn")" "$_r" ;;
            esac
        done
    } > "$_dir/$_name"
}

# put_feed BUCKET PREFIX: the fixture's delivery under s3://BUCKET/PREFIX
put_feed() {
    mkdir -p "$TMP/root/$1/$2"
    cp "$FEED/01-$STEM.tsv.gz" "$FEED/02-$STEM.tsv.gz" "$FEED/$STEM-lookup_data.tar.gz" \
        "$FEED/$STEM.txt" "$TMP/root/$1/$2"
    chmod u+w "$TMP/root/$1/$2"/*
}

# What the setecho plugin writes for the fixture: both data files decoded, in
# order, then the delivery's facts and the sizes of two lookup files.
setecho_expected() { # setecho_expected HOUR
    gzip -dc "$FEED/01-$STEM.tsv.gz" "$FEED/02-$STEM.tsv.gz"
    printf '#meta delivery=adobe\n#meta rsid=shopzilla\n#meta feed_date=2009-09-27\n#meta feed_hour=%s\n' "$1"
    printf '#lookup column_headers.tsv %s\n#lookup event.tsv %s\n' \
        "$(bsdtar -xOf "$FEED/$STEM-lookup_data.tar.gz" column_headers.tsv | wc -c | tr -d ' ')" \
        "$(bsdtar -xOf "$FEED/$STEM-lookup_data.tar.gz" event.tsv | wc -c | tr -d ' ')"
}
