#include "pipeline/features/fit.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hft::features {

// ---- Stoikov ------------------------------------------------------------------------------------

int stoikov_state(const Depth& d, std::uint32_t imbalance_buckets, std::uint32_t spread_buckets,
                  std::uint32_t tick) noexcept {
  if (!d.two_sided() || d.bid_sz[0] <= 0 || d.ask_sz[0] <= 0 || d.ask_px[0] <= d.bid_px[0] || tick == 0) return -1;
  const std::uint32_t spread = d.ask_px[0] - d.bid_px[0];
  if (spread % tick != 0) return -1;
  const std::uint32_t s = spread / tick;
  if (s < 1 || s > spread_buckets) return -1;
  const double i = double(d.bid_sz[0]) / (double(d.bid_sz[0]) + double(d.ask_sz[0]));
  const auto b = std::min<std::uint32_t>(imbalance_buckets - 1, static_cast<std::uint32_t>(i * imbalance_buckets));
  return static_cast<int>((s - 1) * imbalance_buckets + b);
}

std::optional<double> StoikovTable::lookup(const Depth& d) const noexcept {
  if (empty()) return std::nullopt;
  const int s = stoikov_state(d, imbalance_buckets, spread_buckets, tick);
  if (s < 0) return std::nullopt;
  return adjustment[static_cast<std::size_t>(s)];
}

std::string StoikovTable::to_text() const {
  std::string t = "stoikov_table v1 " + std::to_string(imbalance_buckets) + " " + std::to_string(spread_buckets) + " " +
                  std::to_string(tick) + "\n";
  char buf[40];
  for (std::uint32_t s = 0; s < spread_buckets; ++s) {
    for (std::uint32_t b = 0; b < imbalance_buckets; ++b) {
      std::snprintf(buf, sizeof buf, "%s%.17g", b == 0 ? "" : " ", adjustment[s * imbalance_buckets + b] + 0.0);  // no -0
      t += buf;
    }
    t += '\n';
  }
  return t;
}

StoikovTable StoikovTable::parse(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string magic, version;
  StoikovTable t;
  if (!(in >> magic >> version) || magic != "stoikov_table" || version != "v1")
    throw std::invalid_argument("not a stoikov_table v1 file");
  long long nb = 0, ns = 0, tick = 0;
  if (!(in >> nb >> ns >> tick) || nb < 2 || nb > 1000 || ns < 1 || ns > 1000 || tick < 1 || tick > 1'000'000)
    throw std::invalid_argument("stoikov_table: want buckets 2..1000, spreads 1..1000, tick 1..1000000");
  t.imbalance_buckets = static_cast<std::uint32_t>(nb);
  t.spread_buckets = static_cast<std::uint32_t>(ns);
  t.tick = static_cast<std::uint32_t>(tick);
  t.adjustment.resize(static_cast<std::size_t>(nb * ns));
  for (double& a : t.adjustment) {
    std::string word;
    if (!(in >> word)) throw std::invalid_argument("stoikov_table: fewer adjustments than buckets x spreads");
    const auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), a);
    if (ec != std::errc() || p != word.data() + word.size() || !(std::fabs(a) <= 1e6))
      throw std::invalid_argument("stoikov_table: '" + word + "' is not a finite adjustment");
  }
  std::string extra;
  if (in >> extra) throw std::invalid_argument("stoikov_table: more numbers than buckets x spreads");
  return t;
}

StoikovTable StoikovTable::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::invalid_argument("stoikov_table " + path + ": cannot open");
  std::string text;
  char buf[4096];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(f.gcount()));
    if (text.size() > (1u << 24)) throw std::invalid_argument("stoikov_table " + path + ": larger than 16 MB");
  }
  try {
    return parse(text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

StoikovFitter::StoikovFitter(std::uint32_t imbalance_buckets, std::uint32_t spread_buckets, std::uint32_t tick,
                             std::uint32_t max_locate)
    : nb_(imbalance_buckets), ns_(spread_buckets), tick_(tick), n_(imbalance_buckets * spread_buckets) {
  if (nb_ < 2 || nb_ > 1000 || ns_ < 1 || ns_ > 100 || tick_ < 1)
    throw std::invalid_argument("stoikov fit: buckets 2..1000, spreads 1..100, tick >= 1");
  last_state_.assign(std::size_t{max_locate} + 1, -1);
  last_mid2_.assign(std::size_t{max_locate} + 1, 0);
  q_.assign(std::size_t{n_} * n_, 0.0);
  r2_.assign(std::size_t{n_} * n_, 0.0);
  r_.assign(n_, 0.0);
  total_.assign(n_, 0.0);
}

void StoikovFitter::count(int from, int to, double dm, bool moved) {
  const auto f = static_cast<std::size_t>(from), t = static_cast<std::size_t>(to);
  total_[f] += 1;
  if (moved) {
    r2_[f * n_ + t] += 1;
    r_[f] += dm;
  } else {
    q_[f * n_ + t] += 1;
  }
}

void StoikovFitter::observe(std::uint16_t locate, const Depth& d) {
  if (locate >= last_state_.size()) return;
  const int s = stoikov_state(d, nb_, ns_, tick_);
  int& last = last_state_[locate];
  std::int64_t& last_mid2 = last_mid2_[locate];
  if (s < 0) {  // the chain breaks: a state outside the table
    last = -1;
    return;
  }
  const std::int64_t mid2 = std::int64_t{d.bid_px[0]} + d.ask_px[0];
  if (last >= 0 && (s != last || mid2 != last_mid2)) {
    const bool moved = mid2 != last_mid2;
    const double dm = double(mid2 - last_mid2) / 2e4;  // $
    auto mirror = [&](int x) { return static_cast<int>((x / nb_) * nb_ + (nb_ - 1 - x % nb_)); };
    count(last, s, dm, moved);
    count(mirror(last), mirror(s), -dm, moved);
    ++transitions_;
    if (moved) ++mid_moves_;
  }
  last = s;
  last_mid2 = mid2;
}

namespace {

// x = (1 - Q)^-1 b for a substochastic Q (n x n, row-major), by Gaussian elimination with partial
// pivoting. `live` marks the states from which an exit (a mid move) is reachable through Q; the
// others have x = 0 (their rows of 1 - Q are singular, and nothing flows out of them).
std::vector<double> solve_transient(const std::vector<double>& q, const std::vector<double>& b,
                                    const std::vector<char>& live, std::size_t n) {
  std::vector<double> a(n * n), x(b);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) a[i * n + j] = live[i] ? (i == j ? 1.0 : 0.0) - (live[j] ? q[i * n + j] : 0.0) : (i == j ? 1.0 : 0.0);
    if (!live[i]) x[i] = 0;
  }
  std::vector<std::size_t> perm(n);
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t piv = k;
    for (std::size_t i = k + 1; i < n; ++i)
      if (std::fabs(a[i * n + k]) > std::fabs(a[piv * n + k])) piv = i;
    if (piv != k) {
      for (std::size_t j = 0; j < n; ++j) std::swap(a[k * n + j], a[piv * n + j]);
      std::swap(x[k], x[piv]);
    }
    const double p = a[k * n + k];
    if (std::fabs(p) < 1e-300) continue;  // cannot happen for live states (diagonally dominant chain)
    for (std::size_t i = k + 1; i < n; ++i) {
      const double f = a[i * n + k] / p;
      if (f == 0) continue;
      for (std::size_t j = k; j < n; ++j) a[i * n + j] -= f * a[k * n + j];
      x[i] -= f * x[k];
    }
  }
  for (std::size_t k = n; k-- > 0;) {
    double s = x[k];
    for (std::size_t j = k + 1; j < n; ++j) s -= a[k * n + j] * x[j];
    const double p = a[k * n + k];
    x[k] = std::fabs(p) < 1e-300 ? 0.0 : s / p;
  }
  return x;
}

}  // namespace

StoikovTable StoikovFitter::fit() const {
  const std::size_t n = n_;
  std::vector<double> q(n * n, 0.0), r2(n * n, 0.0), r(n, 0.0);
  std::vector<char> exits(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (total_[i] <= 0) continue;
    for (std::size_t j = 0; j < n; ++j) {
      q[i * n + j] = q_[i * n + j] / total_[i];
      r2[i * n + j] = r2_[i * n + j] / total_[i];
      if (r2_[i * n + j] > 0) exits[i] = 1;
    }
    r[i] = r_[i] / total_[i];
  }
  // live: an exit is reachable from the state through transitions that keep the mid
  std::vector<char> live(exits);
  for (bool grew = true; grew;) {
    grew = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (live[i]) continue;
      for (std::size_t j = 0; j < n; ++j)
        if (q[i * n + j] > 0 && live[j]) {
          live[i] = 1;
          grew = true;
          break;
        }
    }
  }
  std::vector<double> g = solve_transient(q, r, live, n);
  std::vector<double> total = g;
  // G = sum_k B^k G1 with B = (1 - Q)^-1 R2, built column by column.
  std::vector<double> b(n * n, 0.0), col(n);
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t i = 0; i < n; ++i) col[i] = r2[i * n + j];
    const std::vector<double> x = solve_transient(q, col, live, n);
    for (std::size_t i = 0; i < n; ++i) b[i * n + j] = x[i];
  }
  std::vector<double> h(n);
  for (int k = 0; k < 100'000; ++k) {
    double largest = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double acc = 0;
      for (std::size_t j = 0; j < n; ++j) acc += b[i * n + j] * g[j];
      h[i] = acc;
      largest = std::max(largest, std::fabs(acc));
    }
    g.swap(h);
    for (std::size_t i = 0; i < n; ++i) total[i] += g[i];
    if (largest < 1e-16) break;
  }
  StoikovTable t;
  t.imbalance_buckets = nb_;
  t.spread_buckets = ns_;
  t.tick = tick_;
  t.adjustment = std::move(total);
  // exact antisymmetry (the data are symmetrized; rounding is not)
  for (std::uint32_t s = 0; s < ns_; ++s)
    for (std::uint32_t k = 0; k < nb_ / 2; ++k) {
      double& lo = t.adjustment[s * nb_ + k];
      double& hi = t.adjustment[s * nb_ + nb_ - 1 - k];
      const double m = 0.5 * (hi - lo);
      hi = m;
      lo = -m;
    }
  if (nb_ % 2 == 1)
    for (std::uint32_t s = 0; s < ns_; ++s) t.adjustment[s * nb_ + nb_ / 2] = 0.0;
  return t;
}

// ---- integrated OFI -----------------------------------------------------------------------------

OfiPcaFitter::OfiPcaFitter(std::uint64_t interval_ns, std::uint32_t max_locate) : interval_(interval_ns) {
  if (interval_ns == 0) throw std::invalid_argument("ofi fit: interval must be > 0");
  open_.assign(std::size_t{max_locate} + 1, Open{});
}

void OfiPcaFitter::add(const std::array<double, 5>& x) {
  ++n_;
  for (std::size_t i = 0; i < 5; ++i) {
    sum_[i] += x[i];
    for (std::size_t j = 0; j < 5; ++j) sum2_[i][j] += x[i] * x[j];
  }
}

void OfiPcaFitter::close(Open& o) {
  if (o.events != 0 && o.depth_sum > 0) {
    const double scale = o.depth_sum / double(o.events) / 10.0;  // average shares per level (5 levels x 2 sides)
    std::array<double, 5> x{};
    for (std::size_t i = 0; i < 5; ++i) x[i] = o.e[i] / scale;
    add(x);
  }
  o = Open{};
}

void OfiPcaFitter::observe(std::uint16_t locate, std::uint64_t ts, const Depth& before, const Depth& after) {
  if (locate >= open_.size()) return;
  Open& o = open_[locate];
  if (o.end != 0 && ts >= o.end) close(o);
  if (o.end == 0) o.end = (ts / interval_ + 1) * interval_;
  for (std::uint32_t i = 0; i < 5; ++i) {
    o.e[i] += double(ofi_level(before, after, i));
    o.depth_sum += double(after.bid_sz[i]) + double(after.ask_sz[i]);
  }
  ++o.events;
}

void OfiPcaFitter::finish() {
  for (Open& o : open_)
    if (o.end != 0) close(o);
}

SymmetricEigen<5> symmetric_eigen(const std::array<std::array<double, 5>, 5>& in) {
  constexpr std::size_t n = 5;
  auto a = in;
  SymmetricEigen<5> out;
  for (std::size_t i = 0; i < n; ++i) out.vectors[i][i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) off += a[p][q] * a[p][q];
    if (off < 1e-30) break;
    for (std::size_t p = 0; p < n; ++p) {
      for (std::size_t q = p + 1; q < n; ++q) {
        if (a[p][q] == 0) continue;
        // the rotation that zeroes a[p][q]: tan(2 phi) = 2 a_pq / (a_qq - a_pp)
        const double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (std::size_t k = 0; k < n; ++k) {  // columns p, q
          const double akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < n; ++k) {  // rows p, q
          const double apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (std::size_t k = 0; k < n; ++k) {
          const double vkp = out.vectors[k][p], vkq = out.vectors[k][q];
          out.vectors[k][p] = c * vkp - s * vkq;
          out.vectors[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  // sort descending
  std::array<std::size_t, n> order{0, 1, 2, 3, 4};
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return a[x][x] > a[y][y]; });
  SymmetricEigen<5> sorted;
  for (std::size_t k = 0; k < n; ++k) {
    sorted.values[k] = a[order[k]][order[k]];
    for (std::size_t i = 0; i < n; ++i) sorted.vectors[i][k] = out.vectors[i][order[k]];
  }
  return sorted;
}

std::optional<OfiPcaFitter::Result> OfiPcaFitter::fit() const {
  if (n_ < 2) return std::nullopt;
  std::array<std::array<double, 5>, 5> cov{};
  const double n = double(n_);
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 5; ++j) cov[i][j] = (sum2_[i][j] - sum_[i] * sum_[j] / n) / (n - 1);
  const auto eig = symmetric_eigen(cov);
  double trace = 0, l1 = 0, sum = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    trace += cov[i][i];
    l1 += std::fabs(eig.vectors[i][0]);
    sum += eig.vectors[i][0];
  }
  if (!(trace > 0) || !(l1 > 0)) return std::nullopt;
  Result r;
  const double sign = sum < 0 ? -1.0 : 1.0;
  for (std::size_t i = 0; i < 5; ++i) r.weights[i] = sign * eig.vectors[i][0] / l1;
  r.explained = eig.values[0] / trace;
  return r;
}

}  // namespace hft::features
