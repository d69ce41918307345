/* util/bits.h — bit and field helpers used by every format header.
 * Field masks are written with the spec's bit numbers: GENMASK(51, 12) is bits 51..12.
 */
#ifndef VSVA_UTIL_BITS_H
#define VSVA_UTIL_BITS_H

#include <stdint.h>

#define BIT(n)          (UINT64_C(1) << (n))
#define GENMASK(h, l)   ((~UINT64_C(0) >> (63 - (h))) & (~UINT64_C(0) << (l)))
#define FIELD_GET(m, v) (((uint64_t)(v) & (m)) >> __builtin_ctzll(m))
#define FIELD_PREP(m, v) (((uint64_t)(v) << __builtin_ctzll(m)) & (m))
#define ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))

#define likely(x)       __builtin_expect(!!(x), 1)
#define unlikely(x)     __builtin_expect(!!(x), 0)

/* Sign-extends the value v whose top bit is bit `top`. */
static inline uint64_t sext64(uint64_t v, unsigned top)
{
	unsigned sh = 63 - top;
	return (uint64_t)((int64_t)(v << sh) >> sh);
}

static inline int is_pow2_u64(uint64_t v)
{
	return v && !(v & (v - 1));
}

#endif
