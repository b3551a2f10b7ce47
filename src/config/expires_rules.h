// mod_expires' directives as the config states them: ExpiresActive, ExpiresDefault and
// ExpiresByType, per scope, merged as Apache merges them. The worker adds the headers
// (worker/expires_headers.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace itkd {

// "A3600" / "access plus 1 hour": an hour after the request; "M86400" / "modification
// plus 1 day": a day after the file's Last-Modified time.
struct ExpiresRule {
  bool from_modification = false;
  int64_t seconds = 0;
  bool operator==(const ExpiresRule&) const = default;
};

struct ExpiresSettings {
  std::optional<bool> active;                 // ExpiresActive On|Off
  std::optional<ExpiresRule> default_rule;    // ExpiresDefault
  std::map<std::string, ExpiresRule> by_type;  // ExpiresByType: "text/css", "image/*" (lowercase)
  bool empty() const { return !active && !default_rule && by_type.empty(); }
  // Apache's merge: what `deeper` sets replaces this scope's, type by type.
  void merge(const ExpiresSettings& deeper);
};

// mod_expires' codes: "A<seconds>", "M<seconds>", or "<base> [plus] {<num> <type>}*"
// with base access|now|modification and type years|months|weeks|days|hours|minutes|
// seconds (singular too; a month is 30 days, a year 365, as in Apache).
Result<ExpiresRule> parse_expires_code(std::string_view code);

}  // namespace itkd
