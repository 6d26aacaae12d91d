// UserRingbufMap: the host producer's errnos, records that wrap the ring's end, commit checks, the
// consumer's order, and one producer thread against one draining thread.
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "maps/user_ringbuf_map.hpp"
#include "tests/maps/map_spec_builder.hpp"

namespace bpfvm::maps {
namespace {

using testing::make;
using testing::spec;

UserRingbufMap& user_ringbuf(std::unique_ptr<Map>& m) {
  auto* rb = dynamic_cast<UserRingbufMap*>(m.get());
  REQUIRE(rb != nullptr);
  return *rb;
}

}  // namespace

TEST_CASE("user ringbuf: records wrap the ring's end and stay contiguous, in reservation order") {
  auto m = make(spec(MapType::UserRingbuf, 0, 0, 4096));
  auto& rb = user_ringbuf(m);
  REQUIRE(rb.begin_drain());
  CHECK_FALSE(rb.begin_drain());  // a second consumer: the helper's -EBUSY
  for (std::uint32_t round = 0; round < 20; ++round) {
    std::byte* a = nullptr;
    std::byte* b = nullptr;
    REQUIRE(rb.reserve(1000, &a) == 0);
    REQUIRE(rb.reserve(1001, &b) == 0);
    std::memset(a, static_cast<int>(round), 1000);
    std::memset(b, static_cast<int>(round + 100), 1001);
    CHECK(rb.peek_sample().err == -ENODATA);  // still busy
    REQUIRE(rb.submit(b) == 0);
    CHECK(rb.peek_sample().err == -ENODATA);  // b waits for a
    REQUIRE(rb.submit(a) == 0);
    for (const auto& [size, fill] : {std::pair{1000u, round}, std::pair{1001u, round + 100}}) {
      const auto p = rb.peek_sample();
      REQUIRE(p.err == 0);
      REQUIRE(p.size_bytes == size);
      std::vector<std::byte> want(size, static_cast<std::byte>(fill));
      CHECK(std::memcmp(p.sample, want.data(), size) == 0);
      rb.release_sample(p.size_bytes);
    }
  }
  CHECK(rb.peek_sample().err == -ENODATA);
  rb.end_drain();
  CHECK(rb.begin_drain());
}

TEST_CASE("user ringbuf: producer errnos and commits of foreign or committed samples") {
  auto m = make(spec(MapType::UserRingbuf, 0, 0, 4096));
  auto& rb = user_ringbuf(m);
  std::byte* s = nullptr;
  CHECK(rb.reserve(UserRingbufMap::kBusyBit, &s) == -E2BIG);
  CHECK(rb.reserve(UserRingbufMap::kDiscardBit | 8, &s) == -E2BIG);
  CHECK(rb.reserve(4096 - 7, &s) == -E2BIG);  // with its header, larger than the ring
  CHECK(s == nullptr);
  REQUIRE(rb.reserve(4096 - 8, &s) == 0);  // exactly the ring
  std::byte* more = nullptr;
  CHECK(rb.reserve(0, &more) == -ENOSPC);
  std::byte local[16];
  CHECK(rb.submit(nullptr) == -EINVAL);
  CHECK(rb.submit(local + 8) == -EINVAL);
  CHECK(rb.submit(s + 8) == -EINVAL);  // inside the sample, not its start
  REQUIRE(rb.discard(s) == 0);
  CHECK(rb.submit(s) == -EINVAL);  // already committed
  CHECK(rb.peek_sample().err == -EAGAIN);  // the discarded record is consumed
  CHECK(rb.peek_sample().err == -ENODATA);
  REQUIRE(rb.reserve(0, &more) == 0);
  REQUIRE(rb.submit(more) == 0);
  const auto p = rb.peek_sample();
  CHECK(p.err == 0);
  CHECK(p.size_bytes == 0);
}

TEST_CASE("user ringbuf: one producer thread and one consumer see every sample once, in order") {
  auto m = make(spec(MapType::UserRingbuf, 0, 0, 8192));
  auto& rb = user_ringbuf(m);
  constexpr std::uint32_t kSamples = 50'000;
  std::atomic<int> producer_error{0};  // Catch2 assertions are for the main thread only
  std::thread producer([&] {
    for (std::uint32_t i = 0; i < kSamples; ++i) {
      const std::uint32_t size = 4 + (i * 37) % 300;
      std::byte* s = nullptr;
      int rc;
      while ((rc = rb.reserve(size, &s)) == -ENOSPC) std::this_thread::yield();
      if (rc != 0) {
        producer_error = rc;
        return;
      }
      for (std::uint32_t k = 0; k < size; k += 4) std::memcpy(s + k, &i, std::min<std::uint32_t>(4, size - k));
      if (const int c = i % 7 == 3 ? rb.discard(s) : rb.submit(s); c != 0) {
        producer_error = c;
        return;
      }
    }
  });
  REQUIRE(rb.begin_drain());
  std::uint32_t expect = 0;
  while (expect < kSamples && producer_error == 0) {
    if (expect % 7 == 3) ++expect;  // discarded: peek_sample skips it
    if (expect >= kSamples) break;
    const auto p = rb.peek_sample();
    if (p.err == -ENODATA || p.err == -EAGAIN) {
      std::this_thread::yield();
      continue;
    }
    REQUIRE(p.err == 0);
    REQUIRE(p.size_bytes == 4 + (expect * 37) % 300);
    std::uint32_t seq;
    std::memcpy(&seq, p.sample, 4);
    REQUIRE(seq == expect);
    std::memcpy(&seq, p.sample + (p.size_bytes - 4) / 4 * 4, 4);
    REQUIRE(seq == expect);
    rb.release_sample(p.size_bytes);
    ++expect;
  }
  producer.join();
  CHECK(producer_error == 0);
  rb.end_drain();
  CHECK(rb.peek_sample().err != 0);
}

}  // namespace bpfvm::maps
