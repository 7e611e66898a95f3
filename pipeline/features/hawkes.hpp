#pragma once
// Hawkes processes offline (docs/features.md): kernels that are sums of exponentials (the
// exponential kernel of the online hawkes_* columns, and a power law approximated by such a sum),
// their intensity updated in O(terms) per event, Ogata's thinning simulation, and maximum-
// likelihood fits of the univariate and the bivariate (buyer/seller-initiated) exponential model.
// Times are in seconds. Not on the hot path: these allocate.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace hft::features::hawkes {

// phi(t) = sum_k weight[k] exp(-rate[k] t), t >= 0.
struct Kernel {
  std::vector<double> weight, rate;

  // alpha exp(-beta t): branching ratio alpha / beta.
  [[nodiscard]] static Kernel exponential(double alpha, double beta);
  // The power law phi(t) = n theta tau0^theta / (t + tau0)^(1 + theta) (integral n), approximated
  // by `terms` exponentials of timescales tau0 ratio^(k-4), k = 0..terms-1 (the idea of Hardiman,
  // Bercot & Bouchaud 2013): the weights are a quadrature, on that logarithmic grid, of the exact
  // Laplace representation (t + tau0)^-(1+theta) = int s^theta e^{-s tau0} e^{-s t} ds / Gamma(1+theta),
  // scaled to integrate to n. With the defaults, within 1 % of the power law for t in
  // [0, tau0 3^16] (theta = 0.5; the test).
  [[nodiscard]] static Kernel power_law(double n, double theta, double tau0, std::size_t terms = 24,
                                        double ratio = 3.0);
  [[nodiscard]] double operator()(double t) const noexcept;
  [[nodiscard]] double integral() const noexcept;  // the branching ratio: sum weight / rate
};

// The excitation sum_i phi(t - t_i) over past events, updated in O(terms) per event or query.
class Excitation {
 public:
  explicit Excitation(const Kernel& k) : k_(&k), s_(k.weight.size(), 0.0) {}
  // The excitation at t >= the last time given (events at t not yet added).
  [[nodiscard]] double at(double t) const noexcept;
  void add_event(double t) noexcept;  // t >= the last time given

 private:
  const Kernel* k_;
  std::vector<double> s_;  // sum_i exp(-rate_k (t_last - t_i)) per term
  double t_ = 0;
};

// ---- univariate: lambda(t) = mu + sum_{t_i < t} phi(t - t_i) --------------------------------

// Ogata (1981) thinning over [0, horizon], seeded.
[[nodiscard]] std::vector<double> simulate(double mu, const Kernel& k, double horizon, std::uint64_t seed);

struct ExpParams {
  double mu = 0, alpha = 0, beta = 0;  // 1/s, 1/s, 1/s
};
// A realization: event times in [0, horizon], ascending.
struct Realization {
  std::vector<double> times;
  double horizon = 0;
};
// Exact log-likelihood of the exponential model (the O(n) recursion A_i = e^{-beta (t_i - t_{i-1})}
// (1 + A_{i-1})): sum_i log(mu + alpha A_i) - mu T - (alpha / beta) sum_i (1 - e^{-beta (T - t_i)}).
[[nodiscard]] double log_likelihood(const Realization& r, const ExpParams& p) noexcept;

struct FitResult {
  ExpParams params;
  double log_likelihood = 0;
  std::size_t events = 0;
  int evaluations = 0;
};
// Maximum likelihood over independent realizations sharing the parameters (sum of their
// log-likelihoods), by Nelder-Mead on the logarithms of (mu, alpha, beta), from several starts.
[[nodiscard]] FitResult fit(const std::vector<Realization>& data);

// ---- bivariate: lambda_m(t) = mu_m + sum_n sum_{t^n_j < t} alpha_mn exp(-beta_m (t - t^n_j)) ----
struct BiParams {
  std::array<double, 2> mu{};
  std::array<std::array<double, 2>, 2> alpha{};  // alpha[m][n]: the jump of m's intensity at an event of n
  std::array<double, 2> beta{};                  // decay of m's intensity
};
struct BiRealization {
  std::array<std::vector<double>, 2> times;  // each ascending, in [0, horizon]
  double horizon = 0;
};
[[nodiscard]] std::array<std::vector<double>, 2> simulate(const BiParams& p, double horizon, std::uint64_t seed);
// Log-likelihood of dimension m (the model's is the sum over m; each m has its own parameters).
[[nodiscard]] double log_likelihood(const BiRealization& r, const BiParams& p, int m) noexcept;
struct BiFitResult {
  BiParams params;
  std::array<double, 2> log_likelihood{};
  std::array<std::size_t, 2> events{};
};
[[nodiscard]] BiFitResult fit(const std::vector<BiRealization>& data);

// Nelder & Mead (1965) minimization of f from x0 with initial steps `step`; standard coefficients
// (reflection 1, expansion 2, contraction 1/2, shrink 1/2), stops when the simplex's values
// differ by less than tol (relative) or after max_evaluations. Returns the best point.
struct Minimum {
  std::vector<double> x;
  double value = 0;
  int evaluations = 0;
};
[[nodiscard]] Minimum nelder_mead(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x0,
                                  const std::vector<double>& step, double tol = 1e-12, int max_evaluations = 20'000);

}  // namespace hft::features::hawkes
