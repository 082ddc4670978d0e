/* pq_thrift.h — the Thrift compact protocol, write side only: what the
 * Parquet footer and page headers need (structs, i32/i64, binary, bool,
 * lists of i32/binary/struct).
 *
 * Usage: fields are written in increasing id order inside a struct;
 * pq_thrift_struct_begin()/pq_thrift_struct_end() nest (up to PQ_TC_DEPTH).
 * Errors (allocation, nesting) are sticky: check pq_thrift.failed once at the
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

typedef struct pq_thrift {
    pq_buf *out;
    int16_t last[PQ_TC_DEPTH]; /* last field id per open struct */
    int depth;
    int failed;
} pq_thrift;

void pq_thrift_init(pq_thrift *tc, pq_buf *out);
void pq_thrift_field_i32(pq_thrift *tc, int16_t id, int32_t v);
void pq_thrift_field_i64(pq_thrift *tc, int16_t id, int64_t v);
void pq_thrift_field_bool(pq_thrift *tc, int16_t id, int v);
void pq_thrift_field_binary(pq_thrift *tc, int16_t id, const void *p, size_t n);
void pq_thrift_field_string(pq_thrift *tc, int16_t id, const char *s);
/* A struct-valued field: begin, its fields, end. */
void pq_thrift_field_struct_begin(pq_thrift *tc, int16_t id);
/* A list-valued field of `n` elements of `elem_type`; then write each
 * element with the pq_thrift_elem_* calls (a struct element: struct_begin/end). */
void pq_thrift_field_list(pq_thrift *tc, int16_t id, int elem_type, size_t n);
void pq_thrift_elem_i32(pq_thrift *tc, int32_t v);
void pq_thrift_elem_string(pq_thrift *tc, const char *s);
/* A top-level struct, or a struct element of a list. */
void pq_thrift_struct_begin(pq_thrift *tc);
void pq_thrift_struct_end(pq_thrift *tc);

#endif
