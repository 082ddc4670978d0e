/* pq_thrift.h — the Thrift compact protocol, write side only: what the
 * Parquet footer and page headers need (structs, i32/i64, binary, bool,
 * lists of i32/binary/struct).
 *
 * Usage: fields are written in increasing id order inside a struct;
 * pq_tc_struct_begin()/pq_tc_struct_end() nest (up to PQ_TC_DEPTH).
 * Errors (allocation, nesting) are sticky: check pq_tc.failed once at the
 * end. Not thread-safe; the encoder writes into a caller-owned pq_buf. */
#ifndef PQ_THRIFT_H
#define PQ_THRIFT_H

#include "pq_buf.h"

#define PQ_TC_DEPTH 16

/* compact-protocol element types */
enum {
    PQ_TC_BOOL_TRUE = 1,
    PQ_TC_BOOL_FALSE = 2,
    PQ_TC_BYTE = 3,
    PQ_TC_I16 = 4,
    PQ_TC_I32 = 5,
    PQ_TC_I64 = 6,
    PQ_TC_DOUBLE = 7,
    PQ_TC_BINARY = 8,
    PQ_TC_LIST = 9,
    PQ_TC_STRUCT = 12
};

typedef struct pq_tc {
    pq_buf *out;
    int16_t last[PQ_TC_DEPTH]; /* last field id per open struct */
    int depth;
    int failed;
} pq_tc;

void pq_tc_init(pq_tc *tc, pq_buf *out);
void pq_tc_field_i32(pq_tc *tc, int16_t id, int32_t v);
void pq_tc_field_i64(pq_tc *tc, int16_t id, int64_t v);
void pq_tc_field_bool(pq_tc *tc, int16_t id, int v);
void pq_tc_field_binary(pq_tc *tc, int16_t id, const void *p, size_t n);
void pq_tc_field_string(pq_tc *tc, int16_t id, const char *s);
/* A struct-valued field: begin, its fields, end. */
void pq_tc_field_struct_begin(pq_tc *tc, int16_t id);
/* A list-valued field of `n` elements of `elem_type`; then write each
 * element with the pq_tc_elem_* calls (a struct element: struct_begin/end). */
void pq_tc_field_list(pq_tc *tc, int16_t id, int elem_type, size_t n);
void pq_tc_elem_i32(pq_tc *tc, int32_t v);
void pq_tc_elem_string(pq_tc *tc, const char *s);
/* A top-level struct, or a struct element of a list. */
void pq_tc_struct_begin(pq_tc *tc);
void pq_tc_struct_end(pq_tc *tc);

#endif
