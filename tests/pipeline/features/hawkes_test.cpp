// Hawkes processes: Ogata-thinning simulations with known parameters, recovered by the
// maximum-likelihood fits; the power-law kernel's sum of exponentials against the power law.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "pipeline/features/hawkes.hpp"

namespace hft::features::hawkes {
namespace {

// Tolerances: with N events the MLE's relative standard error is about 1/sqrt(N)-ish times a
// factor of a few for alpha and beta; the runs below have 20-25 thousand events, and the bounds
// are 10 % (univariate) and 15 % (bivariate), several standard errors.
TEST(Hawkes, UnivariateFitRecoversTheSimulatedParameters) {
  const ExpParams truth{0.5, 0.8, 1.6};  // branching ratio 0.5: 1 event/s on average
  Realization r;
  r.horizon = 20'000;
  r.times = simulate(truth.mu, Kernel::exponential(truth.alpha, truth.beta), r.horizon, 42);
  const double expected = truth.mu * r.horizon / (1 - truth.alpha / truth.beta);
  EXPECT_NEAR(double(r.times.size()), expected, 0.05 * expected);
  ASSERT_TRUE(std::is_sorted(r.times.begin(), r.times.end()));
  const FitResult f = fit({r});
  std::printf("univariate: %zu events, mu %.4f alpha %.4f beta %.4f (truth 0.5 0.8 1.6), %d evaluations\n", f.events,
              f.params.mu, f.params.alpha, f.params.beta, f.evaluations);
  EXPECT_NEAR(f.params.mu, truth.mu, 0.1 * truth.mu);
  EXPECT_NEAR(f.params.alpha, truth.alpha, 0.1 * truth.alpha);
  EXPECT_NEAR(f.params.beta, truth.beta, 0.1 * truth.beta);
  // the maximum beats the truth's likelihood (it is a maximum), by little
  const double at_truth = log_likelihood(r, truth);
  EXPECT_GE(f.log_likelihood, at_truth);
  EXPECT_LT(f.log_likelihood - at_truth, 20.0);
}

TEST(Hawkes, LogLikelihoodEqualsTheDirectSum) {
  // sum_i log(lambda(t_i)) - int_0^T lambda, with lambda summed over all earlier events
  const Realization r{{0.1, 0.5, 0.55, 2.0, 2.01, 2.02, 7.5}, 10.0};
  const ExpParams p{0.3, 1.2, 2.5};
  double ll = -p.mu * r.horizon;
  for (std::size_t i = 0; i < r.times.size(); ++i) {
    double lambda = p.mu;
    for (std::size_t j = 0; j < i; ++j) lambda += p.alpha * std::exp(-p.beta * (r.times[i] - r.times[j]));
    ll += std::log(lambda) - p.alpha / p.beta * (1 - std::exp(-p.beta * (r.horizon - r.times[i])));
  }
  EXPECT_NEAR(log_likelihood(r, p), ll, 1e-12 * std::fabs(ll));
}

TEST(Hawkes, BivariateFitRecoversTheSimulatedParameters) {
  BiParams truth;
  truth.mu = {0.3, 0.4};
  truth.alpha = {{{0.6, 0.3}, {0.2, 0.8}}};
  truth.beta = {2.0, 2.5};
  BiRealization r;
  r.horizon = 20'000;
  r.times = simulate(truth, r.horizon, 7);
  ASSERT_GT(r.times[0].size(), 10'000u);
  ASSERT_GT(r.times[1].size(), 10'000u);
  const BiFitResult f = fit(std::vector<BiRealization>{r});
  for (int m = 0; m < 2; ++m) {
    std::printf("bivariate %d: %zu events, mu %.4f alpha %.4f %.4f beta %.4f\n", m, f.events[m], f.params.mu[m],
                f.params.alpha[m][0], f.params.alpha[m][1], f.params.beta[m]);
    EXPECT_NEAR(f.params.mu[m], truth.mu[m], 0.15 * truth.mu[m]) << m;
    EXPECT_NEAR(f.params.beta[m], truth.beta[m], 0.15 * truth.beta[m]) << m;
    for (int n = 0; n < 2; ++n) EXPECT_NEAR(f.params.alpha[m][n], truth.alpha[m][n], 0.15 * truth.alpha[m][n]) << m << n;
    EXPECT_GE(f.log_likelihood[m], log_likelihood(r, truth, m));
  }
}

TEST(Hawkes, PowerLawKernelAsASumOfExponentials) {
  const double n = 0.6, theta = 0.5, tau0 = 1e-3;
  const Kernel k = Kernel::power_law(n, theta, tau0);
  EXPECT_NEAR(k.integral(), n, 1e-12);
  // within 1 % of the power law from 0 to tau0 * 3^16 (43,047 seconds here)
  double worst = 0;
  for (double t = 0; t < tau0 * std::pow(3.0, 16); t = t == 0 ? tau0 / 100 : t * 1.05) {
    const double want = n * theta * std::pow(tau0, theta) / std::pow(t + tau0, 1 + theta);
    worst = std::max(worst, std::fabs(k(t) / want - 1));
  }
  std::printf("power law, 24 exponentials: worst relative error %.4f\n", worst);
  EXPECT_LT(worst, 0.01);

  // the O(terms) recursion equals the sum over all earlier events
  const std::vector<double> ev{0.0, 0.001, 0.0011, 0.5, 3.0, 3.0, 40.0};
  Excitation ex(k);
  for (std::size_t i = 0; i < ev.size(); ++i) {
    const double t = ev[i] + 0.25;
    if (i > 0) {
      double direct = 0;
      for (std::size_t j = 0; j < i; ++j) direct += k(ev[i - 1] + 0.25 - ev[j]);
      EXPECT_NEAR(ex.at(ev[i - 1] + 0.25), direct, 1e-12 * direct);
    }
    ex.add_event(ev[i]);
    (void)t;
  }

  // a simulation with it: events / time = mu / (1 - n)
  const auto times = simulate(0.5, k, 20'000, 3);
  const double rate = double(times.size()) / 20'000;
  EXPECT_NEAR(rate, 0.5 / (1 - n), 0.1 * 0.5 / (1 - n));
}

TEST(Hawkes, NelderMeadOnRosenbrock) {
  const Minimum m = nelder_mead(
      [](const std::vector<double>& x) {
        return 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]) + (1 - x[0]) * (1 - x[0]);
      },
      {-1.2, 1.0}, {0.5, 0.5}, 1e-15);
  EXPECT_NEAR(m.x[0], 1.0, 1e-4);
  EXPECT_NEAR(m.x[1], 1.0, 1e-4);
  EXPECT_THROW((void)fit(std::vector<Realization>{}), std::invalid_argument);
}

}  // namespace
}  // namespace hft::features::hawkes
