/* delivery_check.h — what §1 of the data-feed contract checks while a
 * delivery set streams: the size and MD5 of each object as its raw bytes
 * pass (never a second read), and the records of its decoded content.
 *
 * Ownership: delivery_check_wrap() takes `raw`; closing the wrapper closes
 * it. The tally is the caller's and must outlive the wrapper: the wrapper
 * fills it when the raw stream ends, at the latest when it is closed (it
 * reads what its consumer left, so the digest covers every byte).
 * Threading: like any storage_reader, one thread at a time. */
#ifndef SLUICE_DELIVERY_CHECK_H
#define SLUICE_DELIVERY_CHECK_H

#include <stdint.h>

#include "storage/storage.h"
#include "util/error.h"

typedef struct delivery_tally {
    int64_t bytes;   /* raw bytes seen */
    char md5[33];    /* lowercase hex, once done */
    int done;        /* the raw stream was read to its end */
    sl_error error;  /* a read error met while finishing on close */
} delivery_tally;

storage_reader *delivery_check_wrap(storage_reader *raw, delivery_tally *tally);

/* Records of a data file (contract §2): a record ends at an unescaped LF;
 * a backslash makes the next TAB, LF or backslash literal. A last record
 * without its LF counts too. */
typedef struct delivery_count {
    int64_t records;
    int escaped;   /* the last byte was an escaping backslash */
    int open;      /* bytes of a record not yet ended */
} delivery_count;

void delivery_check_count(delivery_count *c, const void *buf, size_t len);
/* The total, counting an unterminated last record; *open_end tells
 * whether there was one. */
int64_t delivery_check_count_end(const delivery_count *c, int *open_end);

#endif
