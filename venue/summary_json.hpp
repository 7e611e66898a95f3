#pragma once
// The venue's end-of-run summary as one JSON document (`hft-exchange --json`); the shape is in
// docs/json-output.md. The same counters as the summary log lines (Venue::log_summary).
#include <string>

#include "venue/venue.hpp"

namespace hft::venue {

// Increase when a field changes meaning or goes away (adding fields keeps the version).
inline constexpr int kSummaryJsonSchema = 1;

// One line of JSON, ending with a newline.
std::string summary_json(const VenueSummary& s);

}  // namespace hft::venue
