#!/usr/bin/env bash
# The project's two entry points (README "Quick start"):
#   tools/quickstart.sh demo   set up, build (release), run the main job
#   tools/quickstart.sh test   set up, build (release, and hft-itch for gprof and callgrind), run
#                              every test of the release build while the asan preset
#                              (AddressSanitizer + UBSan) builds in the background, then run its tests
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
if [ "$mode" != demo ] && [ "$mode" != test ]; then
  echo "usage: tools/quickstart.sh demo|test" >&2
  exit 2
fi

jobs=$(nproc 2>/dev/null || echo 2)
t0=$(date +%s)
# Each step says when it starts (seconds since the script started): the CI log's phase times.
step() { printf '\n==> [%4ds] %s\n' "$(($(date +%s) - t0))" "$*"; }

step "set-up (Debian packages: the build's now, the rest in the background during the release build)"
bash tools/setup.sh build
mkdir -p build
bash tools/setup.sh all >build/setup.log 2>&1 &
setup_pid=$!
asan_pid=""
# Never leave apt half-done: a failed build still waits for the background set-up. A background
# asan build (test mode) is stopped.
trap '[ -n "${asan_pid:-}" ] && kill -TERM -- "-$asan_pid" 2>/dev/null; [ -n "${setup_pid:-}" ] && wait "$setup_pid" 2>/dev/null || true' EXIT
finish_setup() {
  step "set-up (the rest of the Debian packages)"
  if ! wait "$setup_pid"; then
    cat build/setup.log >&2
    echo "tools/setup.sh failed (log above, build/setup.log)" >&2
    exit 1
  fi
  setup_pid=""
  tail -n 1 build/setup.log
}

step "release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"

if [ "$mode" = test ]; then
  # The asan build runs from here on in the background at the lowest CPU priority (nice 19, its own
  # session so that it can be stopped as a whole): it takes the CPU the next steps leave idle (the
  # rest of the set-up downloading, the release tests waiting on sockets, timers and child
  # processes) and yields it to them otherwise. The asan tests wait for it.
  step "asan build (AddressSanitizer + UndefinedBehaviorSanitizer) starts in the background: build/asan-build.log"
  cmake --preset asan >/dev/null
  setsid nice -n 19 cmake --build --preset asan -j "$jobs" >build/asan-build.log 2>&1 </dev/null &
  asan_pid=$!
fi
finish_setup

if [ "$mode" = demo ]; then
  step "loopback trading demo: hft-exchange + hftd"
  exec bash tools/demo.sh
fi

step "profiling builds (gprof preset; a portable hft-itch for valgrind): the perf/ script tests use them"
HFT_JOBS=$jobs bash perf/gprof.sh --build-only
HFT_JOBS=$jobs bash perf/callgrind.sh --build-only

step "release tests"
ctest --preset release -j "$jobs"

step "asan build (AddressSanitizer + UndefinedBehaviorSanitizer): waiting for the background build"
if ! wait "$asan_pid"; then
  asan_pid=""
  tail -n 100 build/asan-build.log >&2
  echo "the asan build failed (log above, build/asan-build.log)" >&2
  exit 1
fi
asan_pid=""
tail -n 1 build/asan-build.log
# Whatever the background build left (nothing when it finished), at the normal priority.
cmake --build --preset asan -j "$jobs"

step "asan tests"
ctest --preset asan -j "$jobs"
step "done"
