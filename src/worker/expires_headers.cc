#include "worker/expires_headers.h"

#include <algorithm>

#include "http/char_class.h"
#include "http/response_head.h"
#include "worker/section_walk.h"

namespace itkd {

const ExpiresSettings& expires_for(const VirtualHost& vhost, std::string_view fs_path, std::string_view url_path,
                                   ExpiresSettings& scratch) {
  auto relevant = [](const auto& block) { return !block.expires.empty(); };
  auto any = [&](const auto& blocks) { return std::any_of(blocks.begin(), blocks.end(), relevant); };
  if (!any(vhost.directories) && !any(vhost.files_blocks) && !any(vhost.locations)) return vhost.expires;
  scratch = ExpiresSettings{};
  walk_sections(vhost, fs_path, url_path, relevant, [&](const auto& section) { scratch.merge(section.expires); });
  return scratch;
}

namespace {

struct Line {
  size_t start = 0;  // of the line in the text
  size_t end = 0;    // of its value (before CRLF)
  std::string_view value;
};

// The first field line named `name`, or nullopt.
std::optional<Line> find_line(std::string_view lines, std::string_view name) {
  size_t pos = 0;
  while (pos < lines.size()) {
    size_t eol = lines.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = lines.size();
    std::string_view line = lines.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && http::chars::iequals(line.substr(0, colon), name)) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      return Line{pos, eol, value};
    }
    pos = eol + 2;
  }
  return std::nullopt;
}

const ExpiresRule* rule_for(const ExpiresSettings& settings, std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!type.empty()) {
    if (auto it = settings.by_type.find(type); it != settings.by_type.end()) return &it->second;
    if (size_t slash = type.find('/'); slash != std::string::npos) {
      if (auto it = settings.by_type.find(type.substr(0, slash) + "/*"); it != settings.by_type.end())
        return &it->second;
    }
  }
  return settings.default_rule ? &*settings.default_rule : nullptr;
}

}  // namespace

bool add_expires_headers(std::string& field_lines, const ExpiresSettings& settings, time_t request_time) {
  if (!settings.active.value_or(false)) return false;
  if (find_line(field_lines, "Expires")) return false;
  auto content_type = find_line(field_lines, "Content-Type");
  const ExpiresRule* rule = rule_for(settings, content_type ? content_type->value : std::string_view());
  if (!rule) return false;
  time_t base = request_time;
  if (rule->from_modification) {
    auto modified = find_line(field_lines, "Last-Modified");
    if (!modified) return false;
    base = http::parse_http_date(modified->value);
    if (base < 0) return false;
  }
  time_t expires = base + static_cast<time_t>(rule->seconds);
  // "modification plus" an old file's time can lie in the past: expired now, not a
  // negative max-age (RFC 9111 5.2.2.1 wants a non-negative integer).
  std::string max_age = "max-age=" + std::to_string(std::max<time_t>(0, expires - request_time));
  if (auto cache_control = find_line(field_lines, "Cache-Control")) {
    std::string merged = cache_control->value.empty() ? max_age : ", " + max_age;
    field_lines.insert(cache_control->end, merged);
  } else {
    field_lines += "Cache-Control: " + max_age + "\r\n";
  }
  field_lines += "Expires: " + http::http_date(expires) + "\r\n";
  return true;
}

}  // namespace itkd
