/* BLAKE2s (RFC 7693), keyed: the MAC that vouches for a cached seccomp
 * filter (filter_cache.c). Small and dependency-free on purpose: the
 * sandbox library links nothing but libseccomp and libcap, and a keyed
 * BLAKE2s is a proper PRF, unlike a plain hash next to the data. */
#include "sandbox_internal.h"

#include <string.h>

static const uint32_t iv[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
			       0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

static const uint8_t sigma[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

static uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define G(a, b, c, d, x, y)                                                                        \
	do {                                                                                       \
		v[a] = v[a] + v[b] + (x);                                                          \
		v[d] = rotr(v[d] ^ v[a], 16);                                                      \
		v[c] = v[c] + v[d];                                                                \
		v[b] = rotr(v[b] ^ v[c], 12);                                                      \
		v[a] = v[a] + v[b] + (y);                                                          \
		v[d] = rotr(v[d] ^ v[a], 8);                                                       \
		v[c] = v[c] + v[d];                                                                \
		v[b] = rotr(v[b] ^ v[c], 7);                                                       \
	} while (0)

static void compress(struct sb_blake2s *s, bool last)
{
	uint32_t m[16], v[16];

	for (int i = 0; i < 16; i++)
		m[i] = load32(s->buf + 4 * i);
	for (int i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = iv[i];
	}
	v[12] ^= (uint32_t)s->counter;
	v[13] ^= (uint32_t)(s->counter >> 32);
	if (last)
		v[14] = ~v[14];
	for (int r = 0; r < 10; r++) {
		const uint8_t *z = sigma[r];

		G(0, 4, 8, 12, m[z[0]], m[z[1]]);
		G(1, 5, 9, 13, m[z[2]], m[z[3]]);
		G(2, 6, 10, 14, m[z[4]], m[z[5]]);
		G(3, 7, 11, 15, m[z[6]], m[z[7]]);
		G(0, 5, 10, 15, m[z[8]], m[z[9]]);
		G(1, 6, 11, 12, m[z[10]], m[z[11]]);
		G(2, 7, 8, 13, m[z[12]], m[z[13]]);
		G(3, 4, 9, 14, m[z[14]], m[z[15]]);
	}
	for (int i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
}

void sb_blake2s_init(struct sb_blake2s *s, const void *key, size_t key_len)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->h, iv, sizeof(iv));
	/* Parameter block: digest length, key length, fanout 1, depth 1. */
	s->h[0] ^= 0x01010000u ^ (uint32_t)(key_len << 8) ^ SB_BLAKE2S_LEN;
	if (key_len) {
		memcpy(s->buf, key, key_len);
		s->fill = 64; /* the key is a whole first block */
	}
}

void sb_blake2s_update(struct sb_blake2s *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		size_t n;

		/* The last block is compressed by final(): only flush when more
		 * data follows a full buffer. */
		if (s->fill == 64) {
			s->counter += 64;
			compress(s, false);
			s->fill = 0;
		}
		n = 64 - s->fill < len ? 64 - s->fill : len;
		memcpy(s->buf + s->fill, p, n);
		s->fill += n;
		p += n;
		len -= n;
	}
}

void sb_blake2s_final(struct sb_blake2s *s, uint8_t out[SB_BLAKE2S_LEN])
{
	s->counter += s->fill;
	memset(s->buf + s->fill, 0, 64 - s->fill);
	compress(s, true);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)s->h[i];
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 3] = (uint8_t)(s->h[i] >> 24);
	}
	memset(s, 0, sizeof(*s)); /* the key was in there */
}
