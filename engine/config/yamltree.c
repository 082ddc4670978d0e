#include "autoconfig.h"
#include "config/yamltree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/alloc.h"
#include "util/strbuf.h"

/* Aliases are expanded by copying: a "billion laughs" document must not be
 * able to exhaust memory, and a configuration never comes near this. */
#define YTREE_MAX_NODES 100000
/* Nesting is handled by recursion; keep the stack bounded. */
#define YTREE_MAX_DEPTH 200

#define TAG_STR "tag:yaml.org,2002:str"
#define TAG_SEQ "tag:yaml.org,2002:seq"
#define TAG_MAP "tag:yaml.org,2002:map"

typedef struct anchor {
    char *name;
    ynode *node; /* owned by the tree */
} anchor;

typedef struct builder {
    const char *file;
    const char *text;
    size_t len;
    yaml_parser_t parser;
    anchor *anchors;
    size_t n_anchors, cap_anchors;
    size_t n_nodes;
    const yaml_mark_t *copying_at; /* where the alias being expanded is */
    char *err;
    size_t errlen;
    int failed;
} builder;

/* ---- nodes ------------------------------------------------------------ */

static void ynode_free(ynode *n)
{
    if (!n)
        return;
    free(n->value);
    for (size_t i = 0; i < n->count; i++) {
        ynode_free(n->items[i]);
        if (n->keys)
            ynode_free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n);
}

static void build_error(builder *b, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void build_error(builder *b, int line, int column, const char *fmt, ...)
{
    if (b->failed)
        return;
    b->failed = 1;
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    if (b->err && b->errlen)
        snprintf(b->err, b->errlen, "%s:%d:%d: %s", b->file, line, column, sb_str(&sb));
    sb_free(&sb);
}

static ynode *node_new(builder *b, ynode_type type, const yaml_mark_t *mark)
{
    if (++b->n_nodes > YTREE_MAX_NODES) {
        const yaml_mark_t *at = b->copying_at ? b->copying_at : mark;
        build_error(b, (int)at->line + 1, (int)at->column + 1,
                    "document too large (more than %d nodes after expanding aliases)",
                    YTREE_MAX_NODES);
        return NULL;
    }
    ynode *n = xcalloc(1, sizeof *n);
    n->type = type;
    n->line = (int)mark->line + 1;
    n->column = (int)mark->column + 1;
    return n;
}

static void node_append(ynode *parent, ynode *key, ynode *item, size_t *cap)
{
    if (parent->count == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        parent->items = xrealloc(parent->items, *cap * sizeof *parent->items);
        if (parent->type == YNODE_MAP)
            parent->keys = xrealloc(parent->keys, *cap * sizeof *parent->keys);
    }
    parent->items[parent->count] = item;
    if (parent->type == YNODE_MAP)
        parent->keys[parent->count] = key;
    parent->count++;
}

static ynode *node_copy(builder *b, const ynode *src)
{
    yaml_mark_t mark = {0, (size_t)(src->line - 1), (size_t)(src->column - 1)};
    ynode *n = node_new(b, src->type, &mark);
    if (!n)
        return NULL;
    n->quoted = src->quoted;
    if (src->value)
        n->value = xstrdup(src->value);
    if (src->count) {
        n->items = xcalloc(src->count, sizeof *n->items);
        if (src->keys)
            n->keys = xcalloc(src->count, sizeof *n->keys);
    }
    for (size_t i = 0; i < src->count; i++) {
        n->items[i] = node_copy(b, src->items[i]);
        if (src->keys)
            n->keys[i] = node_copy(b, src->keys[i]);
        n->count = i + 1;
        if (!n->items[i] || (src->keys && !n->keys[i])) {
            ynode_free(n);
            return NULL;
        }
    }
    return n;
}

/* ---- libyaml errors --------------------------------------------------- */

static void offset_to_position(const char *text, size_t len, size_t offset, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

static void parser_error(builder *b)
{
    const yaml_parser_t *p = &b->parser;
    const char *problem = p->problem ? p->problem : "YAML syntax error";
    int line, col;

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        build_error(b, 1, 1, "out of memory while parsing YAML");
        return;
    case YAML_READER_ERROR:
        offset_to_position(b->text, b->len, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            build_error(b, line, col, "%s (byte 0x%02X)", problem, (unsigned)p->problem_value);
        else
            build_error(b, line, col, "%s", problem);
        return;
    default:
        break;
    }
    line = (int)p->problem_mark.line + 1;
    col = (int)p->problem_mark.column + 1;
    if (p->context)
        build_error(b, line, col, "%s (%s at line %d, column %d)", problem, p->context,
                    (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    else
        build_error(b, line, col, "%s", problem);
}

static int next_event(builder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev)) {
        parser_error(b);
        return -1;
    }
    return 0;
}

/* ---- anchors ---------------------------------------------------------- */

static void anchor_define(builder *b, const yaml_char_t *name, ynode *node)
{
    if (!name)
        return;
    if (b->n_anchors == b->cap_anchors) {
        b->cap_anchors = b->cap_anchors ? b->cap_anchors * 2 : 8;
        b->anchors = xrealloc(b->anchors, b->cap_anchors * sizeof *b->anchors);
    }
    b->anchors[b->n_anchors].name = xstrdup((const char *)name);
    b->anchors[b->n_anchors].node = node;
    b->n_anchors++;
}

static const ynode *anchor_find(const builder *b, const char *name)
{
    /* A redefined anchor applies from its new definition on. */
    for (size_t i = b->n_anchors; i-- > 0;)
        if (strcmp(b->anchors[i].name, name) == 0)
            return b->anchors[i].node;
    return NULL;
}

/* ---- tree construction ----------------------------------------------- */

static ynode *parse_node(builder *b, yaml_event_t *ev, int depth);

static void unsupported_tag(builder *b, const char *tag, const yaml_mark_t *mark)
{
    const char *std = "tag:yaml.org,2002:";
    int is_std = strncmp(tag, std, strlen(std)) == 0;
    build_error(b, (int)mark->line + 1, (int)mark->column + 1,
                "unsupported YAML tag \"%s%s\" (only !!str is supported)", is_std ? "!!" : "",
                is_std ? tag + strlen(std) : tag);
}

static int check_tag(builder *b, const yaml_char_t *tag, const char *allowed,
                     const yaml_mark_t *mark)
{
    if (!tag || strcmp((const char *)tag, allowed) == 0)
        return 0;
    unsupported_tag(b, (const char *)tag, mark);
    return -1;
}

static ynode *parse_scalar(builder *b, yaml_event_t *ev)
{
    const yaml_mark_t *mark = &ev->start_mark;
    const char *tag = (const char *)ev->data.scalar.tag;
    int forced_string = 0;
    if (tag) {
        /* "!" (non-specific) and !!str make a string; nothing else is
         * meaningful in a configuration. */
        if (strcmp(tag, "!") == 0 || strcmp(tag, TAG_STR) == 0) {
            forced_string = 1;
        } else {
            unsupported_tag(b, tag, mark);
            return NULL;
        }
    }
    const char *value = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (memchr(value, '\0', len)) {
        build_error(b, (int)mark->line + 1, (int)mark->column + 1,
                    "NUL characters are not allowed in strings");
        return NULL;
    }
    ynode *n = node_new(b, YNODE_SCALAR, mark);
    if (!n)
        return NULL;
    n->value = xstrndup(value, len);
    n->quoted = forced_string || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    anchor_define(b, ev->data.scalar.anchor, n);
    return n;
}

static ynode *parse_alias(builder *b, yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const ynode *target = anchor_find(b, name);
    if (!target) {
        build_error(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                    "alias *%s refers to an undefined anchor (or to a node containing it)",
                    name);
        return NULL;
    }
    b->copying_at = &ev->start_mark;
    ynode *n = node_copy(b, target);
    b->copying_at = NULL;
    if (n) {
        /* The copy as a whole is at the alias; its contents stay where
         * they were written. */
        n->line = (int)ev->start_mark.line + 1;
        n->column = (int)ev->start_mark.column + 1;
    }
    return n;
}

static ynode *parse_sequence(builder *b, yaml_event_t *start, int depth)
{
    if (check_tag(b, start->data.sequence_start.tag, TAG_SEQ, &start->start_mark))
        return NULL;
    ynode *seq = node_new(b, YNODE_SEQ, &start->start_mark);
    if (!seq)
        return NULL;
    yaml_char_t *anchor_name = start->data.sequence_start.anchor;
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(b, &ev))
            goto fail;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        ynode *item = parse_node(b, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!item)
            goto fail;
        node_append(seq, NULL, item, &cap);
    }
    anchor_define(b, anchor_name, seq);
    return seq;
fail:
    ynode_free(seq);
    return NULL;
}

static int map_has_key(const ynode *map, const char *key, size_t upto)
{
    for (size_t i = 0; i < upto; i++)
        if (strcmp(map->keys[i]->value, key) == 0)
            return 1;
    return 0;
}

/* "<<: *defaults" (or a list of them): members not written explicitly are
 * taken from the merged mappings, earlier ones first. */
static int apply_merges(builder *b, ynode *map, ynode **merges, size_t n_merges, size_t *cap)
{
    for (size_t m = 0; m < n_merges; m++) {
        ynode *src = merges[m];
        ynode **list = &src;
        size_t n_list = 1;
        if (src->type == YNODE_SEQ) {
            list = src->items;
            n_list = src->count;
        }
        for (size_t l = 0; l < n_list; l++) {
            const ynode *from = list[l];
            if (from->type != YNODE_MAP) {
                build_error(b, src->line, src->column,
                            "a merge key (<<) needs a mapping or a list of mappings");
                return -1;
            }
            for (size_t i = 0; i < from->count; i++) {
                if (map_has_key(map, from->keys[i]->value, map->count))
                    continue;
                ynode *k = node_copy(b, from->keys[i]);
                ynode *v = k ? node_copy(b, from->items[i]) : NULL;
                if (!v) {
                    ynode_free(k);
                    return -1;
                }
                node_append(map, k, v, cap);
            }
        }
    }
    return 0;
}

static ynode *parse_mapping(builder *b, yaml_event_t *start, int depth)
{
    if (check_tag(b, start->data.mapping_start.tag, TAG_MAP, &start->start_mark))
        return NULL;
    ynode *map = node_new(b, YNODE_MAP, &start->start_mark);
    if (!map)
        return NULL;
    yaml_char_t *anchor_name = start->data.mapping_start.anchor;
    ynode **merges = NULL;
    size_t n_merges = 0, cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(b, &ev))
            goto fail;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        ynode *key = parse_node(b, &ev, depth + 1);
        int merge_key = ev.type == YAML_SCALAR_EVENT &&
                        ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && key &&
                        strcmp(key->value, "<<") == 0;
        yaml_event_delete(&ev);
        if (!key)
            goto fail;
        if (key->type != YNODE_SCALAR) {
            build_error(b, key->line, key->column, "mapping keys must be scalars");
            ynode_free(key);
            goto fail;
        }
        if (!merge_key && map_has_key(map, key->value, map->count)) {
            int first = 0;
            for (size_t i = 0; i < map->count; i++)
                if (strcmp(map->keys[i]->value, key->value) == 0)
                    first = map->keys[i]->line;
            build_error(b, key->line, key->column,
                        "duplicate key \"%s\" (first defined at line %d)", key->value, first);
            ynode_free(key);
            goto fail;
        }
        if (next_event(b, &ev)) {
            ynode_free(key);
            goto fail;
        }
        ynode *value = parse_node(b, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!value) {
            ynode_free(key);
            goto fail;
        }
        if (merge_key) {
            ynode_free(key);
            merges = xrealloc(merges, (n_merges + 1) * sizeof *merges);
            merges[n_merges++] = value;
            continue;
        }
        node_append(map, key, value, &cap);
    }
    if (apply_merges(b, map, merges, n_merges, &cap))
        goto fail;
    for (size_t i = 0; i < n_merges; i++)
        ynode_free(merges[i]);
    free(merges);
    anchor_define(b, anchor_name, map);
    return map;
fail:
    for (size_t i = 0; i < n_merges; i++)
        ynode_free(merges[i]);
    free(merges);
    ynode_free(map);
    return NULL;
}

static ynode *parse_node(builder *b, yaml_event_t *ev, int depth)
{
    if (depth > YTREE_MAX_DEPTH) {
        build_error(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                    "nesting deeper than %d levels", YTREE_MAX_DEPTH);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return parse_scalar(b, ev);
    case YAML_ALIAS_EVENT:
        return parse_alias(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return parse_sequence(b, ev, depth);
    case YAML_MAPPING_START_EVENT:
        return parse_mapping(b, ev, depth);
    default:
        build_error(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                    "unexpected YAML event");
        return NULL;
    }
}

static int expect_event(builder *b, yaml_event_type_t type)
{
    yaml_event_t ev;
    if (next_event(b, &ev))
        return -1;
    int ok = ev.type == type;
    if (!ok)
        build_error(b, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                    "unexpected YAML event");
    yaml_event_delete(&ev);
    return ok ? 0 : -1;
}

/* Stream: at most one document. */
static int build_document(builder *b, ynode **root)
{
    yaml_event_t ev;
    *root = NULL;
    if (expect_event(b, YAML_STREAM_START_EVENT))
        return -1;
    if (next_event(b, &ev))
        return -1;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return 0;
    }
    yaml_event_delete(&ev); /* DOCUMENT_START */
    if (next_event(b, &ev))
        return -1;
    *root = parse_node(b, &ev, 0);
    yaml_event_delete(&ev);
    if (!*root || expect_event(b, YAML_DOCUMENT_END_EVENT))
        return -1;
    if (next_event(b, &ev))
        return -1;
    if (ev.type != YAML_STREAM_END_EVENT) {
        build_error(b, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                    "only one YAML document is allowed (found a second one)");
        yaml_event_delete(&ev);
        return -1;
    }
    yaml_event_delete(&ev);
    return 0;
}

ydoc *ydoc_load_string(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    builder b;
    memset(&b, 0, sizeof b);
    b.file = name;
    b.text = text;
    b.len = len;
    b.err = err;
    b.errlen = errlen;
    if (err && errlen)
        err[0] = '\0';
    if (!yaml_parser_initialize(&b.parser)) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot initialise the YAML parser", name);
        return NULL;
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
    ynode *root = NULL;
    int rc = build_document(&b, &root);
    yaml_parser_delete(&b.parser);
    for (size_t i = 0; i < b.n_anchors; i++)
        free(b.anchors[i].name);
    free(b.anchors);
    if (rc) {
        ynode_free(root);
        return NULL;
    }
    /* "---" alone is an empty document, like an empty file. */
    if (root && root->type == YNODE_SCALAR && !root->quoted && root->value[0] == '\0') {
        ynode_free(root);
        root = NULL;
    }
    ydoc *doc = xcalloc(1, sizeof *doc);
    doc->file = xstrdup(name);
    doc->root = root;
    return doc;
}

ydoc *ydoc_load_file(const char *path, char *err, size_t errlen)
{
    strbuf sb = STRBUF_INIT;
    int rc = sb_read_file(&sb, path);
    if (rc != 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(rc));
        sb_free(&sb);
        return NULL;
    }
    ydoc *doc = ydoc_load_string(path, sb_str(&sb), sb.len, err, errlen);
    sb_free(&sb);
    return doc;
}

void ydoc_free(ydoc *doc)
{
    if (!doc)
        return;
    ynode_free(doc->root);
    free(doc->file);
    free(doc);
}

/* ---- queries ---------------------------------------------------------- */

ynode *ynode_get(const ynode *map, const char *key)
{
    if (!map || map->type != YNODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i]->value, key) == 0)
            return map->items[i];
    return NULL;
}

/* Decodes one JSON pointer segment ("~1" is '/', "~0" is '~'). */
static char *pointer_segment(const char *s, size_t len)
{
    char *out = xmalloc(len + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '~' && i + 1 < len && (s[i + 1] == '0' || s[i + 1] == '1')) {
            *o++ = s[i + 1] == '0' ? '~' : '/';
            i++;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static const ynode *seq_index(const ynode *seq, const char *seg)
{
    if (!*seg || (seg[0] == '0' && seg[1]) || strspn(seg, "0123456789") != strlen(seg))
        return NULL;
    errno = 0;
    unsigned long long i = strtoull(seg, NULL, 10);
    if (errno || i >= seq->count)
        return NULL;
    return seq->items[i];
}

const ynode *ynode_at_pointer(const ynode *root, const char *pointer)
{
    const ynode *cur = root;
    if (!cur || !pointer || *pointer != '/')
        return cur;
    const char *p = pointer;
    while (*p == '/') {
        p++;
        size_t len = strcspn(p, "/");
        char *seg = pointer_segment(p, len);
        const ynode *next = NULL;
        if (cur->type == YNODE_MAP)
            next = ynode_get(cur, seg);
        else if (cur->type == YNODE_SEQ)
            next = seq_index(cur, seg);
        free(seg);
        if (!next)
            return cur;
        cur = next;
        p += len;
    }
    return cur;
}

/* ---- YAML 1.2 core schema -------------------------------------------- */

typedef enum scalar_kind { SK_STRING, SK_NULL, SK_BOOL, SK_INT, SK_FLOAT } scalar_kind;

static int all_of(const char *s, const char *set)
{
    return *s && strspn(s, set) == strlen(s);
}

static int is_core_float(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (strcmp(s, ".inf") == 0 || strcmp(s, ".Inf") == 0 || strcmp(s, ".INF") == 0)
        return 1;
    size_t digits = strspn(s, "0123456789");
    s += digits;
    size_t frac = 0;
    if (*s == '.') {
        s++;
        frac = strspn(s, "0123456789");
        s += frac;
    } else if (!digits) {
        return 0;
    }
    if (!digits && !frac)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        size_t exp = strspn(s, "0123456789");
        if (!exp)
            return 0;
        s += exp;
    }
    return *s == '\0';
}

static scalar_kind classify(const ynode *n)
{
    if (n->quoted)
        return SK_STRING;
    const char *s = n->value;
    if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return SK_NULL;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") ||
        !strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return SK_BOOL;
    const char *d = (*s == '-' || *s == '+') ? s + 1 : s;
    if (all_of(d, "0123456789"))
        return SK_INT;
    if (!strncmp(s, "0o", 2) && all_of(s + 2, "01234567"))
        return SK_INT;
    if (!strncmp(s, "0x", 2) && all_of(s + 2, "0123456789abcdefABCDEF"))
        return SK_INT;
    if (is_core_float(s) || !strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
        return SK_FLOAT;
    return SK_STRING;
}

static json_t *int_to_json(const char *s)
{
    int base = 10;
    const char *digits = s;
    if (!strncmp(s, "0o", 2)) {
        base = 8;
        digits = s + 2;
    } else if (!strncmp(s, "0x", 2)) {
        base = 16;
        digits = s + 2;
    }
    errno = 0;
    long long v = strtoll(digits, NULL, base);
    if (errno == ERANGE)
        return base == 10 ? json_real(strtod(s, NULL)) : json_string(s);
    return json_integer((json_int_t)v);
}

static json_t *scalar_to_json(const ynode *n)
{
    switch (classify(n)) {
    case SK_NULL:
        return json_null();
    case SK_BOOL:
        return json_boolean(n->value[0] == 't' || n->value[0] == 'T');
    case SK_INT:
        return int_to_json(n->value);
    case SK_FLOAT: {
        /* JSON has no infinities or NaN: those stay strings. */
        json_t *j = strchr(n->value, 'n') || strchr(n->value, 'N') ? NULL
                                                                   : json_real(strtod(n->value, NULL));
        return j ? j : json_string(n->value);
    }
    case SK_STRING:
        break;
    }
    json_t *s = json_string(n->value);
    /* Not UTF-8 cannot happen (libyaml checks), but never return NULL. */
    return s ? s : json_stringn_nocheck(n->value, strlen(n->value));
}

json_t *ynode_to_json(const ynode *node)
{
    if (!node)
        return json_null();
    switch (node->type) {
    case YNODE_SCALAR:
        return scalar_to_json(node);
    case YNODE_SEQ: {
        json_t *a = json_array();
        for (size_t i = 0; i < node->count; i++)
            json_array_append_new(a, ynode_to_json(node->items[i]));
        return a;
    }
    case YNODE_MAP: {
        json_t *o = json_object();
        for (size_t i = 0; i < node->count; i++)
            json_object_set_new_nocheck(o, node->keys[i]->value, ynode_to_json(node->items[i]));
        return o;
    }
    }
    return json_null();
}

/* ---- columns inside scalars ------------------------------------------ */

static size_t utf8_chars(const char *s, size_t nbytes)
{
    size_t n = 0;
    for (size_t i = 0; i < nbytes && s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* Byte offset of (line, column) in the source, or -1. */
static long source_offset(const char *text, size_t len, int line, int column)
{
    size_t i = 0;
    for (int l = 1; l < line; l++) {
        const char *nl = memchr(text + i, '\n', len - i);
        if (!nl)
            return -1;
        i = (size_t)(nl - text) + 1;
    }
    for (int c = 1; c < column; c++) {
        if (i >= len || text[i] == '\n')
            return -1;
        i++;
        while (i < len && ((unsigned char)text[i] & 0xC0) == 0x80)
            i++;
    }
    return (long)i;
}

int ynode_column_at(const ynode *n, const char *text, size_t len, size_t offset)
{
    if (!text || !n->value || strchr(n->value, '\n'))
        return n->column;
    long at = source_offset(text, len, n->line, n->column);
    if (at < 0)
        return n->column;
    size_t i = (size_t)at, vlen = strlen(n->value);
    int quote = 0;
    if (n->quoted) {
        if (i >= len || (text[i] != '\'' && text[i] != '"'))
            return n->column;
        quote = text[i++];
    }
    if (i + vlen > len || memcmp(text + i, n->value, vlen) != 0)
        return n->column;
    if (quote && (i + vlen >= len || text[i + vlen] != quote))
        return n->column;
    return n->column + (quote ? 1 : 0) + (int)utf8_chars(n->value, offset);
}

const char *ynode_type_name(const ynode *node)
{
    if (!node)
        return "null";
    switch (node->type) {
    case YNODE_SEQ:
        return "list";
    case YNODE_MAP:
        return "mapping";
    case YNODE_SCALAR:
        break;
    }
    switch (classify(node)) {
    case SK_NULL: return "null";
    case SK_BOOL: return "boolean";
    case SK_INT: return "integer";
    case SK_FLOAT: return "number";
    case SK_STRING: break;
    }
    return "string";
}
