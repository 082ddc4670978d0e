/* delivery_manifest.c — parsing a delivery set's manifest and its file
 * names (delivery_manifest.h). */
#include "autoconfig.h"
#include "core/delivery_manifest.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/strbuf.h"

/* One "Name: value" entry after continuation lines are joined. */
typedef struct entry {
    char *name, *value;
    int line;    /* where the entry starts */
    int section; /* 0-based */
} entry;

typedef struct entries {
    entry *v;
    size_t n;
} entries;

static void entries_free(entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].name);
        free(e->v[i].value);
    }
    free(e->v);
    memset(e, 0, sizeof *e);
}

/* Splits the text into entries; CRLF line ends are accepted. */
static int split_entries(const char *text, size_t len, const char *what, entries *out,
                         sl_error *err)
{
    int line = 0, section = 0, blank_before = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t l = end - pos;
        const char *s = text + pos;
        line++;
        pos = nl ? end + 1 : len;
        if (l && s[l - 1] == '\r')
            l--;
        if (l == 0) {
            blank_before = 1;
            continue;
        }
        if (s[0] == ' ') {
            if (out->n == 0 || blank_before) {
                sl_error_set(err, SL_ERR_INPUT,
                             "manifest %s:%d: a continuation line follows no value", what, line);
                return -1;
            }
            entry *e = &out->v[out->n - 1];
            char *joined = xasprintf("%s%.*s", e->value, (int)(l - 1), s + 1);
            free(e->value);
            e->value = joined;
            continue;
        }
        if (blank_before && out->n > 0)
            section++;
        blank_before = 0;
        const char *colon = memchr(s, ':', l);
        if (!colon || colon == s || (size_t)(colon - s) + 1 >= l || colon[1] != ' ') {
            sl_error_set(err, SL_ERR_INPUT,
                         "manifest %s:%d: not a \"Name: value\" line: \"%.*s\"", what, line,
                         (int)(l > 80 ? 80 : l), s);
            return -1;
        }
        out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
        entry *e = &out->v[out->n++];
        e->name = xstrndup(s, (size_t)(colon - s));
        e->value = xstrndup(colon + 2, l - (size_t)(colon - s) - 2);
        e->line = line;
        e->section = section;
    }
    return 0;
}

static int parse_count(const entry *e, const char *what, int64_t *out, sl_error *err)
{
    const char *v = e->value;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!isdigit((unsigned char)*v) || *end || errno || n < 0) {
        sl_error_set(err, SL_ERR_INPUT, "manifest %s:%d: %s is \"%s\", not a count", what,
                     e->line, e->name, v);
        return -1;
    }
    *out = n;
    return 0;
}

static int valid_file_name(const char *s)
{
    return *s && !strchr(s, '/') && !strchr(s, '\\') && strcmp(s, ".") && strcmp(s, "..");
}

static int parse_md5(const entry *e, const char *what, char md5[33], sl_error *err)
{
    size_t n = strlen(e->value);
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)e->value[i]))
            n = 0;
    if (n != 32) {
        sl_error_set(err, SL_ERR_INPUT, "manifest %s:%d: MD5-Digest \"%s\" is not 32 hex digits",
                     what, e->line, e->value);
        return -1;
    }
    for (size_t i = 0; i < 32; i++)
        md5[i] = (char)tolower((unsigned char)e->value[i]);
    md5[32] = 0;
    return 0;
}

/* One field of a file section. */
static int file_field(delivery_file *f, const entry *e, const char *what, sl_error *err)
{
    if (!strcmp(e->name, "MD5-Digest"))
        return parse_md5(e, what, f->md5, err);
    if (!strcmp(e->name, "File-Size"))
        return parse_count(e, what, &f->size, err);
    if (!strcmp(e->name, "Record-Count") && !f->is_lookup)
        return parse_count(e, what, &f->records, err);
    return 0; /* fields added by later manifest versions are ignored */
}

static int check_file(const delivery_file *f, int line, const char *what, sl_error *err)
{
    const char *missing = !f->md5[0]                       ? "MD5-Digest"
                          : f->size < 0                     ? "File-Size"
                          : !f->is_lookup && f->records < 0 ? "Record-Count"
                                                            : NULL;
    if (missing)
        sl_error_set(err, SL_ERR_INPUT, "manifest %s:%d: %s %s has no %s", what, line,
                     f->is_lookup ? "Lookup-File" : "Data-File", f->name, missing);
    return missing ? -1 : 0;
}

typedef struct header {
    int64_t lookups, datas, total;
    int have_version;
} header;

static int header_field(header *h, const entry *e, const char *what, sl_error *err)
{
    if (!strcmp(e->name, "Datafeed-Manifest-Version"))
        h->have_version = 1;
    else if (!strcmp(e->name, "Lookup-Files"))
        return parse_count(e, what, &h->lookups, err);
    else if (!strcmp(e->name, "Data-Files"))
        return parse_count(e, what, &h->datas, err);
    else if (!strcmp(e->name, "Total-Records"))
        return parse_count(e, what, &h->total, err);
    return 0;
}

static int check_header(const header *h, const delivery_manifest *m, const char *what,
                        sl_error *err)
{
    int64_t lookups = 0, datas = 0;
    for (size_t i = 0; i < m->n_files; i++)
        m->files[i].is_lookup ? lookups++ : datas++;
    const char *missing = !h->have_version ? "Datafeed-Manifest-Version"
                          : h->lookups < 0 ? "Lookup-Files"
                          : h->datas < 0   ? "Data-Files"
                          : h->total < 0   ? "Total-Records"
                                           : NULL;
    if (missing) {
        sl_error_set(err, SL_ERR_INPUT, "manifest %s: the first section has no %s", what,
                     missing);
        return -1;
    }
    if (lookups != h->lookups || datas != h->datas) {
        sl_error_set(err, SL_ERR_INPUT,
                     "manifest %s: Lookup-Files %lld and Data-Files %lld, but it lists %lld "
                     "lookup and %lld data files",
                     what, (long long)h->lookups, (long long)h->datas, (long long)lookups,
                     (long long)datas);
        return -1;
    }
    return 0;
}

static int build(const entries *es, const char *what, delivery_manifest *m, sl_error *err)
{
    header h = {-1, -1, -1, 0};
    int cur_line = 0;
    delivery_file *cur = NULL;
    for (size_t i = 0; i < es->n; i++) {
        const entry *e = &es->v[i];
        int opens = !strcmp(e->name, "Lookup-File") || !strcmp(e->name, "Data-File");
        if (e->section == 0 && !opens) {
            if (header_field(&h, e, what, err) != 0)
                return -1;
            continue;
        }
        if (opens) {
            if (cur && check_file(cur, cur_line, what, err) != 0)
                return -1;
            if (!valid_file_name(e->value)) {
                sl_error_set(err, SL_ERR_INPUT,
                             "manifest %s:%d: %s \"%s\" is not a file name beside the manifest",
                             what, e->line, e->name, e->value);
                return -1;
            }
            delivery_manifest_add(m, e->value, e->name[0] == 'L', -1);
            cur = &m->files[m->n_files - 1];
            cur->size = -1;
            cur_line = e->line;
        } else if (!cur || es->v[i - 1].section != e->section) {
            sl_error_set(err, SL_ERR_INPUT,
                         "manifest %s:%d: %s outside a Lookup-File or Data-File section", what,
                         e->line, e->name);
            return -1;
        } else if (file_field(cur, e, what, err) != 0) {
            return -1;
        }
    }
    if (cur && check_file(cur, cur_line, what, err) != 0)
        return -1;
    if (check_header(&h, m, what, err) != 0)
        return -1;
    m->total_records = h.total;
    return 0;
}

int delivery_manifest_parse(const char *text, size_t len, const char *what,
                            delivery_manifest *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    out->total_records = -1;
    if (memchr(text, '\0', len)) {
        sl_error_set(err, SL_ERR_INPUT, "manifest %s: not text (it holds a NUL byte)", what);
        return -1;
    }
    entries es = {0};
    int rc = split_entries(text, len, what, &es, err);
    if (rc == 0)
        rc = build(&es, what, out, err);
    entries_free(&es);
    if (rc != 0)
        delivery_manifest_free(out);
    return rc;
}

void delivery_manifest_add(delivery_manifest *m, const char *name, int is_lookup, int64_t size)
{
    m->files = xrealloc(m->files, (m->n_files + 1) * sizeof *m->files);
    delivery_file *f = &m->files[m->n_files++];
    memset(f, 0, sizeof *f);
    f->name = xstrdup(name);
    f->is_lookup = is_lookup;
    f->size = size;
    f->records = -1;
}

void delivery_manifest_free(delivery_manifest *m)
{
    for (size_t i = 0; i < m->n_files; i++)
        free(m->files[i].name);
    free(m->files);
    memset(m, 0, sizeof *m);
    m->total_records = -1;
}

/* ---- names -------------------------------------------------------------- */

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* "_YYYY-MM-DD" at s (11 bytes). */
static int is_date_part(const char *s)
{
    return s[0] == '_' && digits(s + 1, 4) && s[5] == '-' && digits(s + 6, 2) && s[8] == '-' &&
           digits(s + 9, 2);
}

int delivery_manifest_name(const char *base, delivery_name *out)
{
    size_t len = strlen(base);
    if (len < 5 || (strcmp(base + len - 4, ".txt") && strcmp(base + len - 4, ".fin")))
        return 0;
    size_t stem_len = len - 4;
    if (stem_len >= sizeof out->stem)
        return 0;
    memset(out, 0, sizeof *out);
    size_t date_at;
    if (stem_len >= 15 && base[stem_len - 3] == '-' && digits(base + stem_len - 2, 2) &&
        is_date_part(base + stem_len - 14)) {
        date_at = stem_len - 14;
        memcpy(out->hour, base + stem_len - 2, 2);
        if (atoi(out->hour) > 23)
            return 0;
    } else if (stem_len >= 12 && is_date_part(base + stem_len - 11)) {
        date_at = stem_len - 11;
    } else {
        return 0;
    }
    if (date_at == 0 || date_at >= sizeof out->rsid)
        return 0;
    memcpy(out->rsid, base, date_at);
    memcpy(out->date, base + date_at + 1, 10);
    memcpy(out->stem, base, stem_len);
    out->fin = base[len - 3] == 'f';
    return 1;
}

int delivery_manifest_is_data_name(const char *base, const char *stem)
{
    size_t d = strspn(base, "0123456789");
    size_t sl = strlen(stem);
    return d > 0 && base[d] == '-' && !strncmp(base + d + 1, stem, sl) && base[d + 1 + sl] == '.';
}

int delivery_manifest_is_lookup_name(const char *base, const char *stem)
{
    static const char suffix[] = "-lookup_data.";
    size_t sl = strlen(stem);
    return !strncmp(base, stem, sl) && !strncmp(base + sl, suffix, sizeof suffix - 1);
}
