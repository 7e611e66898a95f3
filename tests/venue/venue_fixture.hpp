#pragma once
// A venue driven step by step from the test thread, with OUCH clients and a feed receiver: every
// wait is a bounded poll, nothing sleeps.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include "core/log.hpp"
#include "venue/venue.hpp"
#include "tests/venue/venue_test_util.hpp"

namespace hft::venue::testing {

class VenueFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_sinks_ = core::logger().sinks();
    core::logger().sinks() = {std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)};
  }
  void TearDown() override {
    // Whatever a test did, the order-entry table holds exactly the client orders on the books.
    if (venue_) {
      EXPECT_EQ(venue_->summary().client_orders, venue_->resting_client_orders());
    }
    for (auto& c : clients_) c->disconnect();
    if (venue_) {
      venue_->stop();
      venue_->finish();
    }
    clients_.clear();
    venue_.reset();
    core::logger().sinks() = saved_sinks_;
    if (HasFailure() || std::getenv("HFT_TEST_SHOW_LOG") != nullptr) std::cerr << log_.str();
  }

  Venue& make(const std::function<void(VenueConfig&)>& tweak = {}, int drop_every = 0) {
    feed_ = std::make_unique<FeedReceiver>(drop_every);
    VenueConfig c = test_config(feed_->port());
    if (tweak) tweak(c);
    venue_ = std::make_unique<Venue>(c);
    feed_->set_rerequest(venue_->rerequest_endpoint());
    venue_->start();
    return *venue_;
  }

  OuchClient& connect(const std::string& user, const std::string& password, std::uint64_t next_sequence = 1,
                      const std::string& session = "") {
    clients_.push_back(std::make_unique<OuchClient>(user, password, venue_->ouch_endpoint(), next_sequence, session));
    return *clients_.back();
  }
  OuchClient& login(const std::string& user, const std::string& password, std::uint64_t next_sequence = 1,
                    const std::string& session = "") {
    OuchClient& c = connect(user, password, next_sequence, session);
    EXPECT_TRUE(run([&] { return c.logged_in(); })) << user << " did not log in";
    return c;
  }

  void step() {
    venue_->step(1'000'000);
    for (auto& c : clients_) c->poll(0);
    feed_->poll(0);
  }
  bool run(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
    return run_until([&] { step(); }, done, limit);
  }
  // Lets in-flight messages land (a few round trips on loopback).
  void settle(int passes = 20) {
    for (int i = 0; i < passes; ++i) step();
  }
  // Waits until `c` has received `n` messages in all.
  bool await(OuchClient& c, std::size_t n) { return run([&] { return c.received() >= n; }); }

  [[nodiscard]] std::string symbol(std::size_t i = 0) const { return std::string(venue_->config().symbols[i].symbol.view()); }
  [[nodiscard]] ouch::Price reference(std::size_t i = 0) const {
    return static_cast<ouch::Price>(venue_->config().symbols[i].reference_price);
  }

  std::ostringstream log_;
  std::vector<spdlog::sink_ptr> saved_sinks_;
  std::unique_ptr<FeedReceiver> feed_;
  std::unique_ptr<Venue> venue_;
  std::vector<std::unique_ptr<OuchClient>> clients_;
};

}  // namespace hft::venue::testing
