# Compiler flags shared by every target, as an interface target so they stay private to this project.
add_library(hft_options INTERFACE)
add_library(hft::options ALIAS hft_options)

target_compile_options(hft_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wimplicit-fallthrough -fno-plt)
if(HFT_WERROR)
  target_compile_options(hft_options INTERFACE -Werror)
endif()
if(HFT_NATIVE)
  target_compile_options(hft_options INTERFACE -march=native)
endif()
if(HFT_SANITIZE)
  target_compile_options(hft_options INTERFACE -fsanitize=${HFT_SANITIZE} -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(hft_options INTERFACE -fsanitize=${HFT_SANITIZE})
  target_compile_definitions(hft_options INTERFACE HFT_SANITIZED=1)
endif()
if(HFT_BUILD_FUZZ)
  # libFuzzer is guided by coverage: the libraries under test need the instrumentation too, not
  # only the fuzz target's own file (which links -fsanitize=fuzzer itself).
  target_compile_options(hft_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(hft_options INTERFACE -fsanitize=address,undefined)
endif()
if(HFT_GPROF)
  target_compile_options(hft_options INTERFACE -pg -fno-omit-frame-pointer -fno-inline-functions-called-once)
  target_link_options(hft_options INTERFACE -pg)
endif()

# Where the real protocol bytes live (../shared/data beside the checkout); tests skip when absent.
set(HFT_SHARED_DATA_DIR "${PROJECT_SOURCE_DIR}/../shared/data" CACHE PATH "Directory of shared NASDAQ sample data")

# CI time (docs/build.md#ci-time). Unity builds of the test binaries: each one's sources are
# compiled in batches of HFT_UNITY_BATCH files per translation unit (tests/CMakeLists.txt), so the
# headers they share (GoogleTest, the pipeline's, the standard library's) are parsed and their
# inline code generated once per batch. -DHFT_UNITY=OFF compiles file by file (quicker rebuilds of
# one edited test). Two test files of one binary that define the same name in an anonymous
# namespace cannot share a unit: rename one (the usual fix), or set SKIP_UNITY_BUILD_INCLUSION on
# it in its tests/<area>/CMakeLists.txt.
option(HFT_UNITY "Unity builds of the test binaries (batches of HFT_UNITY_BATCH sources)" ON)
set(HFT_UNITY_BATCH 8 CACHE STRING "Sources per unity translation unit")

# The linker: mold, else lld, where the compiler accepts it (the many test binaries link the
# whole appliance each: GNU ld took twice mold's CPU and three times its wall time on one,
# docs/build.md). HFT_LINKER=default keeps the compiler's.
set(HFT_LINKER "auto" CACHE STRING "auto (mold, then lld), mold, lld or default")
include(CheckLinkerFlag)
if(HFT_LINKER STREQUAL "auto")
  check_linker_flag(CXX "-fuse-ld=mold" HFT_HAVE_MOLD)
  check_linker_flag(CXX "-fuse-ld=lld" HFT_HAVE_LLD)
  if(HFT_HAVE_MOLD)
    set(_hft_ld mold)
  elseif(HFT_HAVE_LLD)
    set(_hft_ld lld)
  endif()
elseif(NOT HFT_LINKER STREQUAL "default")
  set(_hft_ld ${HFT_LINKER})
endif()
if(_hft_ld)
  add_link_options(-fuse-ld=${_hft_ld})
  message(STATUS "hft: linking with ${_hft_ld}")
endif()
