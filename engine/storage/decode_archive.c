/* decode_archive.c — zip and tar archives through libarchive, member by
 * member or as one stream of the chosen members.
 *
 * Every member header is checked before anything of it is read: a path
 * that is absolute or has a ".." segment, a link (symbolic or hard), a
 * device, FIFO or socket, and an encrypted member fail the whole archive
 * (decode_archive_next) or, read member by member in isolation
 * (decode_archive_next_isolated), that member only; directories are passed
 * over. libarchive checks each member's CRC and size while it is read. A
 * member whose content fails without breaking the archive (a zip CRC
 * mismatch: libarchive's ARCHIVE_WARN) fails that member's reads only;
 * anything fatal to libarchive (truncation, a failed raw read) or a broken
 * limit ends the archive. */
#include "autoconfig.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/decode_internal.h"
#include "util/alloc.h"
#include "util/strbuf.h"

typedef struct member_reader {
    storage_reader base;
    decode_archive *a;
} member_reader;

struct decode_archive {
    struct archive *ar;
    storage_reader *raw;
    uint8_t *buf;
    sl_error raw_err;     /* why the raw reader failed, for libarchive */
    char *name;
    char **members;       /* patterns, NULL-terminated; NULL: all */
    size_t n_members;
    decode_limits limits;
    int64_t used, made;   /* raw bytes read, member bytes returned */
    char *path;           /* the current member */
    char *what;           /* "name: member \"path\"" for messages */
    member_reader member;
    int failed;           /* the archive cannot go on: `fatal` says why */
    sl_error fatal;
    int member_failed;    /* the current member's content failed */
    int raw_eof;          /* the raw reader has ended */
};

static la_ssize_t archive_read_cb(struct archive *ar, void *ud, const void **buf)
{
    decode_archive *a = ud;
    ssize_t n = storage_read(a->raw, a->buf, DECODE_BUF_SIZE, &a->raw_err);
    if (n < 0) {
        archive_set_error(ar, EIO, "%s", a->raw_err.msg);
        return -1;
    }
    a->used += n;
    if (n == 0)
        a->raw_eof = 1;
    *buf = a->buf;
    return n;
}

int decode_archive_chosen(const decode_options *opt, const char *path)
{
    if (!opt->members)
        return 1;
    for (size_t i = 0; i < opt->n_members; i++)
        if (fnmatch(opt->members[i], path, 0) == 0)
            return 1;
    return 0;
}

static int archive_chosen(const decode_archive *a, const char *path)
{
    decode_options o = {.members = (const char *const *)a->members, .n_members = a->n_members};
    return decode_archive_chosen(&o, path);
}

/* The archive cannot go on; later calls repeat why. */
static void archive_end(decode_archive *a, const sl_error *why)
{
    a->failed = 1;
    a->fatal = *why;
}

/* The libarchive error, or the raw reader's when that was the cause. Only
 * a `fatal` one (libarchive's ARCHIVE_FATAL) ends the archive. */
static void archive_fail(decode_archive *a, sl_error *err, const char *what, const char *doing,
                         int fatal)
{
    if (a->raw_err.kind != SL_ERR_NONE) {
        sl_error_set(err, a->raw_err.kind, "%s", a->raw_err.msg);
    } else {
        const char *why = archive_error_string(a->ar);
        /* the raw end was reached long before a small archive's CRC check:
         * only a fatal error can mean the archive was cut short */
        sl_error_set(err, SL_ERR_INPUT, "%s: %s: %s%s", what, doing,
                     why ? why : "corrupt or truncated archive",
                     fatal && a->raw_eof ? " (truncated: the archive ends too early)" : "");
    }
    if (fatal || a->raw_err.kind != SL_ERR_NONE)
        archive_end(a, err);
}

static int unsafe_path(const char *p)
{
    if (p[0] == '/' || p[0] == '\\')
        return 1;
    for (const char *s = p; *s;) {
        size_t len = strcspn(s, "/\\");
        if (len == 2 && s[0] == '.' && s[1] == '.')
            return 1;
        s += len;
        if (*s)
            s++;
    }
    return 0;
}

static const char *kind_of(mode_t type)
{
    switch (type) {
    case AE_IFLNK: return "a symbolic link";
    case AE_IFCHR: return "a character device";
    case AE_IFBLK: return "a block device";
    case AE_IFIFO: return "a FIFO";
    case AE_IFSOCK: return "a socket";
    }
    return "not a regular file";
}

static void set_member(decode_archive *a, const char *path)
{
    free(a->path);
    free(a->what);
    a->path = xstrdup(path);
    a->what = xasprintf("%s: member \"%s\"", a->name, path);
}

/* Checks one header: 0 a regular file, 1 to pass over, -1 refused. */
static int check_entry(decode_archive *a, struct archive_entry *e, sl_error *err)
{
    const char *path = archive_entry_pathname(e);
    if (!path)
        path = archive_entry_pathname_utf8(e);
    set_member(a, path ? path : "(unnamed)");
    if (!path || !*path || unsafe_path(path)) {
        sl_error_set(err, SL_ERR_INPUT,
                     "%s: unsafe path (absolute, or with a \"..\" segment): refused", a->what);
        return -1;
    }
    const char *target = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    if (target || type == AE_IFLNK) {
        if (!target)
            target = archive_entry_symlink(e);
        sl_error_set(err, SL_ERR_INPUT, "%s: is a %s link (to \"%s\"): links are refused",
                     a->what, type == AE_IFLNK ? "symbolic" : "hard", target ? target : "?");
        return -1;
    }
    if (type == AE_IFDIR)
        return 1;
    if (type != AE_IFREG) {
        sl_error_set(err, SL_ERR_INPUT, "%s: is %s: only regular files are read", a->what,
                     kind_of(type));
        return -1;
    }
    if (archive_entry_is_encrypted(e)) {
        sl_error_set(err, SL_ERR_INPUT, "%s: is encrypted: encrypted members are not supported",
                     a->what);
        return -1;
    }
    return 0;
}

static ssize_t member_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    decode_archive *a = ((member_reader *)r)->a;
    if (a->failed || a->member_failed) {
        sl_error_set(err, SL_ERR_INPUT, "%s: the %s failed before", a->what,
                     a->failed ? "archive" : "member");
        return -1;
    }
    la_ssize_t n = archive_read_data(a->ar, buf, cap);
    if (n < 0) {
        a->member_failed = 1;
        archive_fail(a, err, a->what, "cannot be read", n == ARCHIVE_FATAL);
        return -1;
    }
    a->made += n;
    /* the limits are the object's: past them nothing more is read */
    if (decode_limits_check(&a->limits, a->used, a->made, a->what, err) != 0) {
        archive_end(a, err);
        return -1;
    }
    return (ssize_t)n;
}

/* The member reader belongs to the archive: closing it does nothing. */
static void member_close(storage_reader *r)
{
    (void)r;
}

static const storage_reader_ops member_ops = {.read = member_read, .close = member_close};

decode_archive *decode_archive_new(storage_reader *raw, const decode_options *opt,
                                   sl_error *err)
{
    decode_archive *a = xcalloc(1, sizeof *a);
    a->raw = raw;
    a->buf = xmalloc(DECODE_BUF_SIZE);
    a->name = xstrdup(opt->name ? opt->name : "input");
    a->limits = decode_limits_effective(&opt->limits);
    a->member.base.ops = &member_ops;
    a->member.a = a;
    if (opt->members) {
        a->members = xcalloc(opt->n_members + 1, sizeof *a->members);
        for (size_t i = 0; i < opt->n_members; i++)
            a->members[i] = xstrdup(opt->members[i]);
        a->n_members = opt->n_members;
    }
    a->ar = archive_read_new();
    if (!a->ar) {
        sl_error_set(err, SL_ERR_INTERNAL, "%s: out of memory", a->name);
        decode_archive_close(a);
        return NULL;
    }
    archive_read_support_format_zip(a->ar);
    archive_read_support_format_tar(a->ar);
    if (archive_read_open(a->ar, a, NULL, archive_read_cb, NULL) != ARCHIVE_OK) {
        archive_fail(a, err, a->name, "not a readable zip or tar archive", 1);
        decode_archive_close(a);
        return NULL;
    }
    return a;
}

/* The next chosen member. `isolated`: a refused chosen member is
 * DECODE_MEMBER_REFUSED and the archive goes on, and refused members that
 * are not chosen are passed over (never read); otherwise any refused
 * member ends the archive. */
static int next_member(decode_archive *a, int isolated, const char **path, sl_error *err)
{
    if (a->failed) {
        if (isolated)
            sl_error_set(err, a->fatal.kind, "%s", a->fatal.msg);
        else
            sl_error_set(err, SL_ERR_INPUT, "%s: the archive failed before", a->name);
        return -1;
    }
    a->member_failed = 0;
    for (;;) {
        struct archive_entry *e;
        int rc = archive_read_next_header(a->ar, &e);
        if (rc == ARCHIVE_EOF)
            return 0;
        if (rc < ARCHIVE_WARN) {
            archive_fail(a, err, a->path ? a->what : a->name,
                         a->path ? "the next member header cannot be read"
                                 : "not a readable zip or tar archive",
                         1);
            return -1;
        }
        sl_error why = {0}; /* a member passed over leaves no error behind */
        rc = check_entry(a, e, &why);
        if (rc < 0 && !isolated) {
            sl_error_set(err, why.kind, "%s", why.msg);
            archive_end(a, err);
            return -1;
        }
        if (rc == 1 || !archive_chosen(a, a->path))
            continue;
        *path = a->path;
        if (rc == 0)
            return 1;
        sl_error_set(err, why.kind, "%s", why.msg);
        return DECODE_MEMBER_REFUSED;
    }
}

int decode_archive_next(decode_archive *a, const char **path, storage_reader **member,
                        sl_error *err)
{
    int rc = next_member(a, 0, path, err);
    if (rc == 1)
        *member = &a->member.base;
    return rc;
}

int decode_archive_next_isolated(decode_archive *a, const char **path, storage_reader **member,
                                 sl_error *err)
{
    *member = NULL;
    int rc = next_member(a, 1, path, err);
    if (rc != 1)
        return rc;
    /* the pipe's thread reads libarchive until the caller closes it, which
     * is before the next call: one thread at a time */
    *member = decode_pipe_new(&a->member.base, DECODE_PIPE_SIZE, err);
    if (!*member) {
        archive_end(a, err);
        return -1;
    }
    return 1;
}

void decode_archive_none_chosen(const decode_archive *a, sl_error *err)
{
    if (!a->members) {
        sl_error_set(err, SL_ERR_INPUT, "%s: the archive holds no regular file", a->name);
        return;
    }
    strbuf pats = STRBUF_INIT;
    for (size_t i = 0; i < a->n_members; i++)
        sb_addf(&pats, "%s\"%s\"", i ? ", " : "", a->members[i]);
    sl_error_set(err, SL_ERR_INPUT, "%s: no member of the archive matches members: [%s]",
                 a->name, sb_str(&pats));
    sb_free(&pats);
}

void decode_archive_close(decode_archive *a)
{
    if (!a)
        return;
    if (a->ar)
        archive_read_free(a->ar);
    storage_reader_close(a->raw);
    for (size_t i = 0; i < a->n_members; i++)
        free(a->members[i]);
    free(a->members);
    free(a->buf);
    free(a->name);
    free(a->path);
    free(a->what);
    free(a);
}

/* --- the chosen members as one stream ------------------------------------ */

typedef struct archive_stream {
    storage_reader base;
    decode_archive *a;
    storage_reader *cur;  /* the member being read, NULL between */
    int chose;            /* the rule gave members: */
    int n_read;           /* members started */
    char *first;          /* the first member's path */
    int done;
} archive_stream;

static int stream_member_next(archive_stream *s, sl_error *err)
{
    const char *path;
    int rc = decode_archive_next(s->a, &path, &s->cur, err);
    if (rc <= 0)
        return rc;
    if (!s->chose && s->n_read == 1) {
        sl_error_set(err, SL_ERR_INPUT,
                     "%s: the archive holds several files (\"%s\", \"%s\", ...): the rule must "
                     "choose with members:",
                     s->a->name, s->first, path);
        return -1;
    }
    if (s->n_read++ == 0)
        s->first = xstrdup(path);
    return 1;
}

static ssize_t archive_stream_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    archive_stream *s = (archive_stream *)r;
    while (!s->done) {
        if (!s->cur) {
            int rc = stream_member_next(s, err);
            if (rc < 0)
                return -1;
            if (rc == 0)
                break;
        }
        ssize_t n = storage_read(s->cur, buf, cap, err);
        if (n != 0)
            return n;
        s->cur = NULL;
    }
    if (!s->done && s->n_read == 0) {
        decode_archive_none_chosen(s->a, err);
        return -1;
    }
    s->done = 1;
    return 0;
}

static void archive_stream_close(storage_reader *r)
{
    archive_stream *s = (archive_stream *)r;
    decode_archive_close(s->a);
    free(s->first);
    free(s);
}

static const storage_reader_ops archive_stream_ops = {.read = archive_stream_read,
                                                      .close = archive_stream_close};

storage_reader *decode_archive_stream_new(storage_reader *raw, const decode_options *opt,
                                          sl_error *err)
{
    decode_archive *a = decode_archive_new(raw, opt, err);
    if (!a)
        return NULL;
    archive_stream *s = xcalloc(1, sizeof *s);
    s->base.ops = &archive_stream_ops;
    s->a = a;
    s->chose = opt->members != NULL;
    return &s->base;
}
