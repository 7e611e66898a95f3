#include "gateways/moldudp64/publisher.hpp"
#include "gateways/moldudp64/rerequest_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "core/config.hpp"
#include "gateways/itch/decoder.hpp"
#include "gateways/itch/encoder.hpp"
#include "mold_pub_test_util.hpp"
#include "tests/support/alloc_counter.hpp"
#include "tests/support/test_data.hpp"

namespace hft::mold {
namespace {

using test::Bytes;
using test::CollectSink;
using test::CountingSink;
using test::decode;
using test::message_bytes;

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kSecond = 1'000'000'000;

PublisherConfig config_with(std::size_t max_payload) {
  PublisherConfig c;
  c.session = SessionId::from("TESTSESS01");
  c.max_payload = max_payload;
  return c;
}

// Every packet decodes exactly, stays within the budget, continues the sequence, and carries the
// published messages in order; consecutive packets were split only when the next message did
// not fit (the publisher packs greedily).
void check_packets(const std::vector<Bytes>& packets, const std::vector<Bytes>& published, std::size_t budget,
                   bool greedy) {
  std::uint64_t next = 1;
  std::size_t index = 0;
  for (std::size_t p = 0; p < packets.size(); ++p) {
    ASSERT_LE(packets[p].size(), budget) << "packet " << p;
    const auto d = decode(packets[p]);
    ASSERT_TRUE(d.ok) << "packet " << p;
    EXPECT_EQ(d.header.session, SessionId::from("TESTSESS01"));
    ASSERT_EQ(d.header.kind(), PacketKind::kMessages) << "packet " << p;
    ASSERT_GT(d.header.count, 0);
    EXPECT_EQ(d.header.sequence, next) << "packet " << p;
    next += d.header.count;
    for (const Bytes& m : d.messages) {
      ASSERT_LT(index, published.size());
      EXPECT_EQ(m, published[index]) << "message " << index + 1;
      ++index;
    }
    if (greedy && p + 1 < packets.size()) {
      const auto following = decode(packets[p + 1]);
      ASSERT_FALSE(following.messages.empty());
      EXPECT_GT(packets[p].size() + 2 + following.messages.front().size(), budget)
          << "packet " << p << " was sent although the next message fitted";
    }
  }
  EXPECT_EQ(index, published.size());
}

TEST(MoldPublisher, NumbersMessagesFromOneAndPacksInOrder) {
  std::vector<Bytes> packets;
  Publisher<CollectSink> pub(config_with(kMaxPayload), CollectSink{&packets});
  std::vector<Bytes> published;
  std::mt19937 rng(7);
  for (std::uint64_t seq = 1; seq <= 5000; ++seq) {
    published.push_back(message_bytes(seq, 1 + rng() % 60));
    ASSERT_EQ(pub.publish(published.back(), 0), PublishResult::kOk);
  }
  EXPECT_TRUE(pub.flush());
  EXPECT_FALSE(pub.flush());
  check_packets(packets, published, kMaxPayload, true);
  EXPECT_EQ(pub.next_sequence(), 5001u);
  EXPECT_EQ(pub.stats().messages, 5000u);
  EXPECT_EQ(pub.stats().packets, packets.size());
  EXPECT_EQ(pub.stats().flushes_full + pub.stats().flushes_explicit, packets.size());
  std::uint64_t bytes = 0;
  for (const auto& p : packets) bytes += p.size();
  EXPECT_EQ(pub.stats().bytes, bytes);
}

TEST(MoldPublisher, StaysWithinEveryBudgetForManyMessageSizes) {
  for (const std::size_t budget : {std::size_t{22}, std::size_t{23}, std::size_t{64}, std::size_t{577},
                                   kMaxPayload, std::size_t{8972}, kMaxUdpPayload}) {
    SCOPED_TRACE(budget);
    std::vector<Bytes> packets;
    Publisher<CollectSink> pub(config_with(budget), CollectSink{&packets});
    ASSERT_EQ(pub.max_message_length(), std::min<std::size_t>(budget - 22, kMaxMessageLength));
    std::vector<Bytes> published;
    std::mt19937 rng(static_cast<unsigned>(budget));
    const std::size_t largest = pub.max_message_length();
    for (std::uint64_t seq = 1; seq <= 1500; ++seq) {
      // Mostly small (ITCH-like), some at and near the largest that fits.
      std::size_t len = 0;
      switch (rng() % 4) {
        case 0: len = largest; break;
        case 1: len = largest - std::min<std::size_t>(largest, rng() % 3); break;
        default: len = std::min<std::size_t>(largest, rng() % 50);
      }
      published.push_back(message_bytes(seq, len));
      ASSERT_EQ(pub.publish(published.back(), 0), PublishResult::kOk) << "len " << len;
    }
    pub.flush();
    check_packets(packets, published, budget, true);
  }
}

TEST(MoldPublisher, ExactBoundaries) {
  std::vector<Bytes> packets;
  Publisher<CollectSink> pub(config_with(kMaxPayload), CollectSink{&packets});
  // 20 header + 2 + 1,450 = 1,472: one message fills the packet exactly.
  ASSERT_EQ(pub.publish(message_bytes(1, 1450), 0), PublishResult::kOk);
  EXPECT_EQ(packets.size(), 0u);
  ASSERT_EQ(pub.publish(message_bytes(2, 0), 0), PublishResult::kOk);  // no room for even a length
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].size(), 1472u);
  // Packet 2 starts with the zero-length message 2; two more fill it exactly:
  // 20 + (2 + 0) + (2 + 700) + (2 + 746) = 1,472.
  ASSERT_EQ(pub.publish(message_bytes(3, 700), 0), PublishResult::kOk);
  ASSERT_EQ(pub.publish(message_bytes(4, 746), 0), PublishResult::kOk);
  EXPECT_EQ(packets.size(), 1u);
  // One byte more than fits: a new packet.
  ASSERT_EQ(pub.publish(message_bytes(5, 1), 0), PublishResult::kOk);
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[1].size(), 1472u);
  const auto d = decode(packets[1]);
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.header.sequence, 2u);
  EXPECT_EQ(d.header.count, 3u);
  EXPECT_TRUE(d.messages[0].empty());
  pub.flush();
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(packets[2].size(), 23u);
  EXPECT_EQ(decode(packets[2]).header.sequence, 5u);
}

TEST(MoldPublisher, RejectsAMessageLargerThanTheBudget) {
  std::vector<Bytes> packets;
  Publisher<CollectSink> pub(config_with(kMaxPayload), CollectSink{&packets});
  ASSERT_EQ(pub.publish(message_bytes(1, 10), 0), PublishResult::kOk);
  EXPECT_EQ(pub.publish(message_bytes(2, 1451), 0), PublishResult::kTooLarge);
  EXPECT_EQ(pub.publish(message_bytes(2, 65536), 0), PublishResult::kTooLarge);
  EXPECT_EQ(pub.stats().rejected_too_large, 2u);
  EXPECT_EQ(pub.buffered(), 1u) << "a refused message neither flushes nor takes a sequence number";
  EXPECT_EQ(pub.next_sequence(), 2u);
  ASSERT_EQ(pub.publish(message_bytes(2, 1), 0), PublishResult::kOk);
  pub.flush();
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(decode(packets[0]).messages.size(), 2u);

  // The largest budget still cannot carry a 65,535-byte message (65,507 - 22 = 65,485).
  std::vector<Bytes> big_packets;
  Publisher<CollectSink> big(config_with(kMaxUdpPayload), CollectSink{&big_packets});
  EXPECT_EQ(big.publish(message_bytes(1, 65486), 0), PublishResult::kTooLarge);
  EXPECT_EQ(big.publish(message_bytes(1, 65485), 0), PublishResult::kOk);
  big.flush();
  ASSERT_EQ(big_packets.size(), 1u);
  EXPECT_EQ(big_packets[0].size(), kMaxUdpPayload);
}

TEST(MoldPublisher, RejectsBadConfiguration) {
  PublisherConfig c;
  c.max_payload = 21;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c.max_payload = kMaxUdpPayload + 1;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = PublisherConfig{};
  c.heartbeat_interval_ns = 0;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = PublisherConfig{};
  c.end_of_session_packets = 0;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = PublisherConfig{};
  c.first_sequence = 0;
  try {
    Publisher<NullSink> p(c, NullSink{});
    FAIL() << "first_sequence 0 must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("first_sequence"), std::string::npos) << e.what();
  }
}

TEST(MoldPublisher, FlushesAfterMaxDelay) {
  std::vector<Bytes> packets;
  PublisherConfig c = config_with(kMaxPayload);
  c.max_delay_ns = 100'000;
  Publisher<CollectSink> pub(c, CollectSink{&packets});
  ASSERT_EQ(pub.publish(message_bytes(1, 30), 10 * kMs), PublishResult::kOk);
  ASSERT_EQ(pub.publish(message_bytes(2, 30), 10 * kMs + 60'000), PublishResult::kOk);
  EXPECT_EQ(pub.poll(10 * kMs + 99'999), 0) << "the delay counts from the first buffered message";
  EXPECT_TRUE(packets.empty());
  EXPECT_EQ(pub.poll(10 * kMs + 100'000), 1);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(decode(packets[0]).header.count, 2u);
  EXPECT_EQ(pub.stats().flushes_timer, 1u);
  EXPECT_EQ(pub.poll(10 * kMs + 200'000), 0);

  // A clock that steps back is not taken for a long wait.
  ASSERT_EQ(pub.publish(message_bytes(3, 30), 20 * kMs), PublishResult::kOk);
  EXPECT_EQ(pub.poll(19 * kMs), 0);
  EXPECT_EQ(pub.poll(20 * kMs + 100'000), 1);
  EXPECT_EQ(packets.size(), 2u);
}

TEST(MoldPublisher, ZeroDelaySendsOnTheNextPollAndBatchesBetweenPolls) {
  std::vector<Bytes> packets;
  Publisher<CollectSink> pub(config_with(kMaxPayload), CollectSink{&packets});
  for (int i = 1; i <= 3; ++i) ASSERT_EQ(pub.publish(message_bytes(i, 12), 5), PublishResult::kOk);
  EXPECT_TRUE(packets.empty());
  EXPECT_EQ(pub.poll(5), 1);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(decode(packets[0]).header.count, 3u);
}

TEST(MoldPublisher, HeartbeatsWhenIdle) {
  std::vector<Bytes> packets;
  Publisher<CollectSink> pub(config_with(kMaxPayload), CollectSink{&packets});
  const std::uint64_t t0 = 1000 * kSecond;
  EXPECT_EQ(pub.poll(t0), 1) << "the first poll announces the session";
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].size(), kHeaderSize);
  auto hb = decode(packets[0]);
  EXPECT_EQ(hb.header.kind(), PacketKind::kHeartbeat);
  EXPECT_EQ(hb.header.sequence, 1u);
  EXPECT_EQ(pub.poll(t0 + kSecond - 1), 0);
  EXPECT_EQ(pub.poll(t0 + kSecond), 1);
  ASSERT_EQ(packets.size(), 2u);

  // Traffic resets the idle timer; the next heartbeat carries the next sequence number.
  for (int i = 1; i <= 4; ++i) ASSERT_EQ(pub.publish(message_bytes(i, 20), t0 + kSecond + 200 * kMs), PublishResult::kOk);
  EXPECT_EQ(pub.poll(t0 + kSecond + 200 * kMs), 1);
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_EQ(decode(packets[2]).header.count, 4u);
  EXPECT_EQ(pub.poll(t0 + 2 * kSecond + 199 * kMs), 0);
  EXPECT_EQ(pub.poll(t0 + 2 * kSecond + 200 * kMs), 1);
  ASSERT_EQ(packets.size(), 4u);
  hb = decode(packets[3]);
  EXPECT_EQ(hb.header.kind(), PacketKind::kHeartbeat);
  EXPECT_EQ(hb.header.sequence, 5u);
  EXPECT_EQ(pub.stats().heartbeats, 3u);
  EXPECT_EQ(pub.stats().messages, 4u);
}

TEST(MoldPublisher, ConfiguredHeartbeatInterval) {
  std::vector<Bytes> packets;
  PublisherConfig c = config_with(kMaxPayload);
  c.heartbeat_interval_ns = 250 * kMs;
  Publisher<CollectSink> pub(c, CollectSink{&packets});
  int sent = 0;
  for (std::uint64_t t = 0; t <= 2 * kSecond; t += 10 * kMs) sent += pub.poll(t);
  EXPECT_EQ(sent, 9);  // at 0, 250 ms, ..., 2 s
  EXPECT_EQ(pub.stats().heartbeats, 9u);
}

TEST(MoldPublisher, EndOfSessionReplacesHeartbeats) {
  std::vector<Bytes> packets;
  PublisherConfig c = config_with(kMaxPayload);
  c.end_of_session_packets = 3;
  Publisher<CollectSink> pub(c, CollectSink{&packets});
  ASSERT_EQ(pub.publish(message_bytes(1, 40), 0), PublishResult::kOk);
  ASSERT_EQ(pub.publish(message_bytes(2, 40), 0), PublishResult::kOk);
  pub.end_session(10 * kMs);
  ASSERT_EQ(packets.size(), 2u) << "buffered messages go out before the end of session";
  EXPECT_EQ(decode(packets[0]).header.count, 2u);
  auto eos = decode(packets[1]);
  EXPECT_EQ(eos.header.kind(), PacketKind::kEndOfSession);
  EXPECT_EQ(eos.header.count, kEndOfSessionCount);
  EXPECT_EQ(eos.header.sequence, 3u);
  EXPECT_EQ(packets[1].size(), kHeaderSize);
  EXPECT_TRUE(pub.ending());
  EXPECT_FALSE(pub.finished());

  EXPECT_EQ(pub.publish(message_bytes(3, 40), 20 * kMs), PublishResult::kSessionEnded);
  EXPECT_EQ(pub.stats().rejected_after_end, 1u);
  std::uint8_t* out = nullptr;
  EXPECT_EQ(pub.claim(10, 20 * kMs, out), PublishResult::kSessionEnded);

  EXPECT_EQ(pub.poll(10 * kMs + kSecond - 1), 0);
  EXPECT_EQ(pub.poll(10 * kMs + kSecond), 1);
  EXPECT_EQ(pub.poll(10 * kMs + 2 * kSecond), 1);
  EXPECT_TRUE(pub.finished());
  for (std::uint64_t t = 3; t < 10; ++t) EXPECT_EQ(pub.poll(10 * kMs + t * kSecond), 0) << "no heartbeat after the end";
  ASSERT_EQ(packets.size(), 4u);
  for (std::size_t i = 1; i < 4; ++i) {
    eos = decode(packets[i]);
    EXPECT_EQ(eos.header.kind(), PacketKind::kEndOfSession);
    EXPECT_EQ(eos.header.sequence, 3u);
  }
  EXPECT_EQ(pub.stats().end_of_session_packets, 3u);
  EXPECT_EQ(pub.stats().heartbeats, 0u);
  pub.end_session(100 * kSecond);  // a second call changes nothing
  EXPECT_EQ(packets.size(), 4u);
}

TEST(MoldPublisher, ClaimAndCommitEncodeInPlace) {
  std::vector<Bytes> packets;
  Publisher<CollectSink> pub(config_with(kMaxPayload), CollectSink{&packets});
  std::uint8_t* out = nullptr;
  const itch::MessageHeader h{7, 0, 34'200'000'000'000};
  for (std::uint64_t ref = 1; ref <= 40; ++ref) {
    ASSERT_EQ(pub.claim(itch::kMessageLength['A'], 0, out), PublishResult::kOk);
    const std::size_t n = itch::encode::add_order(out, h, ref, 'B', 100, itch::Symbol::from("AAPL"), 1'500'000);
    pub.commit(n);
  }
  // A claim that commits less than it reserved.
  ASSERT_EQ(pub.claim(100, 0, out), PublishResult::kOk);
  std::memset(out, 'x', 5);
  pub.commit(5);
  pub.commit(5);  // without a claim: ignored
  pub.flush();
  EXPECT_EQ(pub.next_sequence(), 42u);

  struct Refs {
    std::vector<std::uint64_t> refs;
    void on_add_order(const itch::AddOrder& m) noexcept { refs.push_back(m.order_reference_number()); }
  } handler;
  std::size_t total = 0;
  for (const auto& p : packets) {
    const auto d = decode(p);
    ASSERT_TRUE(d.ok);
    for (const auto& m : d.messages) {
      ++total;
      if (total <= 40) {
        EXPECT_EQ(itch::decode_message(m.data(), m.size(), handler), itch::DecodeResult::kOk);
      } else {
        EXPECT_EQ(m, Bytes(5, 'x'));
      }
    }
  }
  EXPECT_EQ(total, 41u);
  ASSERT_EQ(handler.refs.size(), 40u);
  for (std::uint64_t i = 0; i < 40; ++i) EXPECT_EQ(handler.refs[i], i + 1);
}

TEST(MoldPublisher, AnOpenClaimIsAbandonedByAnyOtherCall) {
  std::vector<Bytes> packets;
  Publisher<CollectSink> pub(config_with(kMaxPayload), CollectSink{&packets});
  ASSERT_EQ(pub.publish(message_bytes(1, 10), 0), PublishResult::kOk);
  std::uint8_t* out = nullptr;
  ASSERT_EQ(pub.claim(20, 0, out), PublishResult::kOk);
  std::memset(out, 'z', 20);
  EXPECT_EQ(pub.poll(0), 1);  // sends message 1 only
  pub.commit(20);             // too late: ignored
  ASSERT_EQ(pub.claim(20, 0, out), PublishResult::kOk);
  ASSERT_EQ(pub.claim(5, 0, out), PublishResult::kOk);  // replaces the first claim
  std::memset(out, 'y', 5);
  pub.commit(5);
  pub.flush();
  EXPECT_EQ(pub.stats().abandoned_claims, 2u);
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(decode(packets[0]).messages, std::vector<Bytes>{message_bytes(1, 10)});
  const auto d = decode(packets[1]);
  EXPECT_EQ(d.header.sequence, 2u);
  EXPECT_EQ(d.messages, std::vector<Bytes>{Bytes(5, 'y')});
}

TEST(MoldPublisher, ReadsItsSettingsFromToml) {
  const auto doc = core::ConfigDocument::parse(R"(
[feed]
session = "000010059B"
max_payload = 1400
max_delay_us = 50
heartbeat_interval_ms = 500
end_of_session_packets = 5
first_sequence = 42
[store]
max_messages = 1000
max_mb = 2
[rerequest]
max_payload = 1400
max_requests_per_poll = 16
max_messages_per_request = 100
)",
                                               "venue.toml");
  const auto root = doc->root();
  const PublisherConfig p = parse_publisher_config(root.require_section("feed"));
  EXPECT_EQ(p.session, SessionId::from("000010059B"));
  EXPECT_EQ(p.max_payload, 1400u);
  EXPECT_EQ(p.max_delay_ns, 50'000u);
  EXPECT_EQ(p.heartbeat_interval_ns, 500 * kMs);
  EXPECT_EQ(p.end_of_session_packets, 5u);
  EXPECT_EQ(p.first_sequence, 42u);
  const RetransmitStoreConfig st = parse_retransmit_store_config(root.require_section("store"));
  EXPECT_EQ(st.max_messages, 1000u);
  EXPECT_EQ(st.max_bytes, 2u << 20);
  const RerequestConfig rr = parse_rerequest_config(root.require_section("rerequest"), p.session);
  EXPECT_EQ(rr.session, p.session);
  EXPECT_EQ(rr.max_payload, 1400u);
  EXPECT_EQ(rr.max_requests_per_poll, 16u);
  EXPECT_EQ(rr.max_messages_per_request, 100u);

  const PublisherConfig defaults = parse_publisher_config(core::ConfigDocument::parse("", "empty.toml")->root());
  EXPECT_EQ(defaults.max_payload, kMaxPayload);
  EXPECT_EQ(defaults.heartbeat_interval_ns, kSecond);
  EXPECT_EQ(defaults.first_sequence, 1u);
}

TEST(MoldPublisher, TomlErrorsNameTheKey) {
  auto error_of = [](const char* text) -> std::string {
    try {
      (void)parse_publisher_config(core::ConfigDocument::parse(text, "bad.toml")->root());
    } catch (const core::ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(error_of("session = \"ELEVENCHARS\"").find("session"), std::string::npos);
  EXPECT_NE(error_of("session = \"A B\"").find("session"), std::string::npos);
  EXPECT_NE(error_of("session = \"\"").find("session"), std::string::npos);
  EXPECT_NE(error_of("max_payload = 21").find("max_payload"), std::string::npos);
  EXPECT_NE(error_of("max_payload = 65508").find("max_payload"), std::string::npos);
  EXPECT_NE(error_of("heartbeat_interval_ms = 0").find("heartbeat_interval_ms"), std::string::npos);
  EXPECT_NE(error_of("first_sequence = 0").find("first_sequence"), std::string::npos);
  EXPECT_EQ(error_of("session = \"OK\""), "no error");
}

TEST(MoldPublisher, FeedsTheRetransmitStoreOnlyWithWhatWasSent) {
  RetransmitStoreConfig sc;
  sc.max_messages = 1000;
  sc.max_bytes = 1 << 20;
  RetransmitStore store(sc);
  std::vector<Bytes> packets;
  Publisher<CollectSink> pub(config_with(kMaxPayload), CollectSink{&packets}, &store);
  for (std::uint64_t seq = 1; seq <= 100; ++seq) ASSERT_EQ(pub.publish(message_bytes(seq, 25), 0), PublishResult::kOk);
  const std::uint64_t sent = 100 - pub.buffered();
  EXPECT_EQ(store.next_sequence(), sent + 1) << "buffered messages are not published yet";
  pub.flush();
  EXPECT_EQ(store.first_sequence(), 1u);
  EXPECT_EQ(store.next_sequence(), 101u);
  std::span<const std::uint8_t> m;
  for (std::uint64_t seq = 1; seq <= 100; ++seq) {
    ASSERT_EQ(store.find(seq, m), StoreLookup::kHeld);
    EXPECT_EQ(Bytes(m.begin(), m.end()), message_bytes(seq, 25));
  }
}

TEST(MoldPublisher, ContinuesAtAConfiguredFirstSequence) {
  RetransmitStoreConfig sc;
  sc.max_messages = 16;
  sc.max_bytes = 1 << 16;
  RetransmitStore store(sc);
  std::vector<Bytes> packets;
  PublisherConfig c = config_with(kMaxPayload);
  c.first_sequence = 1'000'001;
  Publisher<CollectSink> pub(c, CollectSink{&packets}, &store);
  EXPECT_EQ(store.next_sequence(), 1'000'001u) << "requests before the first packet see the right range";
  EXPECT_EQ(pub.poll(0), 1);
  EXPECT_EQ(decode(packets[0]).header.sequence, 1'000'001u);
  ASSERT_EQ(pub.publish(message_bytes(1, 3), 0), PublishResult::kOk);
  pub.flush();
  EXPECT_EQ(decode(packets[1]).header.sequence, 1'000'001u);
  EXPECT_EQ(store.first_sequence(), 1'000'001u);
  EXPECT_EQ(store.next_sequence(), 1'000'002u);
}

TEST(MoldPublisher, SteadyStateAllocatesNothing) {
  ASSERT_TRUE(testing::counting_active());
  RetransmitStoreConfig sc;
  sc.max_messages = 4096;
  sc.max_bytes = 1 << 18;
  RetransmitStore store(sc);
  PublisherConfig c = config_with(kMaxPayload);
  c.max_delay_ns = 20'000;
  c.heartbeat_interval_ns = 1'000'000;
  Publisher<CountingSink> pub(c, CountingSink{}, &store);
  std::uint8_t msg[64];
  for (std::size_t i = 0; i < sizeof msg; ++i) msg[i] = static_cast<std::uint8_t>(i);
  std::uint64_t now = 0;
  std::uint64_t published = 0;
  {
    testing::AllocationScope scope;
    for (int round = 0; round < 20'000; ++round) {
      now += 7'000;
      for (int k = 0; k < round % 5; ++k) {
        ASSERT_EQ(pub.publish(msg, 12 + (round + k) % 50, now), PublishResult::kOk);
        ++published;
      }
      pub.poll(now);
      if (round % 1000 == 999) now += 2'000'000;  // idle: heartbeats
    }
    pub.end_session(now);
    EXPECT_EQ(scope.allocations(), 0u);
  }
  EXPECT_EQ(pub.sink().messages, published);
  EXPECT_EQ(pub.sink().sequence_errors, 0u);
  EXPECT_LE(pub.sink().largest, kMaxPayload);
  EXPECT_GT(pub.stats().flushes_timer, 0u);
  EXPECT_GT(pub.stats().heartbeats, 0u);
  EXPECT_GT(store.stats().evicted, 0u) << "the store wrapped during the run";
}

// ---------------------------------------------------------------------------------------------
// UDP sink

TEST(MoldUdpSink, SendsPacketsToTheDestination) {
  net::Fd rx = net::udp_receiver(net::parse_endpoint("127.0.0.1:0"));
  const net::Endpoint where = net::local_endpoint(rx.get());
  Publisher<UdpSink> pub(config_with(kMaxPayload), UdpSink(where));
  std::vector<Bytes> published;
  for (std::uint64_t seq = 1; seq <= 100; ++seq) {
    published.push_back(message_bytes(seq, 30));
    ASSERT_EQ(pub.publish(published.back(), 0), PublishResult::kOk);
  }
  pub.flush();
  EXPECT_EQ(pub.stats().send_errors, 0u);
  EXPECT_EQ(pub.sink().stats().packets, pub.stats().packets);
  std::vector<Bytes> packets;
  std::uint8_t buf[2048];
  for (int i = 0; i < 2000 && packets.size() < pub.stats().packets; ++i) {
    const ssize_t n = ::recv(rx.get(), buf, sizeof buf, 0);
    if (n < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    packets.emplace_back(buf, buf + n);
  }
  ASSERT_EQ(packets.size(), pub.stats().packets);
  check_packets(packets, published, kMaxPayload, true);
}

TEST(MoldUdpSink, CountsSendErrorsWithoutFailing) {
  // Port 0 is not a destination: sendto fails with EINVAL, every time.
  Publisher<UdpSink> pub(config_with(kMaxPayload), UdpSink(net::parse_endpoint("127.0.0.1:0")));
  ASSERT_EQ(pub.publish(message_bytes(1, 10), 0), PublishResult::kOk);
  pub.flush();
  pub.poll(5 * kSecond);
  EXPECT_EQ(pub.stats().packets, 2u);
  EXPECT_EQ(pub.stats().send_errors, 2u);
  EXPECT_EQ(pub.sink().stats().errors, 2u);
  EXPECT_EQ(pub.sink().stats().packets, 0u);
  EXPECT_NE(pub.sink().stats().last_errno, 0);
  ASSERT_EQ(pub.publish(message_bytes(2, 10), 6 * kSecond), PublishResult::kOk) << "the publisher goes on";
  EXPECT_EQ(pub.next_sequence(), 3u);
}

// ---------------------------------------------------------------------------------------------
// Capture

Bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::filesystem::path temp_path(const char* name) {
  return std::filesystem::temp_directory_path() / (std::string("hft_moldpub_") + std::to_string(::getpid()) + "_" + name);
}

TEST(MoldCapture, WritesEveryPublishedMessageAsBinaryFile) {
  const auto path = temp_path("capture.bin");
  std::vector<Bytes> packets;
  Bytes expected;
  {
    using Sink = CaptureSink<CollectSink>;
    Publisher<Sink> pub(config_with(kMaxPayload), Sink(CollectSink{&packets}, BinaryFileWriter(path.string(), 4096)));
    std::mt19937 rng(3);
    for (std::uint64_t seq = 1; seq <= 3000; ++seq) {
      const Bytes m = message_bytes(seq, 1 + rng() % 80);
      expected.push_back(static_cast<std::uint8_t>(m.size() >> 8));
      expected.push_back(static_cast<std::uint8_t>(m.size()));
      expected.insert(expected.end(), m.begin(), m.end());
      ASSERT_EQ(pub.publish(m, seq * 1000), PublishResult::kOk);
    }
    // A heartbeat writes the buffered records out: the file is complete while the venue idles.
    pub.flush();
    EXPECT_EQ(pub.poll(10 * kSecond), 1);
    EXPECT_EQ(read_file(path), expected);
    EXPECT_EQ(pub.sink().captured_messages(), 3000u);
    pub.end_session(11 * kSecond);
    expected.push_back(0);  // BinaryFILE end of session: a zero-length message
    expected.push_back(0);
    EXPECT_EQ(read_file(path), expected);
    EXPECT_TRUE(pub.sink().writer().ok());
    EXPECT_EQ(pub.stats().packets, packets.size()) << "the inner sink saw every packet";
  }
  EXPECT_EQ(read_file(path), expected) << "closing adds nothing";
  std::filesystem::remove(path);
}

TEST(MoldCapture, ReproducesARealItchFileByteForByte) {
  HFT_REQUIRE_SHARED_DATA(data);
  const Bytes original = read_file(data / "itch" / "12302019_SNIPPET.NASDAQ_ITCH50");
  ASSERT_EQ(original.size(), 35'570u);
  const auto path = temp_path("snippet.bin");
  std::vector<Bytes> packets;
  {
    using Sink = CaptureSink<CollectSink>;
    Publisher<Sink> pub(config_with(kMaxPayload), Sink(CollectSink{&packets}, BinaryFileWriter(path.string()), false));
    std::size_t off = 0;
    while (off + 2 <= original.size()) {
      const std::size_t len = static_cast<std::size_t>(original[off]) << 8 | original[off + 1];
      ASSERT_LE(off + 2 + len, original.size());
      ASSERT_EQ(pub.publish(original.data() + off + 2, len, 0), PublishResult::kOk);
      off += 2 + len;
    }
    pub.end_session(0);
    EXPECT_EQ(pub.stats().messages, 1000u);
    // 35,570 bytes of records in 1,452-byte packet bodies: at least 25 packets, and greedy
    // packing of ITCH-sized messages leaves less than one message of slack in each.
    EXPECT_GE(pub.stats().message_packets, 25u);
    EXPECT_LE(pub.stats().message_packets, 26u);
  }
  EXPECT_EQ(read_file(path), original);
  std::filesystem::remove(path);
  for (const auto& p : packets) EXPECT_LE(p.size(), kMaxPayload);
}

TEST(MoldCapture, UnwritablePathIsAClearError) {
  try {
    BinaryFileWriter w("/nonexistent-dir/capture.bin");
    FAIL() << "opening must fail";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/capture.bin"), std::string::npos) << e.what();
  }
}

TEST(MoldCapture, WriterHandlesRecordsLargerThanItsBuffer) {
  const auto path = temp_path("large.bin");
  Bytes expected;
  {
    BinaryFileWriter w(path.string(), 4096);
    for (std::size_t len : {std::size_t{10}, std::size_t{5000}, std::size_t{4094}, std::size_t{65535}, std::size_t{1}}) {
      const Bytes m = message_bytes(len, len);
      ASSERT_TRUE(w.append_message(m.data(), m.size()));
      expected.push_back(static_cast<std::uint8_t>(len >> 8));
      expected.push_back(static_cast<std::uint8_t>(len));
      expected.insert(expected.end(), m.begin(), m.end());
    }
    EXPECT_FALSE(w.append_message(expected.data(), 65536)) << "a BinaryFILE length is 16 bits";
    EXPECT_EQ(w.stats().write_errors, 1u);
  }
  EXPECT_EQ(read_file(path), expected);
  std::filesystem::remove(path);
}

TEST(MoldCapture, WriteFailuresAreCountedNotFatal) {
  // /dev/full fails every write with ENOSPC.
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "/dev/full not available";
  BinaryFileWriter w("/dev/full", 4096);
  const Bytes m = message_bytes(1, 100);
  EXPECT_TRUE(w.append_message(m.data(), m.size()));  // buffered
  EXPECT_FALSE(w.flush());
  EXPECT_EQ(w.stats().write_errors, 1u);
  EXPECT_EQ(w.stats().last_errno, ENOSPC);
  EXPECT_TRUE(w.flush()) << "the lost buffer is not written twice";
}

}  // namespace
}  // namespace hft::mold
