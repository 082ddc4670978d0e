/* direct.c — locations named on the command line, expanded (direct.h). */
#include "autoconfig.h"
#include "intake/direct.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/alloc.h"

static void inputs_add(direct_inputs *l, location loc)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = loc;
}

void direct_inputs_free(direct_inputs *l)
{
    for (size_t i = 0; i < l->count; i++)
        location_free(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
}

typedef struct list_ctx {
    direct_inputs *inputs;
    const char *bucket;
} list_ctx;

static int add_listed_key(void *ud, const char *key, const object_info *info)
{
    list_ctx *c = ud;
    location loc = {.kind = LOC_OBJECT, .bucket = xstrdup(c->bucket), .key = xstrdup(key)};
    inputs_add(c->inputs, loc);
    return 0;
}

/* nftw has no user pointer; this is the one walk in flight (the CLI's main
 * thread, before any job starts). */
static direct_inputs *walk_target;

static int add_walked_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type == FTW_F && S_ISREG(st->st_mode))
        inputs_add(walk_target, (location){.kind = LOC_FILE, .path = xstrdup(path)});
    return 0;
}

static int cmp_location(const void *a, const void *b)
{
    const location *x = a, *y = b;
    return strcmp(x->path, y->path);
}

int direct_expand(storage *st, const char *text, int recursive, direct_inputs *out,
                  sl_error *err)
{
    location loc = {0};
    if (location_parse(text, &loc, err) != 0)
        return -1;
    if (loc.kind == LOC_OBJECT) {
        int is_prefix = !*loc.key || loc.key[strlen(loc.key) - 1] == '/';
        if (!recursive) {
            if (is_prefix) {
                sl_error_set(err, SL_ERR_CONFIG,
                             "%s names a prefix, not an object: add --recursive", text);
                location_free(&loc);
                return -1;
            }
            inputs_add(out, loc);
            return 0;
        }
        list_ctx c = {.inputs = out, .bucket = loc.bucket};
        int rc = st->ops->list(st, loc.bucket, loc.key, add_listed_key, &c, err);
        location_free(&loc);
        return rc < 0 ? -1 : 0;
    }
    struct stat sb;
    if (stat(loc.path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        if (!recursive) {
            sl_error_set(err, SL_ERR_CONFIG, "%s is a directory: add --recursive", loc.path);
            location_free(&loc);
            return -1;
        }
        size_t first = out->count;
        walk_target = out;
        int rc = nftw(loc.path, add_walked_file, 16, FTW_PHYS);
        walk_target = NULL;
        qsort(out->items + first, out->count - first, sizeof *out->items, cmp_location);
        location_free(&loc);
        if (rc != 0) {
            sl_error_set(err, SL_ERR_INPUT, "cannot walk %s", text);
            return -1;
        }
        return 0;
    }
    inputs_add(out, loc);
    return 0;
}
