/* pq_thrift.c — Thrift compact protocol encoder (pq_thrift.h). */
#include "pq_thrift.h"

#include <string.h>

void pq_thrift_init(pq_thrift *tc, pq_buf *out)
{
    memset(tc, 0, sizeof *tc);
    tc->out = out;
}

static uint64_t zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void put(pq_thrift *tc, int rc)
{
    if (rc != 0)
        tc->failed = 1;
}

/* The field header: a delta of 1..15 from the previous id fits the
 * type byte's high nibble, anything else is spelled out. */
static void field_header(pq_thrift *tc, int16_t id, int type)
{
    if (tc->depth == 0) {
        tc->failed = 1;
        return;
    }
    int16_t *last = &tc->last[tc->depth - 1];
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        put(tc, pq_buf_addc(tc->out, (uint8_t)((delta << 4) | type)));
    } else {
        put(tc, pq_buf_addc(tc->out, (uint8_t)type));
        put(tc, pq_buf_add_uvarint(tc->out, zigzag64(id)));
    }
    *last = id;
}

void pq_thrift_field_i32(pq_thrift *tc, int16_t id, int32_t v)
{
    field_header(tc, id, PQ_TC_I32);
    put(tc, pq_buf_add_uvarint(tc->out, zigzag64(v)));
}

void pq_thrift_field_i64(pq_thrift *tc, int16_t id, int64_t v)
{
    field_header(tc, id, PQ_TC_I64);
    put(tc, pq_buf_add_uvarint(tc->out, zigzag64(v)));
}

void pq_thrift_field_bool(pq_thrift *tc, int16_t id, int v)
{
    field_header(tc, id, v ? PQ_TC_BOOL_TRUE : PQ_TC_BOOL_FALSE);
}

void pq_thrift_field_binary(pq_thrift *tc, int16_t id, const void *p, size_t n)
{
    field_header(tc, id, PQ_TC_BINARY);
    put(tc, pq_buf_add_uvarint(tc->out, n));
    put(tc, pq_buf_add(tc->out, p, n));
}

void pq_thrift_field_string(pq_thrift *tc, int16_t id, const char *s)
{
    pq_thrift_field_binary(tc, id, s, strlen(s));
}

void pq_thrift_struct_begin(pq_thrift *tc)
{
    if (tc->depth == PQ_TC_DEPTH) {
        tc->failed = 1;
        return;
    }
    tc->last[tc->depth++] = 0;
}

void pq_thrift_struct_end(pq_thrift *tc)
{
    if (tc->depth == 0) {
        tc->failed = 1;
        return;
    }
    put(tc, pq_buf_addc(tc->out, 0)); /* STOP */
    tc->depth--;
}

void pq_thrift_field_struct_begin(pq_thrift *tc, int16_t id)
{
    field_header(tc, id, PQ_TC_STRUCT);
    pq_thrift_struct_begin(tc);
}

void pq_thrift_field_list(pq_thrift *tc, int16_t id, int elem_type, size_t n)
{
    field_header(tc, id, PQ_TC_LIST);
    if (n < 15) {
        put(tc, pq_buf_addc(tc->out, (uint8_t)((n << 4) | (size_t)elem_type)));
    } else {
        put(tc, pq_buf_addc(tc->out, (uint8_t)(0xF0 | elem_type)));
        put(tc, pq_buf_add_uvarint(tc->out, n));
    }
}

void pq_thrift_elem_i32(pq_thrift *tc, int32_t v)
{
    put(tc, pq_buf_add_uvarint(tc->out, zigzag64(v)));
}

void pq_thrift_elem_string(pq_thrift *tc, const char *s)
{
    size_t n = strlen(s);
    put(tc, pq_buf_add_uvarint(tc->out, n));
    put(tc, pq_buf_add(tc->out, s, n));
}
