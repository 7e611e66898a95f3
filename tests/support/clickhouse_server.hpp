#pragma once
// A private clickhouse-server for a test: its own config, data directory and free ports on
// loopback; started in the constructor, stopped (SIGTERM, then SIGKILL) in the destructor.
// available() is false when the binary is absent (the test then skips) or it never answered.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "data/sink.hpp"
#include "tests/support/child_process.hpp"

namespace hft::testing {

class ClickHouseServer {
 public:
  static std::optional<std::filesystem::path> binary() {
    for (const char* p : {"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"})
      if (std::filesystem::exists(p)) return std::filesystem::path(p);
    return find_on_path("clickhouse-server");
  }

  explicit ClickHouseServer(const std::filesystem::path& dir) : dir_(dir) {
    const auto bin = binary();
    if (!bin) {
      why_ = "clickhouse-server is not installed (tools/setup.sh installs Debian's clickhouse-server)";
      return;
    }
    std::filesystem::create_directories(dir_ / "data");
    http_port_ = free_port(SOCK_STREAM);
    const std::uint16_t tcp = free_port(SOCK_STREAM);
    std::ofstream(dir_ / "config.xml") << fmt::format(
        R"(<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/err.log</errorlog><console>0</console></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>20</max_concurrent_queries>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
</yandex>
)",
        fmt::arg("d", dir_.string()), fmt::arg("http", http_port_), fmt::arg("tcp", tcp));
    std::ofstream(dir_ / "users.xml") << R"(<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
)";
    child_ = std::make_unique<Child>(std::vector<std::string>{bin->string(), "--config-file=" + (dir_ / "config.xml").string()},
                                     dir_ / "stdout", dir_ / "stderr");
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < end) {
      try {
        if (data::http_request("127.0.0.1", http_port_, "GET", "/ping", "", 1000).status == 200) {
          ready_ = true;
          return;
        }
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    why_ = "clickhouse-server did not answer /ping within 30 s: " + read_file(dir_ / "err.log");
  }
  ~ClickHouseServer() {
    if (child_) {
      child_->signal(SIGTERM);
      child_->finish(std::chrono::seconds(10));  // SIGKILL past that
    }
  }
  ClickHouseServer(const ClickHouseServer&) = delete;
  ClickHouseServer& operator=(const ClickHouseServer&) = delete;

  [[nodiscard]] bool available() const noexcept { return ready_; }
  [[nodiscard]] const std::string& why() const noexcept { return why_; }
  [[nodiscard]] std::string url(const std::string& database = "hft") const {
    return fmt::format("http://127.0.0.1:{}/?database={}", http_port_, database);
  }
  [[nodiscard]] std::uint16_t http_port() const noexcept { return http_port_; }

 private:
  std::filesystem::path dir_;
  std::uint16_t http_port_ = 0;
  std::unique_ptr<Child> child_;
  bool ready_ = false;
  std::string why_;
};

}  // namespace hft::testing
