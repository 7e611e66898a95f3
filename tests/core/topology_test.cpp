#include "core/topology.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <thread>

namespace hft::core {
namespace {

TEST(Topology, ParsesKernelCpuLists) {
  std::vector<int> v;
  EXPECT_TRUE(parse_cpu_list("0-3,8,10-11\n", v));
  EXPECT_EQ(v, (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_TRUE(parse_cpu_list("", v));
  EXPECT_TRUE(v.empty());
  EXPECT_TRUE(parse_cpu_list("5", v));
  EXPECT_EQ(v, (std::vector<int>{5}));
  EXPECT_FALSE(parse_cpu_list("3-1", v));
  EXPECT_FALSE(parse_cpu_list("a", v));
  EXPECT_FALSE(parse_cpu_list("1,,2", v));
}

TEST(Topology, DiscoversEveryCpuOfTheHost) {
  const Topology t = Topology::discover();
  EXPECT_EQ(static_cast<long>(t.cpus.size()), ::sysconf(_SC_NPROCESSORS_CONF));
  EXPECT_GE(t.cores, 1);
  EXPECT_GE(t.numa_nodes, 1);
  EXPECT_FALSE(t.allowed.empty());
  EXPECT_FALSE(t.caches.empty());
  for (const auto& c : t.cpus) {
    EXPECT_GE(c.os_index, 0);
    EXPECT_GE(c.numa_node, 0);
    for (int s : c.smt_siblings) {
      const CpuInfo* sib = t.cpu(s);
      ASSERT_NE(sib, nullptr);
      EXPECT_EQ(sib->core, c.core) << "SMT siblings share a core";
    }
  }
  EXPECT_EQ(t.isolated, read_isolated_cpus());
  EXPECT_NE(t.describe().find("CPUs"), std::string::npos);
}

TEST(Topology, PinsAndNamesTheCallingThread) {
  std::thread th([] {
    const auto pin = pin_current_thread(0);
    EXPECT_TRUE(pin.ok) << pin.message;
    EXPECT_EQ(current_cpu(), 0);
    const auto named = name_current_thread("hft-a-very-long-thread-name");
    EXPECT_TRUE(named.ok) << named.message;
    char buf[32] = {};
    pthread_getname_np(pthread_self(), buf, sizeof(buf));
    EXPECT_STREQ(buf, "hft-a-very-long");
  });
  th.join();
  EXPECT_FALSE(pin_current_thread(100000).ok);
}

TEST(Topology, FifoEitherWorksOrSaysWhatToGrant) {
  std::thread th([] {
    const auto r = set_current_thread_fifo(10);
    if (!r.ok) {
      EXPECT_NE(r.message.find("CAP_SYS_NICE"), std::string::npos) << r.message;
    } else {
      int policy = 0;
      sched_param sp{};
      pthread_getschedparam(pthread_self(), &policy, &sp);
      EXPECT_EQ(policy, SCHED_FIFO);
      EXPECT_EQ(sp.sched_priority, 10);
    }
  });
  th.join();
  EXPECT_FALSE(set_current_thread_fifo(0).ok);
}

}  // namespace
}  // namespace hft::core
