/* job_decode.c — a rule's decoding and output compression options. */
#include "autoconfig.h"
#include "core/job_decode.h"

#include <string.h>
#include <strings.h>

#include "util/alloc.h"

void job_decode_options(const rule *r, const char *name, decode_options *o)
{
    memset(o, 0, sizeof *o);
    o->name = name;
    if (!r->decompress || decode_codec_parse(r->decompress, &o->codec) != 0)
        o->codec = DECODE_AUTO;
    if (r->members && r->n_members) {
        o->members = (const char *const *)r->members;
        o->n_members = r->n_members;
    }
    o->limits.max_expanded_bytes = r->max_expanded_bytes;
    o->limits.max_ratio = (double)r->max_ratio;
}

int job_decode_member_jobs(const rule *r)
{
    return r->members_as && strcmp(r->members_as, "jobs") == 0;
}

encode_codec job_decode_output_codec(const rule *r)
{
    encode_codec c = ENCODE_NONE;
    if (r->compress)
        encode_codec_parse(r->compress, &c);
    return c;
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len > n && strncasecmp(s + len - n, suffix, n) == 0;
}

char *job_decode_plain_name(const char *name)
{
    static const char *const outer[] = {".gz", ".zst", ".bz2", ".tgz", ".zip"};
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof outer / sizeof *outer; i++)
        if (ends_with(name, len, outer[i])) {
            len -= strlen(outer[i]);
            break;
        }
    if (ends_with(name, len, ".tar"))
        len -= 4;
    return xstrndup(name, len);
}

const char *job_decode_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".tsv", "text/tab-separated-values"}, {".tab", "text/tab-separated-values"},
        {".csv", "text/csv"},                  {".json", "application/json"},
        {".jsonl", "application/x-ndjson"},    {".ndjson", "application/x-ndjson"},
        {".txt", "text/plain"},
    };
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (ends_with(name, len, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}
