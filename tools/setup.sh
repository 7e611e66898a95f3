#!/usr/bin/env bash
# Installs every Debian package the project needs to build, test, run the demo and profile
# (`tools/setup.sh build`: only those the build needs).
# Idempotent: when every package is present it changes nothing and makes no network call.
# Works as root on a fresh Debian 12 (bookworm); as another user it uses sudo when present.
set -euo pipefail

# What configuring and building the release and asan presets needs (`tools/setup.sh build`): CI
# installs these first and the rest while the first build runs (tools/quickstart.sh).
build_packages=(
  cmake ninja-build pkg-config g++
  # the linker (cmake/HftOptions.cmake: mold, else lld, else GNU ld)
  mold
  liburing-dev libnuma-dev libhwloc-dev libboost-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libpcap-dev libsystemd-dev nlohmann-json3-dev
  libsqlite3-dev
)

packages=(
  "${build_packages[@]}"
  # the fuzz preset
  clang-14 libclang-rt-14-dev
  # core set
  hwloc numactl
  # protocol checks, latency floor, profiling, plotting, metrics checks
  tshark sockperf valgrind linux-perf gnuplot-nox prometheus iproute2 procps
  # the fault test of tests/tools/netem_test.sh where the kernel has no sch_netem (nft on the veth)
  nftables
  # systemd-analyze verify of the service units (tests/tools/systemd); the Debian package
  # (CPack: dpkg-shlibdeps computes Depends, file finds the ELF programs)
  systemd dpkg-dev file
  # the demo's per-strategy lines (tools/demo.sh reads hftctl's --json)
  jq
  # data and access (docs/data.md): SQLite and ClickHouse back ends of hft-journal load, the
  # dashboard's headless-browser test
  sqlite3 clickhouse-server chromium
  # hft-backtest sweep --slurm: its test starts a one-node Slurm cluster (slurmctld, slurmd, munged)
  slurm-wlm munge
)
case "${1:-all}" in
  build) packages=("${build_packages[@]}") ;;
  all) ;;
  *) echo "usage: tools/setup.sh [build|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: missing packages (${missing[*]}) and not root: run as root or install sudo" >&2
    exit 1
  fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for a non-interactive install.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
