#include "pipeline/control/control_file.hpp"
#include "pipeline/control/risk_block.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <fmt/format.h>

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
    // A stale heartbeat: hung or stopped, but its owner still holds the file.
    cf.header().heartbeat_realtime_ns.store(1);
    try {
      ControlReader r("live", dir_.string());
      FAIL();
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("stale control file"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("has not updated it"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(ControlReader("live", dir_.string(), true)) << "readable on request";
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

// Issue 18, finding 3: the owner of an instance is whoever holds the control file's lock, which the
// kernel drops only when that process dies. A living owner whose heartbeat stopped (SIGSTOP, a
// hang) is never displaced, and the refused newcomer leaves its file alone.
TEST_F(ControlFileTest, AStaleHeartbeatNeverDisplacesALivingOwner) {
  ControlFile owner("held", ControlSizes{}, layout(), dir_.string());
  owner.counter("orders.sent")->value.store(290);
  owner.set_state(DaemonState::kRunning);
  owner.header().heartbeat_realtime_ns.store(1);  // as if stopped for decades
  try {
    ControlFile second("held", ControlSizes{}, layout(), dir_.string());
    FAIL() << "a second owner took the name of a living one";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(fmt::format("already running (pid {})", ::getpid())), std::string::npos)
        << e.what();
  }
  ASSERT_TRUE(fs::exists(owner.path())) << "the refused newcomer removed the owner's file";
  owner.heartbeat();
  ControlReader r("held", dir_.string());
  EXPECT_TRUE(r.alive());
  EXPECT_EQ(r.header().pid, ::getpid());
  EXPECT_EQ(r.counter("orders.sent"), 290u) << "the owner's file was replaced";
}

// The kernel's word, not the pid's: a file whose pid field names a living process but whose lock
// is free (its owner died; the pid was reused) is stale, and a new owner takes it.
TEST_F(ControlFileTest, ADeadOwnersFileIsTakenOver) {
  const std::string path = control_path("dead", dir_.string());
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    {
      ControlFile cf("dead", ControlSizes{}, layout(), dir_.string());
      cf.header().pid = static_cast<std::int32_t>(::getppid());  // a pid that lives on
      cf.heartbeat();
      ::raise(SIGKILL);  // dies holding the file: no destructor runs
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_TRUE(fs::exists(path)) << "the dead owner left its file";
  try {
    ControlReader r("dead", dir_.string());
    FAIL() << "a file without a living owner read as alive";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("stale control file"), std::string::npos) << e.what();
  }
  ControlFile cf("dead", ControlSizes{}, layout(), dir_.string());
  cf.heartbeat();
  ControlReader r("dead", dir_.string());
  EXPECT_TRUE(r.alive());
  EXPECT_EQ(r.header().pid, ::getpid());
}

}  // namespace
}  // namespace hft::control
