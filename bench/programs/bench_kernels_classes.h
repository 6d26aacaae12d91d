// More benchmark kernels, one per class of code issue #16 names (ALU chains, spills, strides, hashing,
// endian/rotate, conditional moves, parsing, calls); included by bench_kernels.h, same conventions.
#ifndef BPFVM_BENCH_KERNELS_CLASSES_H
#define BPFVM_BENCH_KERNELS_CLASSES_H

// ---- more kernels, one per class of code (bench/README.md "The suite") --------------------------
// Each reads a payload of random bytes that the bench builds (bench_jit_vs_kernel.cpp), checks its
// extent against data_end once, and loops a fixed number of times.

// Reads payload word i (0 <= i < 64) of a payload checked to hold 512 bytes.
BENCH_INLINE __u64 bench_word(const __u8 *p, __u32 i) {
  __u64 w;
  __builtin_memcpy(&w, p + 8 * (i & 63), 8);
  return w;
}
#define BENCH_CHECK_512(p, data, data_end)  \
  const __u8 *p = (data) + BENCH_PAYLOAD;   \
  if (p + 512 > (data_end)) return 0

// alu_chain: one long dependent chain of add/xor/shift/mul per word.
BENCH_INLINE __u32 bench_alu_chain(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 h = 7;
  for (__u32 r = 0; r < 4; r++)
    for (__u32 i = 0; i < 64; i++) {
      __u64 w = bench_word(p, i);
      h = (h + w) ^ (h >> 13);
      h = h * 5 + (w << 3);
      h ^= h << 7;
      h -= w >> 17;
    }
  return (__u32)(h ^ (h >> 32));
}

// alu32: the same shape in 32-bit arithmetic (wrap-around, zero-extension after each op).
BENCH_INLINE __u32 bench_alu32(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 h = 7, g = 3;
  for (__u32 r = 0; r < 4; r++)
    for (__u32 i = 0; i < 128; i++) {
      __u32 w;
      __builtin_memcpy(&w, p + 4 * (i & 127), 4);
      h = (h + w) ^ (h >> 11);
      g = g * 9 + (w >> 5);
      h ^= g << 3;
      g -= h >> 7;
    }
  return h ^ g;
}

// divmod: unsigned division and modulo by divisors taken from the payload (never zero).
BENCH_INLINE __u32 bench_divmod(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 acc = 0xdeadbeefcafeull;
  for (__u32 i = 0; i < 256; i++) {
    __u64 d = (__u64)p[i & 255] + 3;
    __u32 d32 = (__u32)p[(i + 1) & 255] + 5;
    acc = acc / d + acc % d + (__u64)((__u32)acc / d32) + i;
  }
  return (__u32)(acc ^ (acc >> 32));
}

// murmur: the 64-bit murmur3 finalizer over every word (multiply-shift hashing).
BENCH_INLINE __u32 bench_murmur(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 acc = 0;
  for (__u32 r = 0; r < 4; r++)
    for (__u32 i = 0; i < 64; i++) {
      __u64 k = bench_word(p, i) + r;
      k ^= k >> 33;
      k *= 0xff51afd7ed558ccdull;
      k ^= k >> 33;
      k *= 0xc4ceb9fe1a85ec53ull;
      k ^= k >> 33;
      acc += k;
    }
  return (__u32)(acc ^ (acc >> 32));
}

// fnv1a: byte-wise FNV-1a over 512 bytes, twice.
BENCH_INLINE __u32 bench_fnv1a(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 h = 2166136261u;
  for (__u32 r = 0; r < 2; r++)
    for (__u32 i = 0; i < 512; i++) h = (h ^ p[i & 511]) * 16777619u;
  return h;
}

// fletcher: Fletcher-32 over 256 16-bit payload words, reduced modulo 65535 every 32 words.
BENCH_INLINE __u32 bench_fletcher(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 a = 0xffff, b = 0xffff;
  for (__u32 block = 0; block < 8; block++) {
    for (__u32 i = 0; i < 32; i++) {
      __u16 w;
      __builtin_memcpy(&w, p + 2 * ((block * 32 + i) & 255), 2);
      a += w;
      b += a;
    }
    a = (a & 0xffff) + (a >> 16);
    b = (b & 0xffff) + (b >> 16);
  }
  return b << 16 | a;
}

BENCH_INLINE __u32 bench_rol32(__u32 v, __u32 n) { return (v << n) | (v >> (32 - n)); }
// jhash: the kernel's jhash mix (lookup3: add, xor, rotate by constants) over 3-word blocks.
BENCH_INLINE __u32 bench_jhash(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 a = 0xdeadbeef, b = 0xdeadbeef, c = 0xdeadbeef;
  for (__u32 r = 0; r < 4; r++)
    for (__u32 i = 0; i < 40; i++) {
      __u32 w[3];
      __builtin_memcpy(w, p + 12 * i, 12);
      a += w[0], b += w[1], c += w[2];
      a -= c; a ^= bench_rol32(c, 4); c += b;
      b -= a; b ^= bench_rol32(a, 6); a += c;
      c -= b; c ^= bench_rol32(b, 8); b += a;
      a -= c; a ^= bench_rol32(c, 16); c += b;
      b -= a; b ^= bench_rol32(a, 19); a += c;
      c -= b; c ^= bench_rol32(b, 4); b += a;
    }
  return a ^ b ^ c;
}

// rotate: 64-bit rotations by amounts taken from the data.
BENCH_INLINE __u32 bench_rotate(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 h = 0x123456789abcdefull;
  for (__u32 r = 0; r < 4; r++)
    for (__u32 i = 0; i < 64; i++) {
      __u64 w = bench_word(p, i);
      __u32 n = (__u32)(w & 63) | 1;
      h = ((h << n) | (h >> (64 - n))) ^ w;
      h += (w << 29) | (w >> 35);
    }
  return (__u32)(h ^ (h >> 32));
}

// bswap: network-to-host conversions of 16-, 32- and 64-bit fields (BPF byte-swap instructions).
BENCH_INLINE __u32 bench_bswap(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 acc = 0;
  for (__u32 r = 0; r < 4; r++)
    for (__u32 i = 0; i < 64; i++) {
      __u64 w = bench_word(p, i);
      acc += __builtin_bswap64(w) ^ __builtin_bswap32((__u32)w) ^ __builtin_bswap16((__u16)(w >> 16));
      acc = (acc << 1) | (acc >> 63);
    }
  return (__u32)(acc ^ (acc >> 32));
}

// saturate: saturating 8-bit adds of two byte streams (a branchy clamp per byte).
BENCH_INLINE __u32 bench_saturate(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 acc = 0;
  for (__u32 i = 0; i < 256; i++) {
    __u32 s = (__u32)p[i & 255] + p[(i + 256) & 511];
    if (s > 255) s = 255;
    acc = acc * 3 + s;
  }
  return acc;
}

// stride: reads the 64 payload words with a stride of 8 words, from each of the 8 start offsets.
BENCH_INLINE __u32 bench_stride(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 acc = 0;
  for (__u32 r = 0; r < 4; r++)
    for (__u32 start = 0; start < 8; start++)
#pragma nounroll
      for (__u32 i = start; i < 64; i += 8) acc = acc * 31 + bench_word(p, i);
  return (__u32)(acc ^ (acc >> 32));
}

// spill16: sixteen u64 values live across the loop: clang spills half of them to the stack.
BENCH_INLINE __u32 bench_spill16(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 v[16];
  for (__u32 k = 0; k < 16; k++) v[k] = k + 1;
  for (__u32 i = 0; i < 64; i++) {
    __u64 w = bench_word(p, i);
#pragma unroll
    for (__u32 k = 0; k < 16; k++) v[k] = v[k] * (2 * k + 3) + (w >> k) + v[(k + 1) & 15];
  }
  __u64 h = 0;
#pragma unroll
  for (__u32 k = 0; k < 16; k++) h ^= v[k] << k;
  return (__u32)(h ^ (h >> 32));
}

// nested: three nested counted loops over payload bytes.
BENCH_INLINE __u32 bench_nested(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 acc = 0;
  for (__u32 a = 0; a < 8; a++)
    for (__u32 b = 0; b < 8; b++)
      for (__u32 c = 0; c < 16; c++) acc += p[(a * 64 + b * 8 + c) & 511] * (a + b + c + 1);
  return acc;
}

// sort: bubble sort of 32 u32 values copied from the payload to the stack (fixed passes, a
// compare-and-swap per pair).
BENCH_INLINE __u32 bench_sort(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 v[32];
  for (__u32 i = 0; i < 32; i++) v[i] = (__u32)bench_word(p, i);
  for (__u32 pass = 0; pass < 31; pass++)
    for (__u32 j = 0; j < 31; j++) {
      __u32 a = v[j], b = v[j + 1];
      if (a > b) {
        v[j] = b;
        v[j + 1] = a;
      }
    }
  __u32 h = 0;
  for (__u32 i = 0; i < 32; i++) h = h * 31 + v[i];
  return h;
}

// rank: for 64 payload-chosen keys, the number of entries below the key in a sorted table of 64 u32
// the program builds on the stack (a compare per entry).
BENCH_INLINE __u32 bench_rank(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 table[64];
  __u32 t = 0;
  for (__u32 i = 0; i < 64; i++) {
    t += (__u32)p[i] + 1;
    table[i] = t;
  }
  __u32 found = 0;
  for (__u32 q = 0; q < 64; q++) {
    __u32 key = (__u32)p[64 + q] * 64;
    for (__u32 k = 0; k < 64; k++) found += table[k] < key;
  }
  return found;
}

// xorshift: xorshift64* generators, four interleaved streams seeded from the payload, 256 steps.
BENCH_INLINE __u32 bench_xorshift(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 s0 = bench_word(p, 0) | 1, s1 = bench_word(p, 1) | 1, s2 = bench_word(p, 2) | 1, s3 = bench_word(p, 3) | 1;
  __u64 acc = 0;
  for (__u32 i = 0; i < 256; i++) {
    s0 ^= s0 >> 12, s0 ^= s0 << 25, s0 ^= s0 >> 27;
    s1 ^= s1 >> 13, s1 ^= s1 << 7, s1 ^= s1 >> 17;
    s2 ^= s2 << 13, s2 ^= s2 >> 7, s2 ^= s2 << 17;
    s3 ^= s3 >> 11, s3 ^= s3 << 29, s3 ^= s3 >> 14;
    acc += (s0 * 0x2545f4914f6cdd1dull) ^ s1 ^ (s2 + s3);
  }
  return (__u32)(acc ^ (acc >> 32));
}

// bitmap: tests and sets bits of a 1,024-bit bitmap on the stack at payload-chosen positions.
BENCH_INLINE __u32 bench_bitmap(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 bits[16];
  for (__u32 i = 0; i < 16; i++) bits[i] = 0;
  __u32 hits = 0;
  for (__u32 i = 0; i < 256; i++) {
    __u32 pos = ((__u32)p[i & 511] << 2 | (i & 3)) & 1023;
    __u64 bit = 1ull << (pos & 63);
    if (bits[(pos >> 6) & 15] & bit) hits++;
    bits[(pos >> 6) & 15] |= bit;
  }
  return hits;
}

// ctz: trailing zeros by a shift loop (at most 64 steps, data-dependent length) over 128 xorshift
// values.
BENCH_INLINE __u32 bench_ctz(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 x = bench_word(p, 0) | 1;
  __u32 acc = 0;
  for (__u32 i = 0; i < 128; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    __u64 v = x & (x << 3);
    __u32 n = 0;
    for (; n < 64; n++)
      if ((v >> n) & 1) break;
    acc += n;
  }
  return acc;
}

// signed: signed compares, arithmetic shifts and sign extension of 8/16/32-bit fields.
BENCH_INLINE __u32 bench_signed(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __s64 acc = 0;
  for (__u32 r = 0; r < 4; r++)
    for (__u32 i = 0; i < 64; i++) {
      __u64 w = bench_word(p, i);
      __s64 a = (__s8)w, b = (__s16)(w >> 8), c = (__s32)(w >> 24);
      acc += a < b ? a * 3 : b >> 2;
      acc ^= c > acc ? c >> 5 : acc >> 3;
      if (acc < -100000) acc = -(acc >> 1);
    }
  return (__u32)(acc ^ (acc >> 32));
}

// call_deep: six nested BPF-to-BPF calls per payload word (each adds one step of mixing).
BENCH_NOINLINE __u64 bench_deep6(__u64 h) { return h ^ (h >> 31); }
BENCH_NOINLINE __u64 bench_deep5(__u64 h) { return bench_deep6(h * 0x9e3779b97f4a7c15ull); }
BENCH_NOINLINE __u64 bench_deep4(__u64 h) { return bench_deep5(h + 0x632be59bd9b4e019ull); }
BENCH_NOINLINE __u64 bench_deep3(__u64 h) { return bench_deep4(h ^ (h << 7)); }
BENCH_NOINLINE __u64 bench_deep2(__u64 h) { return bench_deep3(h - 0x3c6ef372fe94f82bull); }
BENCH_NOINLINE __u64 bench_deep1(__u64 h, __u64 w) { return bench_deep2(h ^ w); }
BENCH_INLINE __u32 bench_call_deep(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 h = 1;
  for (__u32 i = 0; i < 64; i++) h = bench_deep1(h, bench_word(p, i));
  return (__u32)(h ^ (h >> 32));
}

// rc4: the RC4 key schedule and 256 bytes of keystream on a 256-byte stack state (byte loads and
// stores at data-dependent offsets, swaps).
BENCH_INLINE __u32 bench_rc4(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u8 s[256];
  for (__u32 i = 0; i < 256; i++) s[i] = (__u8)i;
  __u32 j = 0;
  for (__u32 i = 0; i < 256; i++) {
    j = (j + s[i] + p[i & 15]) & 255;
    __u8 t = s[i];
    s[i] = s[j];
    s[j] = t;
  }
  __u32 a = 0, b = 0, acc = 0;
  for (__u32 n = 0; n < 256; n++) {
    a = (a + 1) & 255;
    b = (b + s[a]) & 255;
    __u8 t = s[a];
    s[a] = s[b];
    s[b] = t;
    acc = acc * 31 + s[(s[a] + s[b]) & 255];
  }
  return acc;
}

// matmul: 4x4 u32 matrix products, eight in a chain, with matrices from the payload.
BENCH_INLINE __u32 bench_matmul(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 m[16], x[16], out[16];
  for (__u32 i = 0; i < 16; i++) {
    m[i] = (__u32)bench_word(p, i);
    x[i] = (__u32)bench_word(p, 16 + i);
  }
  for (__u32 r = 0; r < 8; r++) {
    for (__u32 i = 0; i < 4; i++)
      for (__u32 k = 0; k < 4; k++) {
        __u32 s = 0;
        for (__u32 t = 0; t < 4; t++) s += m[i * 4 + t] * x[t * 4 + k];
        out[i * 4 + k] = s;
      }
    __builtin_memcpy(m, out, sizeof m);
  }
  __u32 h = 0;
  for (__u32 i = 0; i < 16; i++) h ^= m[i] << (i & 7);
  return h;
}

// memcmp8: compares 64-byte records 8 bytes at a time against 7 others (word compares, early exit).
BENCH_INLINE __u32 bench_memcmp8(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 acc = 0;
  for (__u32 r = 0; r < 8; r++)
    for (__u32 a = 0; a < 8; a++) {
      __u32 i = 0;
      for (; i < 8; i++)
        if (bench_word(p, i) != bench_word(p, 8 * a + i)) break;
      acc = acc * 7 + i + r;
    }
  return acc;
}

// adler32: Adler-32 over 512 bytes, reduced modulo 65521 every 64 bytes.
BENCH_INLINE __u32 bench_adler32(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 a = 1, b = 0;
  for (__u32 block = 0; block < 8; block++) {
    for (__u32 i = 0; i < 64; i++) {
      a += p[(block * 64 + i) & 511];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return b << 16 | a;
}

// strlen: the length of 16 NUL-terminated strings of up to 31 bytes (a byte scan with early exit).
BENCH_INLINE __u32 bench_strlen(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 acc = 0;
  for (__u32 r = 0; r < 4; r++)
    for (__u32 w = 0; w < 16; w++) {
      const __u8 *str = p + 32 * w;
      __u32 n = 0;
      for (; n < 32; n++)
        if (str[n] == 0) break;
      acc = acc * 33 + n + r;
    }
  return acc;
}

// swar: branch-free bit tricks per word: SWAR popcount, parity, bit reversal of the low byte, the
// lowest set bit.
BENCH_INLINE __u32 bench_swar(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u64 acc = 0;
  for (__u32 r = 0; r < 4; r++)
    for (__u32 i = 0; i < 64; i++) {
      __u64 v = bench_word(p, i) ^ r;
      __u64 c = v - ((v >> 1) & 0x5555555555555555ull);
      c = (c & 0x3333333333333333ull) + ((c >> 2) & 0x3333333333333333ull);
      c = (((c + (c >> 4)) & 0x0f0f0f0f0f0f0f0full) * 0x0101010101010101ull) >> 56;
      __u64 par = v ^ (v >> 32);
      par ^= par >> 16;
      par ^= par >> 8;
      par ^= par >> 4;
      par = (0x6996 >> (par & 15)) & 1;
      __u64 b = v & 0xff;
      b = ((b * 0x0802 & 0x22110) | (b * 0x8020 & 0x88440)) * 0x10101 >> 16;
      acc += c + (par << 8) + ((b & 0xff) << 12) + ((v & (0 - v)) >> 40);
    }
  return (__u32)(acc ^ (acc >> 32));
}

// binary_search: 16 lookups in a sorted table of 64 even u32 on the stack, each a binary search
// that stops at a match; half the keys are table entries (found at some depth), half odd (never
// found: the full 7 steps). The match arm is the unlikely side of the loop's first branch. 16 keys:
// verifiers explore each key's search tree (lo and hi index the table, so they are precise), about
// 26,000 insns per key in bpfvm's.
BENCH_INLINE __u32 bench_binary_search(const __u8 *data, const __u8 *data_end) {
  BENCH_CHECK_512(p, data, data_end);
  __u32 table[64];
  __u32 t = 0;
  for (__u32 i = 0; i < 64; i++) {
    t += ((__u32)p[i] + 1) * 2;
    table[i] = t;
  }
  __u32 found = 0, where = 0;
  for (__u32 q = 0; q < 16; q++) {
    __u32 key = table[p[64 + q] & 63] | (p[128 + q] & 1);
    __u32 lo = 0, hi = 64;
    for (__u32 step = 0; step < 7 && lo < hi; step++) {
      __u32 mid = (lo + hi) >> 1;
      __u32 v = table[mid & 63];
      if (v == key) {
        found++;
        where ^= v;
        break;
      }
      if (v < key) lo = mid + 1;
      else hi = mid;
    }
  }
  return found << 16 | where;
}

#endif
