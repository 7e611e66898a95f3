#pragma once
// The in-process tick-to-trade rig (issue 17): real MoldUDP64 packets of a generated day pushed
// through hftd's real stages (NetStage's packet handling, ParseStage, BookStage, StrategyStage
// with the probe strategy, EgressStage: risk, order manager, OUCH 5.0 and SoupBinTCP), run by the
// appliance's real runner (core::Runner) in the fused one-thread layout (hftd-2core.toml) or the
// two-thread one (hftd-4core.toml: net, parse, book | strategy, risk/egress), or driven pass by
// pass on the calling thread (Runner::run_once, for callgrind).
//
// The only part that is not hftd's is the network backend: CaptureBackend has the members of
// net/backend.hpp, hands the day's packets to the net stage (one per poll, paced) and captures the
// bytes the egress stage would hand to the kernel. A scripted venue behind it answers the login,
// the account query and every Enter Order (accepted, then canceled: the probe's orders are IOC),
// outside the timed path, so the order manager's slots and the risk state stay in steady state.
//
// Measured: "packet handed to the net stage" (rdtsc just before NetStage::on_datagram) to "order
// bytes ready to send" (rdtsc on entry to the backend's send with the SoupBinTCP packet of the
// Enter Order). Every `every`-th packet after the warm-up starts with an Add Order on ZPROBE (the
// probe strategy answers a new top of book with one IOC order), and the next packet deletes it;
// the probe's price carries the trigger's number, so each captured order is matched to its packet.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/histogram.hpp"
#include "core/runner.hpp"
#include "core/spsc_ring.hpp"
#include "gateways/itch/encoder.hpp"
#include "gateways/moldudp64/publisher.hpp"
#include "gateways/ouch/codec.hpp"
#include "gateways/soupbintcp/framer.hpp"
#include "gateways/soupbintcp/packet.hpp"
#include "net/backend.hpp"
#include "net/socket.hpp"
#include "pipeline/book/book_set.hpp"
#include "pipeline/oms/order_manager.hpp"
#include "pipeline/risk/risk.hpp"
#include "pipeline/stages/book_stage.hpp"
#include "pipeline/stages/egress_stage.hpp"
#include "pipeline/stages/net_stage.hpp"
#include "pipeline/stages/parse_stage.hpp"
#include "pipeline/stages/run_to_completion.hpp"
#include "pipeline/stages/strategy_stage.hpp"
#include "pipeline/strategy/registry.hpp"
#include "venue/sim/day_generator.hpp"

namespace hft::bench::t2t {

inline constexpr std::uint32_t kProbeBasePrice = 1'000'000;  // 100.0000 $
inline constexpr std::uint32_t kProbeIds = 1000;              // price steps of one cent carry id % 1000
inline constexpr std::uint64_t kProbeRefBase = 1ull << 40;    // above any reference the generator uses

struct Packet {
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
  std::int64_t trigger = -1;  // the trigger's number, or -1
};

struct Day {
  std::vector<std::uint8_t> bytes;  // the datagrams, back to back
  std::vector<Packet> packets;
  std::uint64_t messages = 0;
  std::uint64_t triggers = 0;
  std::uint32_t stocks = 0;
  std::uint16_t probe_locate = 0;
};

struct DayOptions {
  std::uint64_t packets = 20'000;
  std::uint32_t stocks = 500;
  std::uint32_t every = 10;       // a trigger every this many packets (at least 3)
  std::uint32_t warmup = 2'000;   // packets before the first trigger (login, directory, books filling)
  std::size_t max_payload = 1472; // UDP payload per packet (a full NASDAQ packet)
  std::uint64_t seed = 1;
};

// The day's messages (sim::DayGenerator, the steady mix) packed into MoldUDP64 packets by the
// project's publisher, with the probe's R message first and its trigger adds and deletes.
inline Day make_day(const DayOptions& o) {
  if (o.every < 3) throw std::invalid_argument("a trigger needs at least 3 packets (its add, then its delete)");
  Day day;
  day.stocks = o.stocks;
  day.probe_locate = static_cast<std::uint16_t>(o.stocks + 1);
  day.bytes.reserve(o.packets * o.max_payload);
  day.packets.reserve(o.packets);
  struct Sink {
    Day* day;
    std::int64_t* pending_trigger;
    bool send(const mold::PacketHeader&, std::span<const std::uint8_t> packet) noexcept {
      Packet p;
      p.offset = static_cast<std::uint32_t>(day->bytes.size());
      p.size = static_cast<std::uint32_t>(packet.size());
      p.trigger = *pending_trigger;
      *pending_trigger = -1;
      day->bytes.insert(day->bytes.end(), packet.begin(), packet.end());
      day->packets.push_back(p);
      return true;
    }
  };
  std::int64_t pending = -1;
  mold::PublisherConfig pc;
  pc.session = mold::SessionId::from("T2TBENCH01");
  pc.max_payload = o.max_payload;
  mold::Publisher<Sink> pub(pc, Sink{&day, &pending});

  sim::DayConfig dc;
  dc.messages = o.packets * (o.max_payload / 12) + 2 * o.stocks + 16;  // more than the packets can hold
  dc.stocks = o.stocks;
  dc.seed = o.seed;
  dc.mix = sim::MessageMix::steady();
  sim::DayGenerator gen(dc);
  const itch::Symbol probe = itch::Symbol::from("ZPROBE");
  std::uint8_t msg[sim::kMaxMessageLength];
  std::uint64_t ts = 3ull * 3600 * 1'000'000'000ull;
  auto publish = [&](std::size_t len) {
    pub.publish(msg, len, 0);
    ++day.messages;
  };
  // The probe's directory entry first, then the day.
  itch::StockDirectoryFields f;
  f.stock = probe;
  publish(itch::encode::stock_directory(msg, itch::MessageHeader{day.probe_locate, 0, ts}, f));
  std::uint64_t next_trigger_packet = o.warmup;
  std::int64_t live_probe = -1;  // the trigger whose add rests
  std::size_t live_packet = 0;   // the packet that carries its add
  while (day.packets.size() < o.packets) {
    if (live_probe >= 0 && day.packets.size() + 1 >= live_packet + o.every) {
      // The packet before the next trigger's: delete the probe so that the next add is a new top
      // (late, so that a lagging strategy thread still finds the probe's price as the reference).
      publish(itch::encode::order_delete(msg, itch::MessageHeader{day.probe_locate, 0, ts},
                                         kProbeRefBase + static_cast<std::uint64_t>(live_probe)));
      live_probe = -1;
    }
    if (live_probe < 0 && day.packets.size() >= next_trigger_packet) {
      pub.flush();  // the trigger's add opens its packet; the day's messages follow it
      const auto id = static_cast<std::int64_t>(day.triggers++);
      const char side = (id & 1) == 0 ? 'B' : 'S';
      const std::uint32_t price = kProbeBasePrice + static_cast<std::uint32_t>(id % kProbeIds) * 100;
      publish(itch::encode::add_order(msg, itch::MessageHeader{day.probe_locate, 0, ts},
                                      kProbeRefBase + static_cast<std::uint64_t>(id), side, 100, probe, price));
      pending = id;
      live_probe = id;
      live_packet = day.packets.size();
      next_trigger_packet = live_packet + o.every;
    }
    const std::size_t len = gen.next(msg);
    if (len == 0) break;
    ts = (static_cast<std::uint64_t>(msg[5]) << 40) | (static_cast<std::uint64_t>(msg[6]) << 32) |
         (static_cast<std::uint64_t>(msg[7]) << 24) | (static_cast<std::uint64_t>(msg[8]) << 16) |
         (static_cast<std::uint64_t>(msg[9]) << 8) | msg[10];
    publish(len);
  }
  pub.flush();
  if (day.packets.size() > o.packets) day.packets.resize(o.packets);
  // A trigger whose packet was cut off is not counted.
  day.triggers = 0;
  for (const Packet& p : day.packets) day.triggers += p.trigger >= 0 ? 1 : 0;
  return day;
}

// ---- the backend ------------------------------------------------------------------------------

// The feed side: hands the day's packets to the net stage, one per poll, at most one every
// gap_ticks (0: one per poll).
struct FeedSource {
  const Day* day = nullptr;
  std::uint64_t* t0 = nullptr;           // per trigger: rdtsc when its packet was handed over
  core::Histogram* pass = nullptr;       // trigger packet handed -> every stage took it in (ticks)
  std::uint64_t gap_ticks = 0;
  sockaddr_in from{};
  std::size_t next = 0;
  std::uint64_t next_due = 0;
  std::uint64_t last_t0 = 0;
  bool pending_pass = false;
  bool in_datagram = false;  // inside the net stage's handling of a packet
  std::atomic<bool> done{false};

  // Whether the stages have taken in everything of the packets handed so far (the rings toward
  // the strategy and the egress are empty); set by the rig.
  bool (*drained)(const void*) noexcept = nullptr;
  const void* drained_ctx = nullptr;

  template <class H>
  int poll(H& h) noexcept {
    const std::uint64_t now = core::rdtsc();
    if (pending_pass) {
      if (!drained(drained_ctx)) return 0;  // the packet is not through yet: nothing new meanwhile
      pass->record(now - last_t0);
      pending_pass = false;
    }
    if (next >= day->packets.size() || (gap_ticks != 0 && now < next_due)) return 0;
    const Packet& p = day->packets[next];
    net::Datagram d;
    d.socket = 0;
    d.data = day->bytes.data() + p.offset;
    d.size = p.size;
    d.from = from;
    const std::uint64_t t = core::rdtsc();
    if (p.trigger >= 0) t0[p.trigger] = t;  // reaches the egress thread through the stages' rings
    in_datagram = true;
    h.on_datagram(d);
    in_datagram = false;
    if (p.trigger >= 0) {
      last_t0 = t;
      pending_pass = true;
    }
    next_due = t + gap_ticks;
    if (++next == day->packets.size()) done.store(true, std::memory_order_release);
    return 1;
  }
};

// The venue's side of the order-entry session, scripted: answers the login, the account query
// and every Enter Order (accepted, then canceled), and times each Enter Order against its packet.
struct VenuePeer {
  const std::uint64_t* t0 = nullptr;
  core::Histogram* t2t = nullptr;  // ticks
  std::uint64_t triggers = 0;
  std::uint64_t orders = 0, unmatched = 0, sends = 0, bytes = 0;
  const bool* in_datagram = nullptr;  // the feed's: set while the net stage handles a packet
  std::uint64_t orders_in_packet = 0;  // orders sent before the net stage was through their packet
  std::uint64_t next_id = 0;     // the next trigger expected
  std::uint64_t sequence = 1;    // of the next sequenced message to the client
  std::vector<std::uint8_t> last_send;  // the bytes of the last send that carried an Enter Order
  std::vector<std::uint8_t> pending;    // client bytes the peer has not answered yet
  std::vector<std::uint8_t> inbound, delivering;
  soup::Framer framer{soup::Direction::kClientToServer, 4096};
  std::atomic<std::uint64_t> published_orders{0};

  VenuePeer() {
    last_send.reserve(4096);
    pending.reserve(1 << 20);
    inbound.reserve(1 << 20);
    delivering.reserve(1 << 20);
  }

  // Called with the rdtsc read on entry to send().
  void capture(std::uint64_t t1, const std::uint8_t* data, std::size_t n) noexcept {
    ++sends;
    bytes += n;
    bool any = false;
    for (std::size_t off = 0; off + soup::kHeaderSize <= n;) {
      const std::size_t len = (static_cast<std::size_t>(data[off]) << 8) | data[off + 1];
      if (len == 0 || off + 2 + len > n) break;
      const std::uint8_t type = data[off + 2];
      if (type == soup::packet_type::kUnsequencedData && len > 1 && data[off + 3] == ouch::EnterOrder::kType) {
        ouch::EnterOrder o;
        if (ouch::decode(data + off + 3, len - 1, o) == ouch::DecodeError::kOk) {
          any = true;
          ++orders;
          if (in_datagram != nullptr && *in_datagram) ++orders_in_packet;
          match(t1, o);
        }
      }
      off += 2 + len;
    }
    if (any) {
      last_send.assign(data, data + (n < 4096 ? n : 4096));
      published_orders.store(orders, std::memory_order_release);
    }
    if (pending.size() + n <= pending.capacity()) pending.insert(pending.end(), data, data + n);
  }

  void match(std::uint64_t t1, const ouch::EnterOrder& o) noexcept {
    if (o.price < kProbeBasePrice) {
      ++unmatched;
      return;
    }
    const std::uint64_t k = (o.price - kProbeBasePrice) / 100;
    std::uint64_t id = next_id;
    while (id < triggers && id % kProbeIds != k) ++id;
    if (id >= triggers) {
      ++unmatched;
      return;
    }
    unmatched += id - next_id;  // triggers that produced no order
    next_id = id + 1;
    t2t->record(t1 - t0[id]);
  }

  template <class H>
  int poll(H& h, int socket) noexcept {
    if (!pending.empty()) {
      framer.feed(pending.data(), pending.size(), [&](const soup::Packet& p) {
        answer(p);
        return true;
      });
      pending.clear();
    }
    if (inbound.empty()) return 0;
    delivering.swap(inbound);
    h.on_stream_data(socket, delivering.data(), delivering.size());
    delivering.clear();
    return 1;
  }

  void answer(const soup::Packet& p) noexcept {
    std::uint8_t out[256];
    if (p.type == soup::packet_type::kLoginRequest) {
      soup::LoginAccepted a;
      a.session = soup::SessionName::from("T2TVENUE01");
      a.sequence = sequence;
      put(out, soup::encode_login_accepted(out, a));
      return;
    }
    if (p.type != soup::packet_type::kUnsequencedData) return;
    struct Handler {
      VenuePeer* peer;
      void on_message(const ouch::AccountQuery&) noexcept {
        ouch::AccountQueryResponse r;
        r.next_user_ref_num = 1;
        peer->sequenced(r);
      }
      void on_message(const ouch::EnterOrder& o) noexcept {
        ouch::OrderAccepted a;
        a.user_ref_num = o.user_ref_num;
        a.side = o.side;
        a.quantity = o.quantity;
        a.symbol = o.symbol;
        a.price = o.price;
        a.time_in_force = o.time_in_force;
        a.order_reference_number = peer->sequence;
        peer->sequenced(a);
        ouch::OrderCanceled c;
        c.user_ref_num = o.user_ref_num;
        c.quantity = o.quantity;
        c.reason = ouch::CancelReason::kImmediateOrCancel;
        peer->sequenced(c);
      }
      void on_message(const ouch::CancelOrder&) noexcept {}
    } handler{this};
    ouch::decode_inbound(p.payload, p.size, handler);
  }
  template <class M>
  void sequenced(const M& m) noexcept {
    std::uint8_t out[256];
    const std::size_t n = ouch::encode(out + soup::kHeaderSize, sizeof out - soup::kHeaderSize, m);
    if (n == 0) return;
    soup::write_header(out, soup::packet_type::kSequencedData, n);
    put(out, soup::kHeaderSize + n);
    ++sequence;
  }
  void put(const std::uint8_t* data, std::size_t n) noexcept {
    if (inbound.size() + n <= inbound.capacity()) inbound.insert(inbound.end(), data, data + n);
  }
};

// net/backend.hpp's members, without a kernel: the feed backend hands the day's packets to its
// net stage; the order-entry backend captures what its egress stage sends.
class CaptureBackend {
 public:
  static constexpr net::BackendKind kKind = net::BackendKind::kEpoll;
  CaptureBackend(FeedSource* feed, VenuePeer* venue) noexcept : feed_(feed), venue_(venue) {}

  int add_udp(net::Fd fd, bool /*kernel_timestamps*/) {
    udp_ = std::move(fd);
    return kUdp;
  }
  int add_tcp(net::Fd fd) {
    tcp_ = std::move(fd);
    return kTcp;
  }
  void close_socket(int socket) noexcept {
    if (socket == kTcp) ++closes_;
  }
  void on_thread_start() noexcept {}
  template <class H>
  int poll(H& handler) noexcept {
    int work = 0;
    if (feed_ != nullptr) work += feed_->poll(handler);
    if (venue_ != nullptr) work += venue_->poll(handler, kTcp);
    return work;
  }
  bool send(int /*socket*/, const void* data, std::size_t size) noexcept {
    const std::uint64_t t1 = core::rdtsc();
    if (venue_ != nullptr) venue_->capture(t1, static_cast<const std::uint8_t*>(data), size);
    return true;
  }
  bool send_to(int, const void*, std::size_t, const sockaddr_in&) noexcept {
    ++sent_to_;
    return true;
  }
  [[nodiscard]] std::string describe() const { return "capture (no kernel)"; }
  [[nodiscard]] std::uint64_t sent_to() const noexcept { return sent_to_; }
  [[nodiscard]] std::uint64_t closes() const noexcept { return closes_; }

 private:
  static constexpr int kUdp = 0, kTcp = 1;
  FeedSource* feed_;
  VenuePeer* venue_;
  net::Fd udp_, tcp_;
  std::uint64_t sent_to_ = 0, closes_ = 0;
};

// ---- the rig ----------------------------------------------------------------------------------

enum class Layout : std::uint8_t {
  kFused,   // one runner thread: net, parse, book, strategy, egress (hftd-2core.toml)
  kSplit,   // two runner threads: net, parse, book | strategy, egress (hftd-4core.toml)
  kInline,  // the fused runner's passes on the calling thread (Runner::run_once): callgrind
};

struct RigOptions {
  Layout layout = Layout::kFused;
  bool decide = true;           // false: the probe watches a symbol the day never has (baseline)
  std::uint64_t gap_ns = 5'000; // at most one packet every this long (0: one per net poll)
  int cpu_a = -1, cpu_b = -1;   // runner CPUs (-1: not pinned)
  bool run_to_completion = true;  // fused layouts: as hftd (false: the runner's stage order only)
  // Called on the thread that runs the passes once the warm-up is over (tests count allocations).
  std::uint64_t timeout_ms = 60'000;
};

struct HopFigures {
  std::string name;
  std::uint64_t count = 0, p50 = 0, p99 = 0, p999 = 0, max = 0;  // ns
};

struct RigResult {
  std::uint64_t packets = 0, triggers = 0, orders = 0, unmatched = 0, risk_rejects = 0, rerequests = 0;
  std::uint64_t sends = 0;
  std::uint64_t orders_in_packet = 0;  // sent while the net stage was still handling their packet
  std::string reject_reasons;  // "reason number: count, ..." (pipeline::RejectReason)
  HopFigures t2t;   // packet handed to the net stage -> Enter Order bytes ready to send
  HopFigures pass;  // trigger packet handed -> every message of it through the book, the strategy and the egress
  std::vector<HopFigures> hops;  // the stages' own hop histograms (hftd's names)
  std::vector<std::uint8_t> last_order;  // the last send carrying an Enter Order (SoupBinTCP bytes)
  std::vector<int> thread_ids;
};

class Rig {
 public:
  Rig(const Day& day, const RigOptions& o)
      : day_(day),
        options_(o),
        t0_(day.triggers + 1, 0),
        t2t_(1, 60'000'000'000ull, 3),
        pass_(1, 60'000'000'000ull, 3),
        h_kernel_(1, 60'000'000'000ull, 3),
        h_parse_(1, 60'000'000'000ull, 3),
        h_book_(1, 60'000'000'000ull, 3),
        h_decide_(1, 60'000'000'000ull, 3),
        h_wire_(1, 60'000'000'000ull, 3),
        h_t2t_(1, 60'000'000'000ull, 3),
        h_send_(1, 60'000'000'000ull, 3),
        symbols_(std::size_t{day.probe_locate} + 1),
        refs_(std::size_t{day.probe_locate} + 1),
        subs_(std::size_t{day.probe_locate} + 1),
        books_(book_config(day)),
        oms_(65536, std::size_t{day.probe_locate} + 1, 1),
        gate_(limits(), core::tsc_clock().uses_tsc() ? core::tsc_clock().ticks_per_ns() * 1e9 : 1e9),
        rx_(1 << 16),
        md_(1 << 16),
        book_events_(1 << 16),
        intents_(1 << 12),
        reports_(1 << 12),
        feed_backend_(&feed_, nullptr),
        oe_backend_(nullptr, &venue_),
        listener_(net::tcp_listen(net::parse_endpoint("127.0.0.1:0"))),
        net_(feed_backend_, feed_config(), rx_, h_kernel_),
        parse_(rx_, md_, h_parse_),
        book_(md_, book_events_, books_, symbols_, refs_, subs_, h_book_),
        strategy_(book_events_, reports_, intents_, symbols_, subs_, h_decide_, 1'000'000),
        egress_(oe_backend_, oe_config(), intents_, reports_, gate_, refs_, symbols_, oms_,
                typename pipeline::EgressStage<CaptureBackend>::Hops{&h_wire_, &h_t2t_, &h_send_, nullptr}) {
    feed_.day = &day_;
    feed_.t0 = t0_.data();
    feed_.pass = &pass_;
    const double tpn = core::tsc_clock().uses_tsc() ? core::tsc_clock().ticks_per_ns() : 1.0;
    feed_.gap_ticks = static_cast<std::uint64_t>(static_cast<double>(o.gap_ns) * tpn);
    feed_.from = net::parse_endpoint(kFeedSource).addr;
    feed_.drained_ctx = this;
    feed_.drained = [](const void* p) noexcept {
      const Rig& r = *static_cast<const Rig*>(p);
      return r.rx_.empty_approx() && r.md_.empty_approx() && r.book_events_.empty_approx() && r.intents_.empty_approx();
    };
    venue_.t0 = t0_.data();
    venue_.t2t = &t2t_;
    venue_.triggers = day.triggers;
    venue_.in_datagram = &feed_.in_datagram;
    strategy::ProbeParams pp;
    pp.symbol = o.decide ? "ZPROBE" : "ZNONE";
    strategy_.add("probe", strategy::make_strategy(strategy::AnyParams(pp)), {pp.symbol});
    strategy_.set_order_entry_ready(&egress_.ready_flag());
    if (!egress_.connect()) throw std::runtime_error("tick-to-trade rig: order entry: " + egress_.last_error());
    core::RunnerOptions ra;
    ra.name = "t2t-a";
    ra.cpu = o.cpu_a;
    ra.idle.kind = core::IdleKind::kBusySpin;
    core::RunnerOptions rb = ra;
    rb.name = "t2t-b";
    rb.cpu = o.cpu_b;
    if (o.layout == Layout::kSplit) {
      runners_.push_back(std::make_unique<core::Runner>(
          ra, std::vector<core::StageRef>{core::StageRef::of(net_), core::StageRef::of(parse_), core::StageRef::of(book_)}));
      runners_.push_back(std::make_unique<core::Runner>(
          rb, std::vector<core::StageRef>{core::StageRef::of(strategy_), core::StageRef::of(egress_)}));
    } else {
      runners_.push_back(std::make_unique<core::Runner>(
          ra, std::vector<core::StageRef>{core::StageRef::of(net_), core::StageRef::of(parse_), core::StageRef::of(book_),
                                          core::StageRef::of(strategy_), core::StageRef::of(egress_)}));
      // As hftd does on a fused thread (pipeline/app/appliance.cpp).
      if (o.run_to_completion) fused_.attach(net_, subs_);
    }
  }
  ~Rig() {
    for (auto& r : runners_) r->stop();
  }
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  // Runs the day through; returns when every packet was handed over and every trigger's order
  // came out (or the timeout).
  RigResult run() {
    drive();
    return result();
  }
  // run() without assembling its result (which allocates): tests count allocations around it.
  void drive() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    const std::uint64_t want = options_.decide ? day_.triggers : 0;
    auto finished = [&] {
      return feed_.done.load(std::memory_order_acquire) &&
             venue_.published_orders.load(std::memory_order_acquire) >= want;
    };
    if (options_.layout == Layout::kInline) {
      run_inline_until(day_.packets.size());
      core::Runner& r = *runners_.front();
      std::uint64_t idle_passes = 0;
      while (idle_passes < 64 && std::chrono::steady_clock::now() < deadline) {
        core::set_pass_rdtsc(core::rdtsc());
        const int work = r.run_once();
        idle_passes = (work == 0 && finished()) ? idle_passes + 1 : 0;
      }
      core::set_pass_rdtsc(0);
    } else {
      for (auto& r : runners_) r->start();
      for (auto& r : runners_) thread_ids_.push_back(static_cast<int>(r->tid()));
      // Every packet handed over, then every trigger's order out, or a second more at most (a
      // refused order never comes).
      while (!feed_.done.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      const auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      while (!finished() && std::chrono::steady_clock::now() < grace)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the last passes (the pass figure)
      for (auto& r : runners_) r->stop();
    }
  }

  // Layout::kInline: runs passes on the calling thread until `packets` packets were handed over
  // (tests: the warm-up before counting allocations); run() then goes on from there.
  void run_inline_until(std::size_t packets) noexcept {
    core::Runner& r = *runners_.front();
    while (feed_.next < packets && feed_.next < day_.packets.size()) {
      core::set_pass_rdtsc(core::rdtsc());
      r.run_once();
    }
    core::set_pass_rdtsc(0);
  }

  [[nodiscard]] RigResult figures() const { return result(); }

  // For tests: the thread ids of the runner threads of the last run(), empty inline.
  [[nodiscard]] const std::vector<int>& thread_ids() const noexcept { return thread_ids_; }
  [[nodiscard]] core::Runner& runner(std::size_t i) noexcept { return *runners_[i]; }
  [[nodiscard]] const pipeline::EgressStage<CaptureBackend>& egress() const noexcept { return egress_; }

 private:
  static constexpr const char* kFeedSource = "127.0.0.2:9000";

  static book::BookConfig book_config(const Day& day) {
    book::BookConfig b;
    b.orders = 1u << 20;
    b.levels = 1u << 18;
    b.max_locate = day.probe_locate;
    return b;
  }
  static risk::RiskLimits limits() {
    risk::RiskLimits l;
    l.max_orders_per_second = 1e9;  // the rig sends far more orders a second than a real day's limit
    l.order_burst = 1'000'000;
    l.max_open_orders = 1000;
    // The probe's book is empty again between triggers; a strategy thread that lags behind the
    // book thread (two threads on a loaded 2-vCPU host) must not see its order refused for it.
    l.require_reference_price = false;
    return l;
  }
  static pipeline::FeedConfig feed_config() {
    pipeline::FeedConfig f;
    f.listen = net::parse_endpoint("127.0.0.1:0");
    f.rerequest = net::parse_endpoint("127.0.0.3:9001");
    f.kernel_timestamps = false;
    f.receive_buffer = 0;
    f.source_fixed = true;
    f.source = net::parse_endpoint(kFeedSource).addr;
    return f;
  }
  pipeline::OrderEntryConfig oe_config() const {
    pipeline::OrderEntryConfig c;
    c.venue = net::local_endpoint(listener_.get());
    c.soup.username = "T2T";
    c.soup.password = "";
    c.soup.timeout_ns = 3'600'000'000'000ull;  // the scripted venue sends no heartbeats
    return c;
  }

  HopFigures figures(const char* name, const core::Histogram& h) const {
    const double tpn = core::tsc_clock().uses_tsc() ? core::tsc_clock().ticks_per_ns() : 1.0;
    auto ns = [&](std::uint64_t ticks) { return static_cast<std::uint64_t>(static_cast<double>(ticks) / tpn + 0.5); };
    HopFigures f;
    f.name = name;
    f.count = h.total_count();
    if (f.count == 0) return f;
    f.p50 = ns(h.value_at_percentile(50));
    f.p99 = ns(h.value_at_percentile(99));
    f.p999 = ns(h.value_at_percentile(99.9));
    f.max = ns(h.max());
    return f;
  }
  static HopFigures stage_figures(const char* name, const core::Histogram& h) {
    HopFigures f;  // the stages record nanoseconds already
    f.name = name;
    f.count = h.total_count();
    if (f.count == 0) return f;
    f.p50 = h.value_at_percentile(50);
    f.p99 = h.value_at_percentile(99);
    f.p999 = h.value_at_percentile(99.9);
    f.max = h.max();
    return f;
  }

  RigResult result() const {
    RigResult r;  // (allocates: names, vectors)
    r.packets = feed_.next;
    r.triggers = day_.triggers;
    r.orders = venue_.orders;
    r.orders_in_packet = venue_.orders_in_packet;
    r.unmatched = venue_.unmatched;
    r.sends = venue_.sends;
    r.risk_rejects = egress_.counters().risk_rejects;
    for (std::size_t i = 1; i < pipeline::kRejectReasonSlots; ++i) {
      const auto n = gate_.rejected(static_cast<pipeline::RejectReason>(i));
      if (n != 0) r.reject_reasons += (r.reject_reasons.empty() ? "" : ", ") + std::to_string(i) + ": " + std::to_string(n);
    }
    r.rerequests = feed_backend_.sent_to();
    r.t2t = figures("packet_to_order_bytes", t2t_);
    r.pass = figures("packet_to_drained", pass_);
    r.hops.push_back(stage_figures("rx_to_parsed", h_parse_));
    r.hops.push_back(stage_figures("parsed_to_book", h_book_));
    r.hops.push_back(stage_figures("book_to_decision", h_decide_));
    r.hops.push_back(stage_figures("decision_to_wire", h_wire_));
    r.hops.push_back(stage_figures("tick_to_trade", h_t2t_));
    r.last_order = venue_.last_send;
    r.thread_ids = thread_ids_;
    return r;
  }

  const Day& day_;
  RigOptions options_;
  std::vector<std::uint64_t> t0_;
  core::Histogram t2t_, pass_;
  core::Histogram h_kernel_, h_parse_, h_book_, h_decide_, h_wire_, h_t2t_, h_send_;
  pipeline::SymbolTable symbols_;
  risk::ReferencePrices refs_;
  pipeline::Subscriptions subs_;
  book::BookSet books_;
  oms::OrderManager oms_;
  risk::RiskGate gate_;
  core::SpscRing<pipeline::RxMessage> rx_;
  core::SpscRing<pipeline::MdEvent> md_;
  core::SpscRing<pipeline::BookEvent> book_events_;
  core::SpscRing<pipeline::OrderIntent> intents_;
  core::SpscRing<pipeline::ExecReport> reports_;
  FeedSource feed_;
  VenuePeer venue_;
  CaptureBackend feed_backend_;
  CaptureBackend oe_backend_;
  net::Fd listener_;
  pipeline::NetStage<CaptureBackend> net_;
  pipeline::ParseStage parse_;
  pipeline::BookStage book_;
  pipeline::StrategyStage strategy_;
  pipeline::EgressStage<CaptureBackend> egress_;
  pipeline::FusedDownstream<CaptureBackend> fused_{parse_, book_, strategy_, egress_};
  std::vector<std::unique_ptr<core::Runner>> runners_;
  std::vector<int> thread_ids_;
};

}  // namespace hft::bench::t2t
