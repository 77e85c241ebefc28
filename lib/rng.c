/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
#include "internal.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void fnn__rng_seed(fnn__rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t fnn__rng_next(fnn__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t fnn__rng_below(fnn__rng *r, uint64_t bound)
{
    /* Rejection sampling on the top of the range keeps it unbiased. The
     * rejected values are the top UINT64_MAX % bound + 1 or fewer, so a draw
     * at most UINT64_MAX - bound is accepted without working out the limit
     * (one division saved on almost every call, the same values drawn). */
    uint64_t x = fnn__rng_next(r);
    if (x <= UINT64_MAX - bound)
        return x % bound;
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    while (x >= limit)
        x = fnn__rng_next(r);
    return x % bound;
}

float fnn__rng_float(fnn__rng *r)
{
    return (float)(fnn__rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* Fisher-Yates. The draws do not depend on the array, so they are made
 * SHUFFLE_AHEAD steps early and the element each one will swap is fetched
 * meanwhile: on arrays larger than the caches the loop is bound by memory
 * latency otherwise. The permutation is the one the plain loop gives. */
#define SHUFFLE_AHEAD 16

void fnn__shuffle_u32(fnn__rng *r, uint32_t *a, size_t n)
{
    size_t ring[SHUFFLE_AHEAD];
    size_t next = n; /* the bound of the next draw */
    size_t ahead = 0;
    for (; ahead < SHUFFLE_AHEAD && next > 1; ahead++, next--) {
        ring[ahead] = (size_t)fnn__rng_below(r, next);
        __builtin_prefetch(&a[ring[ahead]], 1);
    }
    for (size_t i = n, k = 0; i > 1; i--, k = (k + 1) % SHUFFLE_AHEAD) {
        size_t j = ring[k];
        if (next > 1) {
            ring[k] = (size_t)fnn__rng_below(r, next--);
            __builtin_prefetch(&a[ring[k]], 1);
        }
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

uint64_t fnn__seed_mix(uint64_t seed, uint64_t salt)
{
    uint64_t x = seed ^ (salt * 0xd6e8feb86659fd93ull);
    return splitmix64(&x);
}
