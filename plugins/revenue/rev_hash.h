/* rev_hash.h — a byte hash and a small open-addressing table (linear
 * probing, backward-shift deletion) shared by the visitor and the
 * (domain, keyword) tables of the revenue plugin.
 *
 * The table stores (hash, item pointer) pairs; an empty slot has a NULL
 * item. Callers look an item up with rev_table_find() and an equality
 * callback, which is inlined because the function is `static inline`. */
#ifndef REV_HASH_H
#define REV_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t rev_hash(const void *data, size_t len, uint64_t seed);

typedef struct rev_slot {
    uint64_t hash;
    void *item;
} rev_slot;

typedef struct rev_table {
    rev_slot *slots;
    size_t mask;  /* capacity - 1; capacity is a power of two */
    size_t count;
} rev_table;

typedef int (*rev_eq_fn)(const void *item, const void *key);

/* 0, or -1 when memory is exhausted. */
int rev_table_init(rev_table *t, size_t min_capacity);
void rev_table_free(rev_table *t);

/* The slot holding the item equal to `key`, or the empty slot where it
 * would be inserted. */
static inline size_t rev_table_find(const rev_table *t, uint64_t hash, rev_eq_fn eq,
                                    const void *key)
{
    size_t i = (size_t)hash & t->mask;
    for (;;) {
        const rev_slot *s = &t->slots[i];
        if (!s->item || (s->hash == hash && eq(s->item, key)))
            return i;
        i = (i + 1) & t->mask;
    }
}

/* Store `item` in the empty slot `i` found by rev_table_find(), then grow
 * when the table is half full. The item is stored even when growing fails
 * (-1): the table stays consistent, just fuller. */
int rev_table_insert_at(rev_table *t, size_t i, uint64_t hash, void *item);
/* Remove `item` (stored under `hash`). Shrinks a mostly empty table. */
void rev_table_remove(rev_table *t, const void *item, uint64_t hash);

#endif
