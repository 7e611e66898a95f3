#pragma once
// Writes the control file's RiskBlock limits from the table of risk keys (pipeline/risk/keys.hpp).
// Both run inside the block's seq_write; neither allocates (the egress thread calls the second).
#include <cstdint>
#include <cstring>

#include "pipeline/control/layout.hpp"
#include "pipeline/risk/keys.hpp"

namespace hft::control {

static_assert(risk::kRiskKeys.size() <= kRiskLimitSlots, "more risk keys than the control file's RiskBlock holds");

// Every key's name, kind and value.
inline void write_risk_limits(RiskBlock& b, const risk::RiskLimits& limits) noexcept {
  std::uint32_t i = 0;
  for (const risk::RiskKey& k : risk::kRiskKeys) {
    RiskLimitSlot& s = b.limits[i++];
    put_text(s.name, k.name);
    s.kind = static_cast<std::uint8_t>(k.kind);
    s.decimals = k.decimals;
    s.runtime = k.runtime ? 1 : 0;
    s.used = 1;
    s.value = k.get(limits);
  }
  b.limit_count = i;
  static_assert(kRestrictedSlots == risk::RiskLimits::kMaxRestricted);
  b.restricted_count = limits.restricted_count;
  for (std::uint32_t j = 0; j < limits.restricted_count && j < kRestrictedSlots; ++j)
    std::memcpy(b.restricted[j], &limits.restricted[j], 8);
}

}  // namespace hft::control
