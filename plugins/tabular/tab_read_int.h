/* tab_read_int.h — the reader's insides, shared by tab_read.c (input
 * buffer, CSV/TSV) and tab_jsonl.c (JSON Lines). Not for other modules. */
#ifndef TAB_READ_INT_H
#define TAB_READ_INT_H

#include <jansson.h>

#include "tab_read.h"

struct tab_reader {
    tab_read_opts o;
    tab_pull pull;
    void *ctx;
    char *in;              /* input buffer */
    size_t in_len, in_pos;
    int eof, failed;
    int64_t line;          /* line number at in_pos */

    char *rb;              /* the record's bytes */
    size_t rb_len, rb_cap;
    size_t *ends;          /* field i ends at ends[i]; starts at ends[i-1] */
    size_t nf, capf;
    tab_field *fields;
    size_t capfields;
    char *conv;            /* latin-1 -> UTF-8 */
    size_t conv_cap;

    char **cols;           /* source column names (owned) */
    size_t ncols;
    int pending;           /* the current record was read ahead */
    int pending_rc;
    tab_record pending_rec;

    json_t *obj;           /* JSONL: the current object */
    char **paths;          /* JSONL: columns split at '.', parallel to cols */
};

/* The next input byte, or -1 at end (r->failed tells a failed pull). */
int tab_read_refill(tab_reader *r);
static inline int tab_read_getb(tab_reader *r)
{
    if (r->in_pos == r->in_len && tab_read_refill(r) <= 0)
        return -1;
    return (unsigned char)r->in[r->in_pos++];
}
int tab_read_rb_add(tab_reader *r, const void *p, size_t n);
int tab_reader_grow_fields(tab_reader *r, size_t n);

int tab_jsonl_open(tab_reader *r, int *bad_input, char *err, size_t errlen);
int tab_jsonl_next(tab_reader *r, tab_record *rec, tab_bad *bad);

#endif
