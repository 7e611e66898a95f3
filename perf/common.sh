# Shared by the perf/ scripts (sourced, not run). Every script works from the repository root.
# shellcheck shell=bash

HFT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -f "$HFT_ROOT/CMakeLists.txt" ]]; then
  # A source tree: the release build's programs, output under build/.
  cd "$HFT_ROOT"
  HFT_BIN=build/release/bin
else
  # Installed (PREFIX/share/hft/perf): the programs of the same prefix, output under the
  # current directory.
  HFT_BIN="$(cd "$HFT_ROOT/../.." && pwd)/bin"
fi

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# Exit code 77 means "cannot run here" (the test treats it as a skip, as automake and liburing do).
skip() {
  echo "$(basename "$0"): skipped: $*" >&2
  exit 77
}

need() {
  command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed${2:+ ($2)}"
}

# The replay workload: `hft-itch bench` (tools/hft-itch). $HFT_ITCH, else the release build's.
find_itch() {
  local bin="${HFT_ITCH:-$HFT_BIN/hft-itch}"
  [[ -x "$bin" ]] || die "no hft-itch at $bin: build it (cmake --preset release && cmake --build --preset release --target hft-itch -j2) or set HFT_ITCH"
  echo "$bin"
}

# A synthetic day of N messages, made once per N (hft-itch gen is deterministic for a seed). Run
# from the output directory, so an instrumented (-pg) generator drops its gmon.out there.
make_day() {
  local itch="$1" messages="$2" dir="$3"
  local abs_dir abs_itch file
  abs_dir=$(cd "$dir" && pwd)
  abs_itch=$(cd "$(dirname "$itch")" && pwd)/$(basename "$itch")
  file="$abs_dir/day-${messages}.itch"
  if [[ ! -s "$file" ]]; then
    (cd "$abs_dir" && "$abs_itch" gen --out "$file" --messages "$messages" --stocks 100 --seed 1 >/dev/null && rm -f gmon.out)
  fi
  echo "$file"
}

# valgrind 3.19 cannot decode AVX-512 (EVEX): on a host that has it, build TARGET once for x86-64-v3
# (AVX2) in build/callgrind and print its path; elsewhere print nothing (use the release build's).
# One configuration for every script (benchmarks on), so the scripts never reconfigure each other.
portable_build() {
  local target="$1" out="$2"
  grep -qw avx512f /proc/cpuinfo || return 0
  echo "AVX-512 host: building $target for x86-64-v3 in build/callgrind (valgrind cannot run AVX-512 code)" >&2
  cmake -S . -B build/callgrind -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CXX_FLAGS_RELEASE=-O3 -DNDEBUG -g1 -fno-omit-frame-pointer" -DCMAKE_CXX_FLAGS=-march=x86-64-v3 \
    -DHFT_NATIVE=OFF -DHFT_WERROR=ON -DHFT_BUILD_TESTS=OFF -DHFT_BUILD_BENCH=ON >"$out/callgrind-configure.log" 2>&1 ||
    { cat "$out/callgrind-configure.log" >&2; die "configuring build/callgrind failed"; }
  cmake --build build/callgrind --target "$target" -j "${HFT_JOBS:-2}" >&2 || die "building build/callgrind failed"
  echo "build/callgrind/bin/$target"
}
