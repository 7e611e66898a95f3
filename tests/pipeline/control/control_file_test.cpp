#include "pipeline/control/control_file.hpp"
#include "pipeline/control/risk_block.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace hft::control {
namespace {

namespace fs = std::filesystem;

class ControlFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hft_control_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static const core::HistogramLayout& layout() {
    static const auto l = core::HistogramLayout::make(1, 1'000'000'000, 3);
    return l;
  }
  fs::path dir_;
};

TEST_F(ControlFileTest, WriterAndReaderAgree) {
  ControlFile cf("unit", ControlSizes{}, layout(), dir_.string());
  EXPECT_EQ(fs::status(cf.path()).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write)
      << "mode 0600";
  cf.counter("net.datagrams")->value.store(42);
  cf.counter("orders.open", CounterKind::kGauge)->value.store(3);
  core::Histogram h(layout(), cf.histogram("tick_to_trade"));
  for (int i = 1; i <= 1000; ++i) h.record(static_cast<std::uint64_t>(i));
  seq_write(cf.risk().lock, [&] {
    cf.risk().kill_switch = 1;
    risk::RiskLimits l;
    l.max_order_quantity = 500;
    write_risk_limits(cf.risk(), l);
  });
  PositionSlot* p = cf.position_slot(0);
  seq_write(p->lock, [&] {
    p->used = 1;
    p->locate = 7;
    p->position = -200;
  });
  cf.set_state(DaemonState::kRunning);
  cf.heartbeat();

  ControlReader r("unit", dir_.string());
  EXPECT_TRUE(r.alive());
  EXPECT_EQ(r.header().pid, ::getpid());
  EXPECT_EQ(r.counter("net.datagrams"), 42u);
  EXPECT_FALSE(r.counter("nope").has_value());
  const auto all = r.counters();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].kind, CounterKind::kGauge);
  const auto copy = r.histogram("tick_to_trade");
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->total_count(), 1000u);
  EXPECT_EQ(copy->value_at_percentile(50), h.value_at_percentile(50));
  EXPECT_EQ(r.histogram_names(), std::vector<std::string>{"tick_to_trade"});
  EXPECT_EQ(r.risk().kill_switch, 1);
  const control::RiskBlock rb = r.risk();
  ASSERT_EQ(rb.limit_count, risk::kRiskKeys.size());
  ASSERT_NE(rb.find("max_order_quantity"), nullptr);
  EXPECT_EQ(rb.find("max_order_quantity")->value, 500.0);
  EXPECT_EQ(rb.find("nope"), nullptr);
  const auto pos = r.positions();
  ASSERT_EQ(pos.size(), 1u);
  EXPECT_EQ(pos[0].position, -200);
  EXPECT_EQ(ControlReader::list_instances(dir_.string()), std::vector<std::string>{"unit"});
}

TEST_F(ControlFileTest, CommandsRoundTrip) {
  ControlFile cf("cmd", ControlSizes{}, layout(), dir_.string());
  cf.set_state(DaemonState::kRunning);
  std::atomic<bool> stop{false};
  std::thread daemon([&] {  // the daemon's control thread: answers every pending command
    while (!stop) {
      cf.heartbeat();
      for (std::uint32_t i = 0; i < cf.command_slots(); ++i) {
        CommandSlot* c = cf.command_slot(i);
        if (c->state.load() != static_cast<std::uint32_t>(CommandState::kPending)) continue;
        c->ok = c->op == CommandOp::kSetRisk ? 1 : 0;
        put_text(c->result, std::string("did ") + std::string(get_text(c->key)) + "=" + std::string(get_text(c->value)));
        c->state.store(static_cast<std::uint32_t>(CommandState::kDone), std::memory_order_release);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  ControlReader r("cmd", dir_.string());
  const auto a = r.command(CommandOp::kSetRisk, "risk.max_position", "100");
  EXPECT_TRUE(a.ok);
  EXPECT_EQ(a.message, "did risk.max_position=100");
  const auto b = r.command(CommandOp::kHalt);
  EXPECT_FALSE(b.ok);
  stop = true;
  daemon.join();
  const auto c = r.command(CommandOp::kHalt, "", "", 50);
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.message.find("no answer"), std::string::npos) << c.message;
}

TEST_F(ControlFileTest, ClearErrors) {
  try {
    ControlReader r("absent", dir_.string());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no hftd instance 'absent' is running"), std::string::npos) << e.what();
  }
  {
    ControlFile cf("live", ControlSizes{}, layout(), dir_.string());
    cf.heartbeat();
    try {
      ControlFile again("live", ControlSizes{}, layout(), dir_.string());
      FAIL() << "a second daemon with the same instance must be refused";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("already running"), std::string::npos) << e.what();
    }
    // Another layout version.
    cf.header().layout_version = 99;
    try {
      ControlReader r("live", dir_.string());
      FAIL();
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("layout version 99"), std::string::npos) << e.what();
    }
    cf.header().layout_version = kLayoutVersion;
    // A stale file: its process is gone.
    cf.header().pid = 999'999'9;
    try {
      ControlReader r("live", dir_.string());
      FAIL();
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("stale control file"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(ControlReader("live", dir_.string(), true)) << "readable on request";
    // A new daemon replaces a stale file.
    EXPECT_NO_THROW(ControlFile("live", ControlSizes{}, layout(), dir_.string()));
  }
  // Owned by another user: refused.
  {
    ControlFile cf("theirs", ControlSizes{}, layout(), dir_.string());
    cf.heartbeat();
    if (::getuid() == 0 && ::chown(cf.path().c_str(), 12345, 12345) == 0) {
      try {
        ControlReader r("theirs", dir_.string());
        FAIL();
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
      }
    }
  }
}

}  // namespace
}  // namespace hft::control
