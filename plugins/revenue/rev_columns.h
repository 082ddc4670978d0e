/* rev_columns.h — which columns the revenue report reads, found by name:
 * the column_headers.tsv line split into names, and a layout (column
 * index of each needed role) built from the names and the options. The
 * choices of the data-feed amendment live here: post_event_list /
 * post_product_list preferred, the visitor's columns, the exclusion
 * columns. Pure data; no I/O. A layout is immutable once built and may be
 * read by any thread. */
#ifndef REV_COLUMNS_H
#define REV_COLUMNS_H

#include <stddef.h>
#include <stdint.h>

/* What a hit is read from. Every role but the first six is optional. */
typedef enum rev_role {
    REV_ROLE_TIME,      /* hit_time_gmt */
    REV_ROLE_IP,        /* ip */
    REV_ROLE_UA,        /* user_agent */
    REV_ROLE_EVENTS,    /* post_event_list, else event_list */
    REV_ROLE_PRODUCTS,  /* post_product_list, else product_list */
    REV_ROLE_REFERRER,  /* referrer */
    REV_ROLE_VISID_HIGH, /* post_visid_high */
    REV_ROLE_VISID_LOW,  /* post_visid_low */
    REV_ROLE_EXCLUDE,    /* exclude_hit */
    REV_ROLE_SOURCE,     /* hit_source */
    REV_ROLE_DUPLICATE,  /* duplicate_purchase */
    REV_ROLE_COUNT
} rev_role;

typedef enum rev_visitor_mode {
    REV_VISITOR_AUTO = 0, /* visid when both post_visid_* columns exist, else ip */
    REV_VISITOR_IP,
    REV_VISITOR_IP_UA,
    REV_VISITOR_VISID
} rev_visitor_mode;

#define REV_COL_NONE UINT32_MAX

typedef struct rev_layout {
    size_t ncols;              /* fields per record */
    uint32_t col[REV_ROLE_COUNT]; /* column of each role, or REV_COL_NONE */
    rev_visitor_mode visitor;  /* resolved: never AUTO */
    int exclude;               /* exclusion columns are read */
    int post_events, post_products; /* the post_ forms were found */
    /* The roles in column order, for the scanner. */
    size_t nneed;
    struct {
        uint32_t col;
        uint8_t role;
    } need[REV_ROLE_COUNT];
    signed char *roles;        /* per column: rev_role or -1 (ncols entries) */
} rev_layout;

/* Split the first line of a column_headers.tsv text (p[0..n), a UTF-8 BOM
 * and the line end removed) on TABs into *names (n_out strings, each and
 * the array malloc'd; free with rev_columns_free). 0; -1 on an empty first
 * line (*names NULL) or when memory runs out (*names NULL, errno ENOMEM). */
int rev_columns_split(const char *p, size_t n, char ***names, size_t *n_out);
void rev_columns_free(char **names, size_t n);

/* Build a layout from names[0..n) (lens may be NULL: NUL-terminated).
 * `exclude`: read exclude_hit / hit_source when present. 0, or -1 with a
 * message naming the missing column in err (from `what`, e.g. "the
 * input's header line"). The layout owns `roles`: rev_layout_clear(). */
int rev_layout_build(rev_layout *l, const char *const *names, const size_t *lens, size_t n,
                     rev_visitor_mode visitor, int exclude, const char *what, char *err,
                     size_t errlen);
void rev_layout_clear(rev_layout *l);

/* The column name a role was read from ("post_event_list"), for logs. */
const char *rev_layout_name(const rev_layout *l, rev_role role);

#endif
