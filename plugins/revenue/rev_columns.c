/* rev_columns.c — see rev_columns.h. */
#include "autoconfig.h"

#include "rev_columns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rev_columns_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

int rev_columns_split(const char *p, size_t n, char ***names, size_t *n_out)
{
    *names = NULL;
    *n_out = 0;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    const char *nl = memchr(p, '\n', n);
    if (nl)
        n = (size_t)(nl - p);
    if (n && p[n - 1] == '\r')
        n--;
    if (n == 0)
        return -1;
    size_t nf = 1;
    for (size_t i = 0; i < n; i++)
        nf += p[i] == '\t';
    char **v = calloc(nf, sizeof *v);
    if (!v)
        goto oom;
    const char *s = p, *end = p + n;
    for (size_t i = 0; i < nf; i++) {
        const char *tab = memchr(s, '\t', (size_t)(end - s));
        size_t len = (size_t)((tab ? tab : end) - s);
        if (!(v[i] = malloc(len + 1))) {
            rev_columns_free(v, i);
            goto oom;
        }
        memcpy(v[i], s, len);
        v[i][len] = '\0';
        s = tab ? tab + 1 : end;
    }
    *names = v;
    *n_out = nf;
    return 0;
oom:
    errno = ENOMEM;
    return -1;
}

/* Every name a role may be read from, the preferred one first. */
static const char *const role_names[REV_ROLE_COUNT][2] = {
    [REV_ROLE_TIME] = {"hit_time_gmt", NULL},
    [REV_ROLE_IP] = {"ip", NULL},
    [REV_ROLE_UA] = {"user_agent", NULL},
    [REV_ROLE_EVENTS] = {"post_event_list", "event_list"},
    [REV_ROLE_PRODUCTS] = {"post_product_list", "product_list"},
    [REV_ROLE_REFERRER] = {"referrer", NULL},
    [REV_ROLE_VISID_HIGH] = {"post_visid_high", NULL},
    [REV_ROLE_VISID_LOW] = {"post_visid_low", NULL},
    [REV_ROLE_EXCLUDE] = {"exclude_hit", NULL},
    [REV_ROLE_SOURCE] = {"hit_source", NULL},
    [REV_ROLE_DUPLICATE] = {"duplicate_purchase", NULL},
};

static int name_is(const char *name, size_t len, const char *z)
{
    return len == strlen(z) && memcmp(name, z, len) == 0;
}

/* The first column named z, or REV_COL_NONE. */
static uint32_t find(const char *const *names, const size_t *lens, size_t n, const char *z)
{
    for (size_t i = 0; z && i < n; i++)
        if (name_is(names[i], lens ? lens[i] : strlen(names[i]), z))
            return (uint32_t)i;
    return REV_COL_NONE;
}

static int role_required(rev_role r, rev_visitor_mode v)
{
    switch (r) {
    case REV_ROLE_TIME: case REV_ROLE_EVENTS: case REV_ROLE_PRODUCTS: case REV_ROLE_REFERRER:
        return 1;
    case REV_ROLE_IP: return v == REV_VISITOR_IP || v == REV_VISITOR_IP_UA;
    case REV_ROLE_UA: return v == REV_VISITOR_IP_UA;
    case REV_ROLE_VISID_HIGH: case REV_ROLE_VISID_LOW: return v == REV_VISITOR_VISID;
    default: return 0;
    }
}

static int role_wanted(rev_role r, rev_visitor_mode v, int exclude)
{
    if (role_required(r, v))
        return 1;
    switch (r) {
    case REV_ROLE_EXCLUDE: case REV_ROLE_SOURCE: return exclude;
    case REV_ROLE_DUPLICATE: return 1;
    default: return 0;
    }
}

static void add_need(rev_layout *l, uint32_t col, rev_role r)
{
    size_t i = l->nneed++;
    while (i > 0 && l->need[i - 1].col > col) {
        l->need[i] = l->need[i - 1];
        i--;
    }
    l->need[i].col = col;
    l->need[i].role = (uint8_t)r;
}

int rev_layout_build(rev_layout *l, const char *const *names, const size_t *lens, size_t n,
                     rev_visitor_mode visitor, int exclude, const char *what, char *err,
                     size_t errlen)
{
    memset(l, 0, sizeof *l);
    if (visitor == REV_VISITOR_AUTO)
        visitor = find(names, lens, n, "post_visid_high") != REV_COL_NONE &&
                          find(names, lens, n, "post_visid_low") != REV_COL_NONE
                      ? REV_VISITOR_VISID
                      : REV_VISITOR_IP;
    l->visitor = visitor;
    l->exclude = exclude;
    l->ncols = n;
    for (int r = 0; r < REV_ROLE_COUNT; r++) {
        l->col[r] = REV_COL_NONE;
        if (!role_wanted((rev_role)r, visitor, exclude))
            continue;
        for (int k = 0; k < 2 && l->col[r] == REV_COL_NONE; k++) {
            l->col[r] = find(names, lens, n, role_names[r][k]);
            if (k == 0 && l->col[r] != REV_COL_NONE)
                l->post_events |= r == REV_ROLE_EVENTS && role_names[r][1];
            if (k == 0 && l->col[r] != REV_COL_NONE)
                l->post_products |= r == REV_ROLE_PRODUCTS && role_names[r][1];
        }
        if (l->col[r] == REV_COL_NONE && role_required((rev_role)r, visitor)) {
            const char *alt = role_names[r][1];
            snprintf(err, errlen, "%s has no column '%s'%s%s%s", what,
                     alt ? alt : role_names[r][0], alt ? " (nor '" : "", alt ? role_names[r][0] : "",
                     alt ? "')" : "");
            return -1;
        }
        if (l->col[r] != REV_COL_NONE)
            add_need(l, l->col[r], (rev_role)r);
    }
    l->roles = malloc(n ? n : 1);
    if (!l->roles) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memset(l->roles, -1, n ? n : 1);
    for (size_t i = 0; i < l->nneed; i++)
        l->roles[l->need[i].col] = (signed char)l->need[i].role;
    return 0;
}

void rev_layout_clear(rev_layout *l)
{
    free(l->roles);
    memset(l, 0, sizeof *l);
}

const char *rev_layout_name(const rev_layout *l, rev_role role)
{
    if (role == REV_ROLE_EVENTS)
        return l->post_events ? "post_event_list" : "event_list";
    if (role == REV_ROLE_PRODUCTS)
        return l->post_products ? "post_product_list" : "product_list";
    return role_names[role][0];
}
