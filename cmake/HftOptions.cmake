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
