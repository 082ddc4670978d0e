/* bench_rng.h — the generators' random numbers: splitmix64, so the same
 * seed gives the same data on every machine. One state per generator. */
#ifndef SLUICE_BENCH_RNG_H
#define SLUICE_BENCH_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform enough in [0, n) for test data. */
static inline unsigned below(rng *r, unsigned n)
{
    return (unsigned)(next(r) % n);
}

#define PICK(r, arr) ((arr)[below((r), sizeof(arr) / sizeof((arr)[0]))])

#endif
