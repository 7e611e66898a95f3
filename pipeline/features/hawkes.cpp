#include "pipeline/features/hawkes.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

namespace hft::features::hawkes {

// ---- kernels -----------------------------------------------------------------------------------

Kernel Kernel::exponential(double alpha, double beta) {
  if (!(alpha >= 0) || !(beta > 0)) throw std::invalid_argument("exponential kernel: alpha >= 0, beta > 0");
  return Kernel{{alpha}, {beta}};
}

Kernel Kernel::power_law(double n, double theta, double tau0, std::size_t terms, double ratio) {
  if (!(n >= 0) || !(theta > 0) || !(tau0 > 0) || terms < 2 || terms > 64 || !(ratio > 1))
    throw std::invalid_argument("power-law kernel: n >= 0, theta > 0, tau0 > 0, 2..64 terms, ratio > 1");
  // (t + tau0)^-(1+theta) = 1/Gamma(1+theta) int_0^inf s^theta e^{-s tau0} e^{-s t} ds: the integral
  // over s on a logarithmic grid s_k = ratio^(4-k) / tau0 (timescales tau0 / ratio^4 .. tau0 ratio^(terms-5)),
  // ds = s ln(ratio), then scaled so that the weights integrate to n exactly.
  Kernel k;
  const double c = n * theta * std::pow(tau0, theta) / std::tgamma(1 + theta) * std::log(ratio);
  for (std::size_t i = 0; i < terms; ++i) {
    const double s = std::pow(ratio, 4.0 - static_cast<double>(i)) / tau0;
    k.rate.push_back(s);
    k.weight.push_back(c * std::pow(s, 1 + theta) * std::exp(-s * tau0));
  }
  const double total = k.integral();
  if (total > 0)
    for (double& w : k.weight) w *= n / total;
  return k;
}

double Kernel::operator()(double t) const noexcept {
  double v = 0;
  for (std::size_t i = 0; i < weight.size(); ++i) v += weight[i] * std::exp(-rate[i] * t);
  return v;
}

double Kernel::integral() const noexcept {
  double v = 0;
  for (std::size_t i = 0; i < weight.size(); ++i) v += weight[i] / rate[i];
  return v;
}

double Excitation::at(double t) const noexcept {
  double v = 0;
  for (std::size_t i = 0; i < s_.size(); ++i) v += k_->weight[i] * s_[i] * std::exp(-k_->rate[i] * (t - t_));
  return v;
}

void Excitation::add_event(double t) noexcept {
  for (std::size_t i = 0; i < s_.size(); ++i) s_[i] = s_[i] * std::exp(-k_->rate[i] * (t - t_)) + 1.0;
  t_ = t;
}

// ---- univariate ----------------------------------------------------------------------------------

std::vector<double> simulate(double mu, const Kernel& k, double horizon, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  Excitation ex(k);
  std::vector<double> events;
  double t = 0;
  for (;;) {
    // Between events the intensity only decays (positive weights): its value now bounds it.
    const double bound = mu + ex.at(t);
    t += -std::log(1.0 - u01(rng)) / bound;
    if (t > horizon) break;
    if (u01(rng) * bound <= mu + ex.at(t)) {
      events.push_back(t);
      ex.add_event(t);
    }
  }
  return events;
}

double log_likelihood(const Realization& r, const ExpParams& p) noexcept {
  double a = 0, sum_log = 0, comp = 0, prev = 0;
  for (std::size_t i = 0; i < r.times.size(); ++i) {
    const double t = r.times[i];
    if (i > 0) a = std::exp(-p.beta * (t - prev)) * (1 + a);
    const double lambda = p.mu + p.alpha * a;
    if (!(lambda > 0)) return -std::numeric_limits<double>::infinity();
    sum_log += std::log(lambda);
    comp += 1 - std::exp(-p.beta * (r.horizon - t));
    prev = t;
  }
  return sum_log - p.mu * r.horizon - p.alpha / p.beta * comp;
}

namespace {

double total_events_rate(std::size_t events, double time) { return time > 0 ? double(events) / time : 1.0; }

}  // namespace

FitResult fit(const std::vector<Realization>& data) {
  std::size_t events = 0;
  double time = 0;
  for (const auto& r : data) {
    events += r.times.size();
    time += r.horizon;
  }
  if (events < 2 || !(time > 0)) throw std::invalid_argument("hawkes fit: fewer than 2 events");
  const double rate = total_events_rate(events, time);
  auto objective = [&](const std::vector<double>& x) {
    const ExpParams p{std::exp(x[0]), std::exp(x[1]), std::exp(x[2])};
    double ll = 0;
    for (const auto& r : data) ll += log_likelihood(r, p);
    return std::isfinite(ll) ? -ll : std::numeric_limits<double>::infinity();
  };
  // Starting decay rates: multiples of the event rate, each run roughly (tolerance 1e-6); the best
  // is refined (1e-10) and restarted from its minimum.
  Minimum best_start;
  best_start.value = std::numeric_limits<double>::infinity();
  int evaluations = 0;
  for (const double scale : {1.0, 10.0, 100.0, 1000.0}) {
    const double beta = scale * rate;
    Minimum m =
        nelder_mead(objective, {std::log(0.5 * rate), std::log(0.5 * beta), std::log(beta)}, {1.0, 1.0, 1.0}, 1e-6);
    evaluations += m.evaluations;
    if (m.value < best_start.value) best_start = m;
  }
  Minimum m = nelder_mead(objective, best_start.x, {0.3, 0.3, 0.3}, 1e-10);
  evaluations += m.evaluations;
  m = nelder_mead(objective, m.x, {0.1, 0.1, 0.1}, 1e-10);
  evaluations += m.evaluations;
  FitResult best;
  best.log_likelihood = -m.value;
  best.params = ExpParams{std::exp(m.x[0]), std::exp(m.x[1]), std::exp(m.x[2])};
  best.events = events;
  best.evaluations = evaluations;
  return best;
}

// ---- bivariate -----------------------------------------------------------------------------------

std::array<std::vector<double>, 2> simulate(const BiParams& p, double horizon, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  std::array<std::vector<double>, 2> events;
  std::array<std::array<double, 2>, 2> s{};  // s[m][n] = sum_j exp(-beta_m (t - t^n_j))
  auto intensity = [&](int m) { return p.mu[m] + p.alpha[m][0] * s[m][0] + p.alpha[m][1] * s[m][1]; };
  double t = 0;
  for (;;) {
    const double bound = intensity(0) + intensity(1);
    const double w = -std::log(1.0 - u01(rng)) / bound;
    t += w;
    if (t > horizon) break;
    for (int m = 0; m < 2; ++m) {
      const double f = std::exp(-p.beta[m] * w);
      s[m][0] *= f;
      s[m][1] *= f;
    }
    const double l0 = intensity(0), l1 = intensity(1);
    const double u = u01(rng) * bound;
    const int m = u < l0 ? 0 : u < l0 + l1 ? 1 : -1;
    if (m < 0) continue;
    events[m].push_back(t);
    s[0][m] += 1;
    s[1][m] += 1;
  }
  return events;
}

double log_likelihood(const BiRealization& r, const BiParams& p, int m) noexcept {
  const auto& a = r.times[0];
  const auto& b = r.times[1];
  const double beta = p.beta[m];
  std::array<double, 2> excite{};  // sum over earlier events of stream n of exp(-beta_m (t - t_j))
  double last = 0, sum_log = 0;
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    const int n = (j >= b.size() || (i < a.size() && a[i] <= b[j])) ? 0 : 1;  // stream 0 first at equal times
    const double t = n == 0 ? a[i++] : b[j++];
    const double f = std::exp(-beta * (t - last));
    excite[0] *= f;
    excite[1] *= f;
    last = t;
    if (n == m) {
      const double lambda = p.mu[m] + p.alpha[m][0] * excite[0] + p.alpha[m][1] * excite[1];
      if (!(lambda > 0)) return -std::numeric_limits<double>::infinity();
      sum_log += std::log(lambda);
    }
    excite[n] += 1;
  }
  double comp = p.mu[m] * r.horizon;
  for (int n = 0; n < 2; ++n) {
    double c = 0;
    for (const double t : r.times[n]) c += 1 - std::exp(-beta * (r.horizon - t));
    comp += p.alpha[m][n] / beta * c;
  }
  return sum_log - comp;
}

BiFitResult fit(const std::vector<BiRealization>& data) {
  BiFitResult out;
  double time = 0;
  for (const auto& r : data) {
    time += r.horizon;
    for (int m = 0; m < 2; ++m) out.events[m] += r.times[m].size();
  }
  if (out.events[0] + out.events[1] < 2 || !(time > 0)) throw std::invalid_argument("hawkes fit: fewer than 2 events");
  for (int m = 0; m < 2; ++m) {
    const double rate = total_events_rate(std::max<std::size_t>(out.events[m], 1), time);
    auto unpack = [&](const std::vector<double>& x) {
      BiParams p;
      p.mu[m] = std::exp(x[0]);
      p.alpha[m][0] = std::exp(x[1]);
      p.alpha[m][1] = std::exp(x[2]);
      p.beta[m] = std::exp(x[3]);
      return p;
    };
    auto objective = [&](const std::vector<double>& x) {
      const BiParams p = unpack(x);
      double ll = 0;
      for (const auto& r : data) ll += log_likelihood(r, p, m);
      return std::isfinite(ll) ? -ll : std::numeric_limits<double>::infinity();
    };
    Minimum best_start;
    best_start.value = std::numeric_limits<double>::infinity();
    for (const double scale : {1.0, 10.0, 100.0, 1000.0}) {
      const double beta = scale * rate;
      const Minimum mn = nelder_mead(
          objective, {std::log(0.5 * rate), std::log(0.25 * beta), std::log(0.25 * beta), std::log(beta)},
          {1.0, 1.0, 1.0, 1.0}, 1e-6);
      if (mn.value < best_start.value) best_start = mn;
    }
    Minimum mn = nelder_mead(objective, best_start.x, {0.3, 0.3, 0.3, 0.3}, 1e-10);
    mn = nelder_mead(objective, mn.x, {0.1, 0.1, 0.1, 0.1}, 1e-10);
    const double best = -mn.value;
    const BiParams p = unpack(mn.x);
    out.params.mu[m] = p.mu[m];
    out.params.alpha[m] = p.alpha[m];
    out.params.beta[m] = p.beta[m];
    out.log_likelihood[m] = best;
  }
  return out;
}

// ---- Nelder-Mead ---------------------------------------------------------------------------------

Minimum nelder_mead(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x0,
                    const std::vector<double>& step, double tol, int max_evaluations) {
  const std::size_t n = x0.size();
  int evaluations = 0;
  auto eval = [&](const std::vector<double>& x) {
    ++evaluations;
    const double v = f(x);
    return std::isnan(v) ? std::numeric_limits<double>::infinity() : v;
  };
  std::vector<std::vector<double>> x(n + 1, x0);
  std::vector<double> fx(n + 1);
  for (std::size_t i = 0; i < n; ++i) x[i + 1][i] += step[i];
  for (std::size_t i = 0; i <= n; ++i) fx[i] = eval(x[i]);
  std::vector<std::size_t> order(n + 1);
  std::vector<double> c(n), xr(n), xe(n), xc(n);
  while (evaluations < max_evaluations) {
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return fx[a] < fx[b]; });
    const std::size_t best = order[0], worst = order[n], second = order[n - 1];
    if (std::isfinite(fx[worst]) && std::fabs(fx[worst] - fx[best]) <= tol * (std::fabs(fx[best]) + std::fabs(fx[worst])) + 1e-300)
      break;
    std::fill(c.begin(), c.end(), 0.0);
    for (std::size_t k = 0; k < n; ++k)
      for (std::size_t i = 0; i < n; ++i) c[i] += x[order[k]][i] / double(n);
    for (std::size_t i = 0; i < n; ++i) xr[i] = c[i] + (c[i] - x[worst][i]);
    const double fr = eval(xr);
    if (fr < fx[best]) {
      for (std::size_t i = 0; i < n; ++i) xe[i] = c[i] + 2 * (c[i] - x[worst][i]);
      const double fe = eval(xe);
      if (fe < fr) {
        x[worst] = xe;
        fx[worst] = fe;
      } else {
        x[worst] = xr;
        fx[worst] = fr;
      }
      continue;
    }
    if (fr < fx[second]) {
      x[worst] = xr;
      fx[worst] = fr;
      continue;
    }
    const bool outside = fr < fx[worst];
    for (std::size_t i = 0; i < n; ++i) xc[i] = outside ? c[i] + 0.5 * (xr[i] - c[i]) : c[i] + 0.5 * (x[worst][i] - c[i]);
    const double fc = eval(xc);
    if (outside ? fc <= fr : fc < fx[worst]) {
      x[worst] = xc;
      fx[worst] = fc;
      continue;
    }
    for (std::size_t k = 1; k <= n; ++k) {  // shrink towards the best
      const std::size_t j = order[k];
      for (std::size_t i = 0; i < n; ++i) x[j][i] = x[best][i] + 0.5 * (x[j][i] - x[best][i]);
      fx[j] = eval(x[j]);
    }
  }
  const std::size_t b = static_cast<std::size_t>(std::min_element(fx.begin(), fx.end()) - fx.begin());
  return Minimum{x[b], fx[b], evaluations};
}

}  // namespace hft::features::hawkes
