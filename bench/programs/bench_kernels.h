// The benchmark kernels: each is one function over an XDP packet [data, data_end), compiled twice —
// by clang -target bpf into an XDP program (bench/programs/<name>.bpf.c) and natively into
// native_kernels.c for the "native C" column — so both columns run the same source.
// Parameters come from the packet (bench_packets.hpp builds them), so no compiler can fold the work.
#ifndef BPFVM_BENCH_KERNELS_H
#define BPFVM_BENCH_KERNELS_H

#ifdef __bpf__
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#define BENCH_INLINE static __always_inline
// Forces `x` into a register here, so clang cannot re-derive a packet pointer after its bounds check
// from a different base (the verifier tracks the check on one register only); libbpf's barrier_var.
#define BENCH_BARRIER_VAR(x) asm volatile("" : "+r"(x))
#else
#include <stdint.h>
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
typedef int8_t __s8;
typedef int16_t __s16;
typedef int32_t __s32;
typedef int64_t __s64;
#define BENCH_INLINE static inline __attribute__((always_inline))
#define BENCH_BARRIER_VAR(x) ((void)0)
#endif

// Ethernet (14) + IPv4 without options (20) + UDP (8): where the payload of the bench packets starts.
#define BENCH_PAYLOAD 42

BENCH_INLINE __u32 bench_load_u16(const __u8 *p) { return (__u32)p[0] | (__u32)p[1] << 8; }

// primes: count primes below N (payload u16, at most 1023) by trial division.
BENCH_INLINE __u32 bench_primes(const __u8 *data, const __u8 *data_end) {
  if (data + BENCH_PAYLOAD + 2 > data_end) return 0;
  __u32 limit = bench_load_u16(data + BENCH_PAYLOAD) & 1023;
  __u32 count = 0;
  for (__u32 n = 2; n < 1024; n++) {
    if (n >= limit) break;
    __u32 prime = 1;
    for (__u32 d = 2; d < 32; d++) {
      if (d * d > n) break;
      if (n % d == 0) {
        prime = 0;
        break;
      }
    }
    count += prime;
  }
  return count;
}

// memcpy: copy 128 payload bytes into a stack buffer in 8-byte words, from four offsets in turn,
// and fold the buffer with FNV-1a over its words.
#define BENCH_COPY_BYTES 128
BENCH_INLINE __u32 bench_memcpy(const __u8 *data, const __u8 *data_end) {
  __u64 buf[BENCH_COPY_BYTES / 8];
  __u64 h = 0xcbf29ce484222325ull;
  for (__u32 round = 0; round < 4; round++) {
    const __u8 *src = data + BENCH_PAYLOAD + round * 24;
    if (src + BENCH_COPY_BYTES > data_end) return 0;
    for (__u32 i = 0; i < BENCH_COPY_BYTES / 8; i++) __builtin_memcpy(&buf[i], src + 8 * i, 8);
    for (__u32 i = 0; i < BENCH_COPY_BYTES / 8; i++) h = (h ^ buf[i]) * 0x100000001b3ull;
  }
  return (__u32)(h ^ (h >> 32));
}

// strcmp: the payload holds a 32-byte query and 16 NUL-padded 32-byte words; count how many words
// equal the query with a bounded strncmp, and sum the byte differences where they stop.
#define BENCH_WORD_BYTES 32
#define BENCH_WORDS 16
BENCH_INLINE __u32 bench_strcmp(const __u8 *data, const __u8 *data_end) {
  const __u8 *query = data + BENCH_PAYLOAD;
  if (query + BENCH_WORD_BYTES * (BENCH_WORDS + 1) > data_end) return 0;
  __u32 equal = 0, diffs = 0;
  for (__u32 w = 0; w < BENCH_WORDS; w++) {
    const __u8 *word = query + BENCH_WORD_BYTES * (w + 1);
    int diff = 0;
    for (__u32 i = 0; i < BENCH_WORD_BYTES; i++) {
      diff = (int)query[i] - (int)word[i];
      if (diff != 0 || query[i] == 0) break;
    }
    if (diff == 0) equal++;
    diffs += (__u32)diff & 0xff;
  }
  return equal << 16 | diffs;
}

// switch: a bytecode interpreter. The payload holds 64 one-byte instructions (opcode in the low
// 3 bits, operand in the high 5); run 512 steps of a switch over them with two registers, starting
// at the pc its first byte names. pc stays masked to [0, 63] on every path (the barrier keeps clang
// from moving the mask to the use), so the verifier's states for fall-through and jump paths prune
// against each other; an unmasked pc makes the kernel's state count quadratic in the steps.
#define BENCH_CODE_BYTES 64
#define BENCH_STEPS 512
BENCH_INLINE __u32 bench_switch(const __u8 *data, const __u8 *data_end) {
  const __u8 *code = data + BENCH_PAYLOAD;
  if (code + BENCH_CODE_BYTES > data_end) return 0;
  __u64 acc = 1, x = 7;
  __u32 pc = code[0] & (BENCH_CODE_BYTES - 1);
  for (__u32 step = 0; step < BENCH_STEPS; step++) {
    const __u8 *at = code + pc;
    if (at + 1 > data_end) break;  // a variable offset drops the verifier's known packet range
    __u8 insn = *at;
    __u32 arg = insn >> 3;
    pc = (pc + 1) & (BENCH_CODE_BYTES - 1);
    switch (insn & 7) {
      case 0: acc += arg; break;
      case 1: acc -= x; break;
      case 2: acc *= arg | 1; break;
      case 3: acc ^= x << (arg & 31); break;
      case 4: acc >>= arg & 7; break;
      case 5: {
        __u64 t = acc;
        acc = x;
        x = t;
        break;
      }
      case 6: x += acc; break;
      case 7:
        if (acc & 1) pc = arg;  // conditional jump
        break;
    }
    BENCH_BARRIER_VAR(pc);
  }
  return (__u32)(acc ^ (acc >> 32) ^ x);
}

// log2: integer log2 by binary search on the bits (the kernel's fls64 shape) and a SWAR popcount,
// over 256 xorshift values seeded from the payload.
BENCH_INLINE __u32 bench_ilog2(__u64 v) {
  __u32 r = 0;
  if (v >> 32) { v >>= 32; r += 32; }
  if (v >> 16) { v >>= 16; r += 16; }
  if (v >> 8) { v >>= 8; r += 8; }
  if (v >> 4) { v >>= 4; r += 4; }
  if (v >> 2) { v >>= 2; r += 2; }
  if (v >> 1) r += 1;
  return r;
}
BENCH_INLINE __u32 bench_popcount(__u64 v) {
  v = v - ((v >> 1) & 0x5555555555555555ull);
  v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
  v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (__u32)((v * 0x0101010101010101ull) >> 56);
}
BENCH_INLINE __u32 bench_log2(const __u8 *data, const __u8 *data_end) {
  if (data + BENCH_PAYLOAD + 8 > data_end) return 0;
  __u64 x;
  __builtin_memcpy(&x, data + BENCH_PAYLOAD, 8);
  x |= 1;
  __u32 sum = 0;
  for (__u32 i = 0; i < 256; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    sum += bench_ilog2(x >> (i & 63)) + bench_popcount(x);
  }
  return sum;
}

// map: 64 rounds of an array lookup + increment and a hash lookup that updates or inserts, keyed by
// payload bytes (so the key sequence is data, not constants). Maps are BENCH_* calls: kernel map
// helpers in BPF, small host tables in the native build (native_kernels.c).
#define BENCH_ARRAY_ENTRIES 256
#define BENCH_HASH_ENTRIES 1024
#ifdef __bpf__
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, BENCH_ARRAY_ENTRIES);
  __type(key, __u32);
  __type(value, __u64);
} bench_array SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, BENCH_HASH_ENTRIES);
  __type(key, __u32);
  __type(value, __u64);
} bench_hash SEC(".maps");
#define BENCH_ARRAY_LOOKUP(key) ((__u64 *)bpf_map_lookup_elem(&bench_array, (key)))
#define BENCH_HASH_LOOKUP(key) ((__u64 *)bpf_map_lookup_elem(&bench_hash, (key)))
#define BENCH_HASH_INSERT(key, value) bpf_map_update_elem(&bench_hash, (key), (value), BPF_ANY)
#else
__u64 *bench_native_array_lookup(const __u32 *key);
__u64 *bench_native_hash_lookup(const __u32 *key);
long bench_native_hash_insert(const __u32 *key, const __u64 *value);
#define BENCH_ARRAY_LOOKUP(key) bench_native_array_lookup(key)
#define BENCH_HASH_LOOKUP(key) bench_native_hash_lookup(key)
#define BENCH_HASH_INSERT(key, value) bench_native_hash_insert((key), (value))
#endif
BENCH_INLINE __u32 bench_map(const __u8 *data, const __u8 *data_end) {
  const __u8 *keys = data + BENCH_PAYLOAD;
  if (keys + 64 > data_end) return 0;
  __u64 sum = 0;
  for (__u32 i = 0; i < 64; i++) {
    __u32 key = keys[i];
    __u64 *slot = BENCH_ARRAY_LOOKUP(&key);
    if (slot) {
      *slot += 1;
      sum += *slot;
    }
    key = key * 4 + (i & 3);
    __u64 *value = BENCH_HASH_LOOKUP(&key);
    if (value) {
      *value += i;
      sum += *value;
    } else {
      __u64 init = i;
      BENCH_HASH_INSERT(&key, &init);
    }
  }
  return (__u32)sum;
}

// parse: xdp1-style parsing of 8 frames of 128 bytes laid back to back in the payload: Ethernet,
// up to two VLAN tags, IPv4 (with options) or IPv6, then TCP or UDP ports; every header is bounds
// checked against data_end. Returns a fold of (protocol, ports) per frame.
#define BENCH_FRAMES 8
#define BENCH_FRAME_BYTES 128
BENCH_INLINE __u32 bench_parse_frame(const __u8 *eth, const __u8 *data_end) {
  if (eth + 14 > data_end) return 0;
  __u32 off = 14;
  __u32 proto = (__u32)eth[12] << 8 | eth[13];
  for (int tag = 0; tag < 2; tag++) {
    if (proto != 0x8100 && proto != 0x88a8) break;
    if (eth + off + 4 > data_end) return 0;
    proto = (__u32)eth[off + 2] << 8 | eth[off + 3];
    off += 4;
  }
  __u32 l4 = 0, l4_off = 0;
  if (proto == 0x0800) {
    const __u8 *ip = eth + off;
    if (ip + 20 > data_end) return 0;
    __u32 ihl = (ip[0] & 15) * 4;
    if (ihl < 20) return 0;
    l4 = ip[9];
    l4_off = off + ihl;
  } else if (proto == 0x86dd) {
    const __u8 *ip6 = eth + off;
    if (ip6 + 40 > data_end) return 0;
    l4 = ip6[6];
    l4_off = off + 40;
  } else {
    return 1;
  }
  if (l4_off > 80) return 2;
  const __u8 *ports = eth + l4_off;
  BENCH_BARRIER_VAR(ports);
  if (l4 == 6) {
    if (ports + 20 > data_end) return 0;
  } else if (l4 == 17) {
    if (ports + 8 > data_end) return 0;
  } else {
    return l4 << 8;
  }
  __u32 sport = (__u32)ports[0] << 8 | ports[1], dport = (__u32)ports[2] << 8 | ports[3];
  return (l4 << 24) ^ (sport * 31 + dport);
}
BENCH_INLINE __u32 bench_parse(const __u8 *data, const __u8 *data_end) {
  __u32 h = 0;
  for (__u32 f = 0; f < BENCH_FRAMES; f++)
    h = h * 33 + bench_parse_frame(data + BENCH_PAYLOAD + f * BENCH_FRAME_BYTES, data_end);
  return h;
}

// checksum: the Internet checksum (RFC 1071) of the IPv4 header and of the UDP datagram with its
// pseudo-header, over 16-bit words with a 32-bit accumulator folded at the end.
#define BENCH_CSUM_MAX_BYTES 1024
BENCH_INLINE __u32 bench_csum_fold(__u32 sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}
BENCH_INLINE __u32 bench_checksum(const __u8 *data, const __u8 *data_end) {
  const __u8 *ip = data + 14;
  if (ip + 20 > data_end) return 0;
  __u32 ip_sum = 0;
  for (__u32 i = 0; i < 20; i += 2)
    if (i != 10) ip_sum += (__u32)ip[i] << 8 | ip[i + 1];
  const __u8 *udp = ip + 20;
  if (udp + 8 > data_end) return 0;
  __u32 udp_len = (__u32)udp[4] << 8 | udp[5];
  // Pseudo-header: addresses, protocol, UDP length.
  __u32 sum = 17 + udp_len;
  for (__u32 i = 12; i < 20; i += 2) sum += (__u32)ip[i] << 8 | ip[i + 1];
  for (__u32 i = 0; i < BENCH_CSUM_MAX_BYTES; i += 2) {
    if (i + 2 > udp_len) break;
    if (udp + i + 2 > data_end) break;
    if (i != 6) sum += (__u32)udp[i] << 8 | udp[i + 1];
  }
  return bench_csum_fold(ip_sum) << 16 | bench_csum_fold(sum);
}

// ---- issue #16's classes (bench/README.md): one program each ------------------------------------

#ifdef __bpf__
#define BENCH_NOINLINE static __attribute__((noinline))  // a BPF-to-BPF call
#else
#define BENCH_NOINLINE static inline  // native C: the compiler may inline, as the physical limit
#endif

// branches: dense data-dependent branches: for each of 256 payload bytes, four tests on its bits and
// value, taken or not at random (the payload is random), each updating a different accumulator.
#define BENCH_BRANCH_BYTES 256
BENCH_INLINE __u32 bench_branches(const __u8 *data, const __u8 *data_end) {
  const __u8 *p = data + BENCH_PAYLOAD;
  __u32 a = 1, b = 2, c = 3;
  for (__u32 i = 0; i < BENCH_BRANCH_BYTES; i++) {
    if (p + i + 1 > data_end) break;
    __u32 v = p[i];
    if (v & 1) a += v;
    else b ^= v << 3;
    if (v & 0x10) c += a;
    if (v > 0xa0) a -= b;
    else if (v < 0x30) c = c * 3 + 1;
    if ((v ^ a) & 4) b += c;
  }
  return a ^ (b << 7) ^ (c << 13);
}

// popcount_loop: Kernighan's bit-counting loop (clear the lowest set bit until none is left) over
// 64 xorshift words seeded from the payload; about 32 data-dependent iterations per word.
BENCH_INLINE __u32 bench_popcount_loop(const __u8 *data, const __u8 *data_end) {
  if (data + BENCH_PAYLOAD + 8 > data_end) return 0;
  __u64 x;
  __builtin_memcpy(&x, data + BENCH_PAYLOAD, 8);
  x |= 1;
  __u32 bits = 0;
  for (__u32 i = 0; i < 64; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    __u64 v = x;
    for (__u32 j = 0; j < 64; j++) {
      if (v == 0) break;
      v &= v - 1;
      bits++;
    }
  }
  return bits;
}

// calls: a chain of three BPF-to-BPF calls (mix -> round -> step) per payload word, 128 words.
BENCH_NOINLINE __u64 bench_call_step(__u64 h, __u64 w) { return (h ^ w) * 0x100000001b3ull; }
BENCH_NOINLINE __u64 bench_call_round(__u64 h, __u64 w) {
  h = bench_call_step(h, w);
  return bench_call_step(h, w >> 29) + (h >> 17);
}
BENCH_NOINLINE __u64 bench_call_mix(__u64 h, __u64 w, __u32 i) { return bench_call_round(h + i, w) ^ (w << 7); }
BENCH_INLINE __u32 bench_calls(const __u8 *data, const __u8 *data_end) {
  const __u8 *p = data + BENCH_PAYLOAD;
  __u64 h = 0xcbf29ce484222325ull;
  for (__u32 i = 0; i < 128; i++) {
    if (p + 8 * (i & 31) + 8 > data_end) break;
    __u64 w;
    __builtin_memcpy(&w, p + 8 * (i & 31), 8);
    h = bench_call_mix(h, w, i);
  }
  return (__u32)(h ^ (h >> 32));
}

// strcmp64: 64-byte string compares: the payload holds a 64-byte query and 8 candidates that match
// it for 40-61 bytes or whole; four passes count where each compare stopped.
#define BENCH_STR64_BYTES 64
#define BENCH_STR64_WORDS 8
BENCH_INLINE __u32 bench_strcmp64(const __u8 *data, const __u8 *data_end) {
  const __u8 *query = data + BENCH_PAYLOAD;
  if (query + BENCH_STR64_BYTES * (BENCH_STR64_WORDS + 1) > data_end) return 0;
  __u32 fold = 0;
  for (__u32 round = 0; round < 4; round++) {
    for (__u32 w = 0; w < BENCH_STR64_WORDS; w++) {
      const __u8 *cand = query + BENCH_STR64_BYTES * (w + 1);
      __u32 i = 0;
      for (; i < BENCH_STR64_BYTES; i++)
        if (query[i] != cand[i] || query[i] == 0) break;
      fold = fold * 31 + i + round;
    }
  }
  return fold;
}

// accum8: eight u64 accumulators live across a loop over 64 payload words (four passes), each
// updated from the word and from the others: more live values than clang's BPF registers hold.
#define BENCH_ACC_WORDS 64
BENCH_INLINE __u32 bench_accum8(const __u8 *data, const __u8 *data_end) {
  const __u8 *p = data + BENCH_PAYLOAD;
  if (p + 8 * BENCH_ACC_WORDS > data_end) return 0;
  __u64 a0 = 1, a1 = 2, a2 = 3, a3 = 4, a4 = 5, a5 = 6, a6 = 7, a7 = 8;
  for (__u32 pass = 0; pass < 4; pass++) {
    for (__u32 i = 0; i < BENCH_ACC_WORDS; i++) {
      __u64 w;
      __builtin_memcpy(&w, p + 8 * i, 8);
      a0 += w;
      a1 ^= w * 0x9e3779b97f4a7c15ull;
      a2 = ((a2 << 5) | (a2 >> 59)) + w;
      a3 += a0 ^ w;
      a4 -= w >> 3;
      a5 += a1 & w;
      a6 ^= a2 + a5;
      a7 += a3 | a4;
    }
  }
  __u64 h = a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7;
  return (__u32)(h ^ (h >> 32));
}

// mixed: ALU and memory interleaved: a 32-slot u64 table on the stack, updated 512 times at
// payload-chosen slots (read one slot, mix, add into another), then folded.
#define BENCH_MIX_SLOTS 32
BENCH_INLINE __u32 bench_mixed(const __u8 *data, const __u8 *data_end) {
  const __u8 *p = data + BENCH_PAYLOAD;
  if (p + 64 > data_end) return 0;
  __u64 table[BENCH_MIX_SLOTS];
  for (__u32 i = 0; i < BENCH_MIX_SLOTS; i++) table[i] = (__u64)p[i] * 0x0101010101010101ull + i;
  __u64 h = 0;
  for (__u32 i = 0; i < 512; i++) {
    __u32 b = p[i & 63];
    __u32 from = (b + i) & (BENCH_MIX_SLOTS - 1), to = (b >> 3 ^ i) & (BENCH_MIX_SLOTS - 1);
    __u64 v = table[from];
    v = (v ^ (v >> 11)) * 0xff51afd7ed558ccdull + b;
    table[to] += v;
    h += v >> 7;
  }
  for (__u32 i = 0; i < BENCH_MIX_SLOTS; i++) h ^= table[i] << (i & 7);
  return (__u32)(h ^ (h >> 32));
}

// csum16: the Internet checksum (RFC 1071) of 1,024 payload bytes as a driver writes it: big-endian
// 16-bit loads swapped as ntohs does (BPF byte-swap instructions), a 64-bit sum, end-around carries.
BENCH_INLINE __u16 bench_ntohs(__u16 v) { return (__u16)(v << 8 | v >> 8); }
BENCH_INLINE __u32 bench_csum16(const __u8 *data, const __u8 *data_end) {
  const __u8 *p = data + BENCH_PAYLOAD;
  if (p + 1024 > data_end) return 0;
  __u64 sum = 0;
  for (__u32 i = 0; i < 1024; i += 2) {
    __u16 w;
    __builtin_memcpy(&w, p + i, 2);
    sum += bench_ntohs(w);
  }
  for (int k = 0; k < 3; k++) sum = (sum & 0xffff) + (sum >> 16);  // 512 words: 25 bits at most
  return ~(__u32)sum & 0xffff;
}

#include "bench_kernels_classes.h"

#endif
