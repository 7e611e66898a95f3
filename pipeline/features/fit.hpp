#pragma once
// Offline fits over a day of book events, whose results the online features look up
// (docs/features.md): Stoikov's micro-price adjustment table (micro_price_stoikov) and the level
// weights of the integrated OFI (ofi_integrated). Not on the hot path: these allocate.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/features/features.hpp"

namespace hft::features {

// ---- Stoikov (2018), "The micro-price: a high-frequency estimator of future prices" ----------
//
// The state of a book is (imbalance bucket, spread in ticks): I = Q_b / (Q_b + Q_a) at level 1 in
// `imbalance_buckets` equal buckets of [0, 1], the spread 1..spread_buckets ticks. Between
// successive observations of a stock whose state or mid differ, a transition either keeps the mid
// (into Q, among the transient states) or moves it by dM (into R2 for the state after it, and the
// sum of dM per starting state into r). Every observation also counts mirrored (I -> 1 - I,
// dM -> -dM), the paper's symmetrization. Then
//   G1 = (1 - Q)^-1 r            the expected mid change at the next mid move,
//   B  = (1 - Q)^-1 R2           the state after that move,
//   G  = G1 + B G1 + B^2 G1 + ... the micro-price adjustment: micro-price = mid + G(I, S).
// Rows of states never seen, and of states from which no mid move was seen, are 0.
// StoikovTable: features.hpp (a parameter of the engine).

// The state index (spread ticks - 1) * buckets + bucket of a depth, or -1 (one-sided, no shares,
// a spread off the tick grid or beyond spread_buckets ticks).
[[nodiscard]] int stoikov_state(const Depth& d, std::uint32_t imbalance_buckets, std::uint32_t spread_buckets,
                                std::uint32_t tick) noexcept;

class StoikovFitter {
 public:
  StoikovFitter(std::uint32_t imbalance_buckets, std::uint32_t spread_buckets, std::uint32_t tick,
                std::uint32_t max_locate);
  // After each book event of `locate`: its depth now.
  void observe(std::uint16_t locate, const Depth& d);
  [[nodiscard]] StoikovTable fit() const;
  [[nodiscard]] std::uint64_t transitions() const noexcept { return transitions_; }
  [[nodiscard]] std::uint64_t mid_moves() const noexcept { return mid_moves_; }

 private:
  void count(int from, int to, double dm, bool moved);
  std::uint32_t nb_, ns_, tick_, n_;
  std::vector<int> last_state_;             // by locate, -1 none
  std::vector<std::int64_t> last_mid2_;     // by locate
  std::vector<double> q_, r2_, r_, total_;  // counts: n x n, n x n, n, n
  std::uint64_t transitions_ = 0, mid_moves_ = 0;
};

// ---- Cont, Cucuringu & Zhang (2023), "Cross-impact of order flow imbalance": integrated OFI --
//
// The multi-level OFI vector (e_1..e_5, Cont-Kukanov-Stoikov per level) of each stock summed over
// intervals of `interval_ns`, each divided by the stock's average depth per level over the
// interval's events (levels 1..5, both sides); the weights are the first principal component of
// these vectors over the day (their covariance's top eigenvector), signed so they sum positive and
// scaled to L1 = 1.
class OfiPcaFitter {
 public:
  OfiPcaFitter(std::uint64_t interval_ns, std::uint32_t max_locate);
  // After each book event of `locate`: the depth before and after it.
  void observe(std::uint16_t locate, std::uint64_t ts, const Depth& before, const Depth& after);
  void finish();  // closes every open interval
  // A normalized OFI vector added directly (tests; the fitter's own intervals call this).
  void add(const std::array<double, 5>& x);
  [[nodiscard]] std::uint64_t samples() const noexcept { return n_; }
  // The weights, and the share of the variance the component explains; empty without 2 samples
  // or with no variance.
  struct Result {
    std::array<double, 5> weights{};
    double explained = 0;
  };
  [[nodiscard]] std::optional<Result> fit() const;

 private:
  struct Open {
    std::uint64_t end = 0;  // 0: no interval open
    std::array<double, 5> e{};
    double depth_sum = 0;
    std::uint64_t events = 0;
  };
  void close(Open& o);
  std::uint64_t interval_;
  std::vector<Open> open_;
  std::uint64_t n_ = 0;
  std::array<double, 5> sum_{};
  std::array<std::array<double, 5>, 5> sum2_{};
};

// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: the eigenvalues (descending)
// and eigenvectors (columns, in the same order).
template <std::size_t N>
struct SymmetricEigen {
  std::array<double, N> values{};
  std::array<std::array<double, N>, N> vectors{};  // vectors[row][k]: component row of eigenvector k
};
[[nodiscard]] SymmetricEigen<5> symmetric_eigen(const std::array<std::array<double, 5>, 5>& a);

}  // namespace hft::features
