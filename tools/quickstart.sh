#!/usr/bin/env bash
# The project's two entry points (README "Quick start"):
#   tools/quickstart.sh demo   set up, build (release), run the main job
#   tools/quickstart.sh test   set up, build (release, and hft-itch for gprof and callgrind), run
#                              every test of the release build, then build the asan preset
#                              (AddressSanitizer + UBSan) and run its tests
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
if [ "$mode" != demo ] && [ "$mode" != test ]; then
  echo "usage: tools/quickstart.sh demo|test" >&2
  exit 2
fi

jobs=$(nproc 2>/dev/null || echo 2)
step() { printf '\n==> %s\n' "$*"; }

step "set-up (Debian packages)"
bash tools/setup.sh

step "release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"

if [ "$mode" = demo ]; then
  step "loopback trading demo: hft-exchange + hftd"
  exec bash tools/demo.sh
fi

step "profiling builds (gprof preset; a portable hft-itch for valgrind): the perf/ script tests use them"
HFT_JOBS=$jobs bash perf/gprof.sh --build-only
HFT_JOBS=$jobs bash perf/callgrind.sh --build-only

step "release tests"
ctest --preset release -j "$jobs"

step "asan build (AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"

step "asan tests"
ctest --preset asan -j "$jobs"
