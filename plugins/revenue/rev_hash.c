/* rev_hash.c — see rev_hash.h. */
#include "autoconfig.h"

#include "rev_hash.h"

#include <stdlib.h>
#include <string.h>

#define REV_K1 0x9E3779B97F4A7C15ULL
#define REV_K2 0xD6E8FEB86659FD93ULL
#define REV_TABLE_MIN 64

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= REV_K2;
    x ^= x >> 32;
    x *= REV_K2;
    x ^= x >> 32;
    return x;
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint64_t load32(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* The last 1..7 bytes (n of them at p, `len` the whole key's length) as
 * one word, read with whole loads: with a key of 8 bytes or more, its last
 * eight (overlapping bytes already mixed in); else two 4-byte loads or
 * three single bytes that together cover them. A copy into a zeroed word
 * became a byte loop whose stores the word's load then waited on: 38 % of
 * this function's time. The length is in the seed, so overlaps cannot
 * make two keys equal. */
static inline uint64_t tail_word(const unsigned char *p, size_t n, size_t len)
{
    if (len >= 8)
        return load64(p + n - 8);
    if (n >= 4)
        return load32(p) | load32(p + n - 4) << 32;
    return (uint64_t)p[0] | (uint64_t)p[n >> 1] << 8 | (uint64_t)p[n - 1] << 16;
}

/* Eight bytes per step; the keys are short (an IP address, a user agent,
 * a domain and a keyword), so this is about what it costs to read them. */
uint64_t rev_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ ((uint64_t)len * REV_K1);
    size_t n = len;
    while (n >= 8) {
        h = (h ^ load64(p)) * REV_K1;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        h = (h ^ tail_word(p, n, len)) * REV_K1;
        h ^= h >> 29;
    }
    return mix64(h);
}

int rev_table_init(rev_table *t, size_t min_capacity)
{
    size_t cap = REV_TABLE_MIN;
    while (cap < min_capacity)
        cap <<= 1;
    t->slots = calloc(cap, sizeof *t->slots);
    t->mask = cap - 1;
    t->count = 0;
    return t->slots ? 0 : -1;
}

void rev_table_free(rev_table *t)
{
    free(t->slots);
    t->slots = NULL;
    t->mask = 0;
    t->count = 0;
}

static int rehash(rev_table *t, size_t cap)
{
    rev_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i <= t->mask; i++) {
        if (!t->slots[i].item)
            continue;
        size_t j = (size_t)t->slots[i].hash & (cap - 1);
        while (slots[j].item)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->mask = cap - 1;
    return 0;
}

int rev_table_insert_at(rev_table *t, size_t i, uint64_t hash, void *item)
{
    t->slots[i].hash = hash;
    t->slots[i].item = item;
    t->count++;
    if (t->count * 2 > t->mask + 1)
        return rehash(t, (t->mask + 1) * 2);
    return 0;
}

/* Is `k` cyclically within (i, j]? Then an entry homed at k and stored at
 * j may not move back to i. */
static int home_between(size_t i, size_t k, size_t j)
{
    return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

void rev_table_remove(rev_table *t, const void *item, uint64_t hash)
{
    size_t i = (size_t)hash & t->mask;
    while (t->slots[i].item != item) {
        if (!t->slots[i].item)
            return; /* not stored: nothing to do */
        i = (i + 1) & t->mask;
    }
    for (size_t j = i;;) {
        j = (j + 1) & t->mask;
        if (!t->slots[j].item)
            break;
        if (home_between(i, (size_t)t->slots[j].hash & t->mask, j))
            continue;
        t->slots[i] = t->slots[j];
        i = j;
    }
    t->slots[i].item = NULL;
    t->count--;
    /* Give memory back after a burst of visitors; an eighth full keeps
     * growing and shrinking apart. A failed shrink changes nothing. */
    if (t->mask + 1 > 1024 && t->count * 8 < t->mask + 1)
        (void)rehash(t, (t->mask + 1) / 2);
}
