/* tab_config.c — options of the tabular plugin (tab_config.h). */
#include "autoconfig.h"
#include "tab_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char tab_config_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"from\",\"to\"],"
    "\"properties\":{"
    "\"from\":{\"enum\":[\"csv\",\"tsv\",\"jsonl\"],\"description\":\"input format\"},"
    "\"to\":{\"enum\":[\"csv\",\"tsv\",\"jsonl\",\"parquet\"],\"description\":\"output format\"},"
    "\"delimiter\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1,"
    "\"description\":\"CSV field separator (default ,)\"},"
    "\"quote\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1,"
    "\"description\":\"CSV quote character (default \\\")\"},"
    "\"header\":{\"type\":\"boolean\",\"description\":\"CSV/TSV: the first line names the "
    "columns (default true)\"},"
    "\"encoding\":{\"enum\":[\"utf-8\",\"latin-1\"],\"description\":\"CSV/TSV input encoding\"},"
    "\"escapes\":{\"type\":\"boolean\",\"description\":\"TSV input: backslash escapes tab, "
    "newline and backslash (Adobe data feeds)\"},"
    "\"columns\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":\"object\","
    "\"additionalProperties\":false,\"required\":[\"name\"],\"properties\":{"
    "\"name\":{\"type\":\"string\",\"minLength\":1},"
    "\"from\":{\"type\":\"string\",\"minLength\":1},"
    "\"type\":{\"type\":\"string\"},"
    "\"format\":{\"type\":\"string\",\"minLength\":1}}}},"
    "\"where\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"column\",\"regex\"],\"properties\":{"
    "\"column\":{\"type\":\"string\",\"minLength\":1},\"regex\":{\"type\":\"string\"}}},"
    "\"on_bad_row\":{\"enum\":[\"fail\",\"skip\",\"reject\"]},"
    "\"compression\":{\"enum\":[\"zstd\",\"gzip\",\"none\"],\"description\":\"Parquet page "
    "compression (default zstd)\"},"
    "\"compression_level\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":19},"
    "\"row_group_bytes\":{\"type\":\"integer\",\"minimum\":1024,\"maximum\":1073741824,"
    "\"description\":\"Parquet row group size bound (default 64 MiB)\"}"
    "}}";

static int error(char *err, size_t errlen, const char *msg, const char *arg)
{
    snprintf(err, errlen, msg, arg);
    return -1;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int load_columns(const sluice_host *h, const sluice_value *list, tab_config *c,
                        char *err, size_t errlen)
{
    size_t n = h->value_len(list);
    if (!n)
        return 0;
    if (!(c->cols = calloc(n, sizeof *c->cols)))
        return error(err, errlen, "out of memory%s", "");
    c->ncols = n;
    for (size_t i = 0; i < n; i++) {
        const sluice_value *v = h->value_at(list, i);
        tab_column_cfg *col = &c->cols[i];
        const char *name = h->value_string(h->value_get(v, "name"), "");
        col->name = strdup(name);
        col->from = strdup(h->value_string(h->value_get(v, "from"), name));
        col->format = dup_or_null(h->value_string(h->value_get(v, "format"), NULL));
        if (!col->name || !col->from)
            return error(err, errlen, "out of memory%s", "");
        for (size_t k = 0; k < i; k++)
            if (strcmp(c->cols[k].name, name) == 0)
                return error(err, errlen, "columns: the name \"%s\" is used twice", name);
        char why[200];
        const char *type = h->value_string(h->value_get(v, "type"), "string");
        if (tab_value_type_parse(type, &col->type, why, sizeof why) != 0) {
            snprintf(err, errlen, "columns[%zu] (%s): %s", i, name, why);
            return -1;
        }
        col->type.format = col->format;
        if (col->format && col->type.type != TAB_DATE && col->type.type != TAB_TIMESTAMP) {
            snprintf(err, errlen, "columns[%zu] (%s): format applies to date and timestamp "
                     "columns only", i, name);
            return -1;
        }
    }
    return 0;
}

static int load_where(const sluice_host *h, const sluice_value *w, tab_config *c, char *err,
                      size_t errlen)
{
    if (!w)
        return 0;
    const char *re = h->value_string(h->value_get(w, "regex"), "");
    c->where_column = strdup(h->value_string(h->value_get(w, "column"), ""));
    int code;
    PCRE2_SIZE off;
    c->where_re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, NULL);
    if (!c->where_re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errlen, "where.regex \"%s\": %s at offset %zu", re, (char *)msg,
                 (size_t)off);
        return -1;
    }
    return 0;
}

/* JSON Lines read only the paths the columns and the filter name. */
static int load_want(tab_config *c)
{
    size_t n = c->ncols + (c->where_column ? 1 : 0);
    if (!c->ncols)
        return 0;
    if (!(c->want = calloc(n, sizeof *c->want)))
        return -1;
    for (size_t i = 0; i < c->ncols; i++) {
        size_t k = 0;
        while (k < c->nwant && strcmp(c->want[k], c->cols[i].from) != 0)
            k++;
        if (k == c->nwant)
            c->want[c->nwant++] = c->cols[i].from;
    }
    if (c->where_column) {
        size_t k = 0;
        while (k < c->nwant && strcmp(c->want[k], c->where_column) != 0)
            k++;
        if (k == c->nwant)
            c->want[c->nwant++] = c->where_column;
    }
    c->read.want = (const char *const *)c->want;
    c->read.nwant = c->nwant;
    return 0;
}

int tab_config_load(const sluice_host *h, const sluice_value *o, tab_config *c, char *err,
                    size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->host = h;
    const char *from = h->value_string(h->value_get(o, "from"), "csv");
    const char *to = h->value_string(h->value_get(o, "to"), "csv");
    c->read.format = strcmp(from, "tsv") == 0 ? TAB_TSV : strcmp(from, "jsonl") == 0 ? TAB_JSONL : TAB_CSV;
    c->read.delimiter = h->value_string(h->value_get(o, "delimiter"),
                                        c->read.format == TAB_TSV ? "\t" : ",")[0];
    c->read.quote = h->value_string(h->value_get(o, "quote"), "\"")[0];
    c->read.header = h->value_bool(h->value_get(o, "header"), 1);
    c->read.latin1 = strcmp(h->value_string(h->value_get(o, "encoding"), "utf-8"), "latin-1") == 0;
    c->read.tsv_escapes = h->value_bool(h->value_get(o, "escapes"), 0);
    if (c->read.format == TAB_JSONL &&
        (h->value_get(o, "delimiter") || h->value_get(o, "quote") || h->value_get(o, "header") ||
         h->value_get(o, "encoding")))
        return error(err, errlen, "delimiter, quote, header and encoding apply to csv and tsv "
                     "input, not %s", from);
    if (c->read.format != TAB_CSV && (h->value_get(o, "delimiter") || h->value_get(o, "quote")))
        return error(err, errlen, "delimiter and quote apply to csv input, not %s", from);
    if (c->read.format != TAB_TSV && h->value_get(o, "escapes"))
        return error(err, errlen, "escapes applies to tsv input, not %s", from);
    if (c->read.delimiter == c->read.quote || c->read.delimiter == '\n' || c->read.delimiter == '\r')
        return error(err, errlen, "delimiter: must differ from the quote and from line ends%s", "");

    static const struct { const char *name; tab_out_format f; const char *ext; } outs[] = {
        {"csv", TAB_OUT_CSV, ".csv"}, {"tsv", TAB_OUT_TSV, ".tsv"},
        {"jsonl", TAB_OUT_JSONL, ".jsonl"}, {"parquet", TAB_OUT_PARQUET, ".parquet"}};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(to, outs[i].name) == 0) {
            c->write.format = outs[i].f;
            c->ext = outs[i].ext;
        }
    const char *codec = h->value_string(h->value_get(o, "compression"), "zstd");
    if (c->write.format != TAB_OUT_PARQUET &&
        (h->value_get(o, "compression") || h->value_get(o, "row_group_bytes") ||
         h->value_get(o, "compression_level")))
        return error(err, errlen, "compression, compression_level and row_group_bytes apply to "
                     "parquet output, not %s", to);
    c->write.parquet.codec = strcmp(codec, "gzip") == 0   ? PQ_CODEC_GZIP
                             : strcmp(codec, "none") == 0 ? PQ_CODEC_NONE
                                                          : PQ_CODEC_ZSTD;
    c->write.parquet.level = (int)h->value_int(h->value_get(o, "compression_level"), 0);
    c->write.parquet.row_group_bytes = (size_t)h->value_int(h->value_get(o, "row_group_bytes"), 0);
    if (c->write.parquet.codec == PQ_CODEC_GZIP && c->write.parquet.level > 9)
        return error(err, errlen, "compression_level: gzip levels are 0..9%s", "");

    const char *policy = h->value_string(h->value_get(o, "on_bad_row"), "fail");
    c->policy = strcmp(policy, "skip") == 0     ? TAB_BAD_SKIP
                : strcmp(policy, "reject") == 0 ? TAB_BAD_REJECT
                                                : TAB_BAD_FAIL;
    if (c->policy == TAB_BAD_REJECT && !SLUICE_HOST_HAS(h, side_write))
        return error(err, errlen, "on_bad_row: reject needs a sluice with side objects "
                     "(side_write)%s", "");
    if (load_columns(h, h->value_get(o, "columns"), c, err, errlen) != 0 ||
        load_where(h, h->value_get(o, "where"), c, err, errlen) != 0)
        return -1;
    if (c->read.format == TAB_JSONL && load_want(c) != 0)
        return error(err, errlen, "out of memory%s", "");
    return 0;
}

void tab_config_free(tab_config *c)
{
    for (size_t i = 0; i < c->ncols; i++) {
        free(c->cols[i].name);
        free(c->cols[i].from);
        free(c->cols[i].format);
    }
    free(c->cols);
    free(c->where_column);
    pcre2_code_free(c->where_re);
    free(c->want);
    memset(c, 0, sizeof *c);
}
