// Replays a libFuzzer corpus through LLVMFuzzerTestOneInput without clang: every file of the
// given directories, then (with --mutations N) N deterministic mutations of them (bit flips,
// truncations, byte insertions, splices), so CI exercises each target beyond its seeds. A crash
// or sanitizer report fails the test; a missing or empty corpus is an error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::vector<std::vector<std::uint8_t>> corpus;
  long mutations = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mutations") == 0 && i + 1 < argc) {
      mutations = std::strtol(argv[++i], nullptr, 10);
      continue;
    }
    const std::filesystem::path dir(argv[i]);
    if (!std::filesystem::is_directory(dir)) {
      std::fprintf(stderr, "corpus directory not found: %s\n", argv[i]);
      return 2;
    }
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "no corpus files given\n");
    return 2;
  }
  for (const auto& input : corpus) LLVMFuzzerTestOneInput(input.data(), input.size());

  std::mt19937_64 rng(20261121);
  std::vector<std::uint8_t> buf;
  for (long m = 0; m < mutations; ++m) {
    buf = corpus[rng() % corpus.size()];
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 5) {
        case 0:  // flip a bit
          if (!buf.empty()) buf[rng() % buf.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
          break;
        case 1:  // overwrite a byte with an interesting value
          if (!buf.empty()) {
            static constexpr std::uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, ' ', 'A', 'S'};
            buf[rng() % buf.size()] = kInteresting[rng() % sizeof kInteresting];
          }
          break;
        case 2:  // truncate
          if (!buf.empty()) buf.resize(rng() % buf.size());
          break;
        case 3:  // insert random bytes
          buf.insert(buf.begin() + static_cast<long>(buf.empty() ? 0 : rng() % buf.size()), 1 + rng() % 4,
                     static_cast<std::uint8_t>(rng()));
          break;
        default: {  // splice with another input
          const auto& other = corpus[rng() % corpus.size()];
          if (!other.empty()) {
            const std::size_t from = rng() % other.size();
            buf.insert(buf.end(), other.begin() + static_cast<long>(from), other.end());
          }
        }
      }
    }
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
  }
  std::printf("replayed %zu corpus inputs and %ld mutations\n", corpus.size(), mutations);
  return 0;
}
