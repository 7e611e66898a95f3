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
