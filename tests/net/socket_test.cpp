#include "net/socket.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <thread>

namespace hft::net {
namespace {

TEST(Endpoint, ParsesHostAndPort) {
  const Endpoint a = parse_endpoint("127.0.0.1:9000");
  EXPECT_EQ(a.port(), 9000);
  EXPECT_EQ(a.to_string(), "127.0.0.1:9000");
  EXPECT_FALSE(a.is_multicast());
  EXPECT_EQ(parse_endpoint("localhost:1").to_string(), "127.0.0.1:1");
  EXPECT_EQ(parse_endpoint("*:5").to_string(), "0.0.0.0:5");
  EXPECT_TRUE(parse_endpoint("239.1.2.3:30001").is_multicast());
  EXPECT_THROW(parse_endpoint("127.0.0.1"), std::invalid_argument);
  EXPECT_THROW(parse_endpoint("127.0.0.1:70000"), std::invalid_argument);
  EXPECT_THROW(parse_endpoint("host.example:80"), std::invalid_argument);
  EXPECT_THROW(parse_endpoint("1.2.3.4:x"), std::invalid_argument);
}

TEST(Udp, UnicastOnLoopback) {
  Fd rx = udp_receiver(parse_endpoint("127.0.0.1:0"));
  const Endpoint where = local_endpoint(rx.get());
  ASSERT_NE(where.port(), 0);
  Fd tx = udp_sender();
  const char msg[] = "moldudp64";
  ASSERT_EQ(::sendto(tx.get(), msg, sizeof msg, 0, reinterpret_cast<const sockaddr*>(&where.addr), sizeof where.addr),
            static_cast<ssize_t>(sizeof msg));
  char buf[64] = {};
  ssize_t n = -1;
  for (int i = 0; i < 1000 && n < 0; ++i) {
    n = ::recv(rx.get(), buf, sizeof buf, 0);
    if (n < 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof msg));
  EXPECT_STREQ(buf, msg);
}

TEST(Udp, BindFailureNamesTheEndpoint) {
  UdpOptions exclusive;
  exclusive.reuse_address = false;
  Fd first = udp_receiver(parse_endpoint("127.0.0.1:0"), exclusive);
  const Endpoint taken = local_endpoint(first.get());
  try {
    (void)udp_receiver(taken, exclusive);
    FAIL() << "binding a taken port must fail";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(taken.text), std::string::npos) << e.what();
  }
}

// Multicast needs a multicast-capable interface; the test makes its own: a private network
// namespace whose loopback is switched to multicast, so nothing leaves the machine.
TEST(Udp, MulticastJoinAndReceiveInPrivateNamespace) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(77);
    if (std::system("ip link set lo up multicast on && ip route add 239.0.0.0/8 dev lo") != 0) ::_exit(77);
    try {
      UdpOptions o;
      o.interface = "127.0.0.1";
      Fd rx = udp_receiver(parse_endpoint("239.7.7.7:31001"), o);
      Fd tx = udp_sender(o);
      const Endpoint group = parse_endpoint("239.7.7.7:31001");
      const char msg[] = "itch";
      if (::sendto(tx.get(), msg, sizeof msg, 0, reinterpret_cast<const sockaddr*>(&group.addr), sizeof group.addr) < 0)
        ::_exit(3);
      char buf[16] = {};
      for (int i = 0; i < 1000; ++i) {
        if (::recv(rx.get(), buf, sizeof buf, 0) == static_cast<ssize_t>(sizeof msg))
          ::_exit(std::strcmp(buf, msg) == 0 ? 0 : 4);
        ::usleep(1000);
      }
      ::_exit(5);
    } catch (...) {
      ::_exit(6);
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot create a network namespace here (needs root and iproute2)";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Tcp, ListenConnectAccept) {
  Fd listener = tcp_listen(parse_endpoint("127.0.0.1:0"));
  const Endpoint where = local_endpoint(listener.get());
  Fd client = tcp_connect(where, 1000);
  Fd server;
  Endpoint peer;
  for (int i = 0; i < 1000 && !server.valid(); ++i) {
    server = tcp_accept(listener.get(), TcpOptions{}, &peer);
    if (!server.valid()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(server.valid());
  EXPECT_EQ(peer.to_string(), local_endpoint(client.get()).to_string());
  ASSERT_EQ(::send(client.get(), "L", 1, 0), 1);
  char c = 0;
  ssize_t n = -1;
  for (int i = 0; i < 1000 && n < 0; ++i) {
    n = ::recv(server.get(), &c, 1, 0);
    if (n < 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(n, 1);
  EXPECT_EQ(c, 'L');
}

TEST(Tcp, ConnectToClosedPortIsAClearError) {
  Fd listener = tcp_listen(parse_endpoint("127.0.0.1:0"));
  const Endpoint where = local_endpoint(listener.get());
  listener.reset();
  try {
    (void)tcp_connect(where, 500);
    FAIL();
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(where.text), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hft::net
