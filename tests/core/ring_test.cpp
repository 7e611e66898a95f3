#include "core/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/arena.hpp"

namespace hft::core {
namespace {

struct Event {
  std::uint64_t seq;
  std::uint64_t payload[7];
};
static_assert(sizeof(Event) == 64);

TEST(SpscRing, RejectsCapacityThatIsNotAPowerOfTwo) {
  EXPECT_THROW(SpscRing<int>(0), std::invalid_argument);
  EXPECT_THROW(SpscRing<int>(1), std::invalid_argument);
  EXPECT_THROW(SpscRing<int>(12), std::invalid_argument);
  EXPECT_NO_THROW(SpscRing<int>(16));
}

TEST(SpscRing, EmptyRingPopsNothing) {
  SpscRing<int> r(4);
  int v = -1;
  EXPECT_FALSE(r.try_pop(v));
  EXPECT_EQ(v, -1);
  EXPECT_EQ(r.front(), nullptr);
  EXPECT_EQ(r.try_pop_batch(&v, 1), 0u);
  EXPECT_TRUE(r.empty_approx());
}

TEST(SpscRing, FullRingRefusesAndKeepsContents) {
  SpscRing<int> r(4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(r.try_push(i));
  EXPECT_FALSE(r.try_push(99));
  EXPECT_EQ(r.claim(), nullptr);
  const int more[2] = {7, 8};
  EXPECT_EQ(r.try_push_batch(more, 2), 0u);
  EXPECT_EQ(r.size_approx(), 4u);
  for (int i = 0; i < 4; ++i) {
    int v = -1;
    ASSERT_TRUE(r.try_pop(v));
    EXPECT_EQ(v, i);
  }
  int v = -1;
  EXPECT_FALSE(r.try_pop(v));
}

TEST(SpscRing, WrapsAroundManyTimesInOrder) {
  SpscRing<std::uint64_t> r(8);
  std::uint64_t next_in = 0, next_out = 0;
  // Uneven push/pop counts move the indices across the wrap point at every offset.
  for (int round = 0; round < 1000; ++round) {
    const int pushes = 1 + round % 7;
    for (int i = 0; i < pushes; ++i)
      if (r.try_push(next_in)) ++next_in;
    const int pops = 1 + (round * 3) % 6;
    for (int i = 0; i < pops; ++i) {
      std::uint64_t v = 0;
      if (!r.try_pop(v)) break;
      ASSERT_EQ(v, next_out);
      ++next_out;
    }
  }
  EXPECT_GT(next_in, 2000u) << "the indices wrapped hundreds of times";
  EXPECT_LE(next_in - next_out, 8u);
}

TEST(SpscRing, BatchPushAndPopSplitAcrossTheWrapPoint) {
  SpscRing<int> r(8);
  int tmp[8];
  // Move the indices to 6 so the next batch of 5 wraps.
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(r.try_push(i));
  ASSERT_EQ(r.try_pop_batch(tmp, 6), 6u);
  const int batch[5] = {10, 11, 12, 13, 14};
  ASSERT_EQ(r.try_push_batch(batch, 5), 5u);
  // Only 3 free slots remain: a batch of 5 is cut to 3.
  const int more[5] = {20, 21, 22, 23, 24};
  EXPECT_EQ(r.try_push_batch(more, 5), 3u);
  int out[16] = {};
  ASSERT_EQ(r.try_pop_batch(out, 16), 8u);
  const int expected[8] = {10, 11, 12, 13, 14, 20, 21, 22};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[i], expected[i]) << i;
  EXPECT_EQ(r.try_pop_batch(out, 16), 0u);
}

TEST(SpscRing, ClaimPublishAndFrontPopAreZeroCopy) {
  SpscRing<Event> r(4);
  Event* slot = r.claim();
  ASSERT_NE(slot, nullptr);
  slot->seq = 42;
  EXPECT_EQ(r.front(), nullptr) << "a claimed slot is invisible until published";
  r.publish();
  const Event* e = r.front();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->seq, 42u);
  EXPECT_EQ(e, slot) << "the consumer reads the very slot the producer wrote";
  r.pop();
  EXPECT_EQ(r.front(), nullptr);
}

TEST(SpscRing, StorageFromTheArena) {
  Arena arena(ArenaOptions{.bytes = 4u << 20, .mode = PageMode::kNormal, .numa_node = -1, .prefault = true, .lock = false});
  auto cells = arena.allocate_array<SpscRing<Event>::Cell>(1024);
  ASSERT_EQ(cells.size(), 1024u);
  auto* ring = arena.create<SpscRing<Event>>(cells);
  ASSERT_NE(ring, nullptr);
  EXPECT_TRUE(arena.contains(ring));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(ring) % kFalseSharingRange, 0u);
  Event e{};
  e.seq = 7;
  ASSERT_TRUE(ring->try_push(e));
  ASSERT_TRUE(arena.contains(ring->front()));
  EXPECT_EQ(ring->front()->seq, 7u);
  EXPECT_EQ(ring->capacity(), 1024u);
}

// A side that finds the ring full (or empty) spins for a while (1,024 tries: tens of microseconds,
// in which a peer that is running always makes room), then yields its CPU. Without the
// yield, on a host with fewer free cores than the two threads (CI: 2 vCPUs, with another test
// beside this one) the spinning side burns its whole time slice while the other side waits for a
// core: 5 million events took 90 s of wall time there instead of well under one. Both sides still
// run concurrently whenever they can, so every path still meets the other thread across the wrap.
// The threads are not pinned: pinned to one core each, a yielding side waits behind whatever else
// runs on its core instead of taking the one that is free.
class Backoff {
 public:
  void progress() { idle_ = 0; }
  void idle() {
    if (++idle_ >= 1024) {
      idle_ = 0;
      std::this_thread::yield();
    }
  }

 private:
  unsigned idle_ = 0;
};

// Under the sanitizers the stress tests run a tenth of the events: ASan and TSan-style checks see
// every code path of the ring within the first million, and the asan CI run has a time budget.
#ifdef HFT_SANITIZED
constexpr std::uint64_t kStressScale = 10;
#else
constexpr std::uint64_t kStressScale = 1;
#endif

// Two threads, 100 million events (10 million under the sanitizers): every sequence number arrives
// exactly once and in order.
// The producer mixes single and batch pushes; the consumer mixes single pops, zero-copy pops and
// batch pops, so every path is exercised across the wrap point under contention.
TEST(SpscRing, TwoThreadStressEventsInOrder) {
  constexpr std::uint64_t kEvents = 100'000'000 / kStressScale;
  SpscRing<std::uint64_t> ring(1024);
  std::thread producer([&] {
    std::uint64_t next = 0;
    std::uint64_t batch[32];
    Backoff backoff;
    while (next < kEvents) {
      const std::uint64_t before = next;
      if ((next & 0x3ff) < 0x200) {
        if (ring.try_push(next)) ++next;
      } else {
        const std::uint64_t n = std::min<std::uint64_t>(32, kEvents - next);
        for (std::uint64_t i = 0; i < n; ++i) batch[i] = next + i;
        next += ring.try_push_batch(batch, n);
      }
      if (next == before) {
        backoff.idle();
      } else {
        backoff.progress();
      }
    }
  });
  std::uint64_t expected = 0;
  std::uint64_t errors = 0;
  std::uint64_t buf[64];
  Backoff backoff;
  while (expected < kEvents) {
    const std::uint64_t before = expected;
    switch (expected % 3) {
      case 0: {
        std::uint64_t v;
        if (ring.try_pop(v)) errors += v != expected++;
        break;
      }
      case 1: {
        if (const std::uint64_t* p = ring.front()) {
          errors += *p != expected++;
          ring.pop();
        }
        break;
      }
      default: {
        const std::size_t n = ring.try_pop_batch(buf, 64);
        for (std::size_t i = 0; i < n; ++i) errors += buf[i] != expected++;
      }
    }
    if (expected == before) {
      backoff.idle();
    } else {
      backoff.progress();
    }
  }
  producer.join();
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(expected, kEvents);
  std::uint64_t v;
  EXPECT_FALSE(ring.try_pop(v)) << "nothing arrives twice";
}

// Wider events: a torn or stale slot would show as a payload that does not match its sequence.
TEST(SpscRing, TwoThreadStressWholeEventsArriveIntact) {
  constexpr std::uint64_t kEvents = 5'000'000 / kStressScale;
  SpscRing<Event> ring(256);
  std::thread producer([&] {
    Backoff backoff;
    for (std::uint64_t i = 0; i < kEvents;) {
      if (Event* e = ring.claim()) {
        e->seq = i;
        for (int k = 0; k < 7; ++k) e->payload[k] = i * 7 + static_cast<std::uint64_t>(k);
        ring.publish();
        ++i;
        backoff.progress();
      } else {
        backoff.idle();
      }
    }
  });
  std::uint64_t bad = 0;
  Backoff backoff;
  for (std::uint64_t i = 0; i < kEvents;) {
    Event e;
    if (!ring.try_pop(e)) {
      backoff.idle();
      continue;
    }
    backoff.progress();
    bad += e.seq != i;
    for (int k = 0; k < 7; ++k) bad += e.payload[k] != i * 7 + static_cast<std::uint64_t>(k);
    ++i;
  }
  producer.join();
  EXPECT_EQ(bad, 0u);
}

}  // namespace
}  // namespace hft::core
