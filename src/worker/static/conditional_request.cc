#include "worker/static/conditional_request.h"

#include <cinttypes>
#include <cstdio>

#include "http/char_class.h"
#include "http/response_head.h"

namespace itkd {

namespace {

using http::chars::iequals;
using http::chars::trim_ows;

bool is_weak(std::string_view tag) { return tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/'; }

std::string_view opaque(std::string_view tag) { return is_weak(tag) ? tag.substr(2) : tag; }

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;  // 19 digits always fit in 64 bits
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

}  // namespace

std::string make_etag(const struct stat& st, unsigned parts) {
  if (parts == 0) return {};
  uint64_t usec = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000u +
                  static_cast<uint64_t>(st.st_mtim.tv_nsec) / 1000u;
  // By hand: snprintf was a visible share of a keep-alive static request's CPU.
  std::string etag;
  etag.reserve(52);
  auto hex = [&etag](uint64_t v) {
    if (etag.size() > 1) etag.push_back('-');
    char digits[16];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v & 15];
      v >>= 4;
    } while (v);
    while (n) etag.push_back(digits[--n]);
  };
  etag.push_back('"');
  if (parts & kETagINode) hex(static_cast<uint64_t>(st.st_ino));
  if (parts & kETagSize) hex(static_cast<uint64_t>(st.st_size));
  if (parts & kETagMTime) hex(usec);
  etag.push_back('"');
  return etag;
}

bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) {
  list = trim_ows(list);
  if (list == "*") return true;
  if (!weak && is_weak(etag)) return false;
  size_t pos = 0;
  while (pos < list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view tag = trim_ows(list.substr(pos, comma - pos));
    pos = comma + 1;
    if (tag.empty()) continue;
    if (weak) {
      if (opaque(tag) == opaque(etag)) return true;
    } else if (!is_weak(tag) && tag == etag) {
      return true;
    }
  }
  return false;
}

Precondition evaluate_preconditions(const http::RequestHead& head, std::string_view etag,
                                    time_t mtime, time_t now) {
  bool get_or_head = head.method == http::Method::Get || head.method == http::Method::Head;
  if (const http::HeaderField* f = head.find("If-Match")) {
    if (!etag_list_matches(f->value, etag, false)) return Precondition::Failed;
  } else if (const http::HeaderField* f2 = head.find("If-Unmodified-Since")) {
    time_t t = http::parse_http_date(f2->value);
    if (t != -1 && mtime > t) return Precondition::Failed;
  }
  if (const http::HeaderField* f = head.find("If-None-Match")) {
    if (etag_list_matches(f->value, etag, true)) {
      return get_or_head ? Precondition::NotModified : Precondition::Failed;
    }
  } else if (const http::HeaderField* f2 = head.find("If-Modified-Since"); f2 && get_or_head) {
    // An invalid date, or one in the future (a client clock ahead of ours), is ignored,
    // as Apache does.
    time_t t = http::parse_http_date(f2->value);
    if (t != -1 && t <= now && mtime <= t) return Precondition::NotModified;
  }
  return Precondition::Proceed;
}

RangeDecision evaluate_range(const http::RequestHead& head, uint64_t size, std::string_view etag,
                             time_t mtime) {
  RangeDecision full;
  if (head.method != http::Method::Get) return full;  // RFC 9110 14.2: GET only
  const http::HeaderField* range = head.find("Range");
  if (!range) return full;

  if (const http::HeaderField* if_range = head.find("If-Range")) {
    std::string_view v = trim_ows(if_range->value);
    if (!v.empty() && (v.front() == '"' || is_weak(v))) {
      if (is_weak(v) || is_weak(etag) || v != etag) return full;
    } else {
      time_t t = http::parse_http_date(v);
      if (t == -1 || t != mtime) return full;
    }
  }

  std::string_view spec = trim_ows(range->value);
  size_t eq = spec.find('=');
  if (eq == std::string_view::npos || !iequals(trim_ows(spec.substr(0, eq)), "bytes")) return full;
  spec = trim_ows(spec.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos) return full;  // several ranges: send all
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return full;
  std::string_view first_text = trim_ows(spec.substr(0, dash));
  std::string_view last_text = trim_ows(spec.substr(dash + 1));

  RangeDecision d;
  if (first_text.empty()) {
    uint64_t suffix = 0;
    if (!parse_u64(last_text, suffix)) return full;
    if (suffix == 0 || size == 0) {
      d.kind = RangeDecision::Kind::Unsatisfiable;
      return d;
    }
    d.kind = RangeDecision::Kind::Partial;
    d.length = suffix < size ? suffix : size;
    d.first = size - d.length;
    return d;
  }
  uint64_t first = 0;
  if (!parse_u64(first_text, first)) return full;
  uint64_t last = UINT64_MAX;
  if (!last_text.empty()) {
    if (!parse_u64(last_text, last)) return full;
    if (last < first) return full;  // invalid range-spec: ignored
  }
  if (first >= size) {
    d.kind = RangeDecision::Kind::Unsatisfiable;
    return d;
  }
  if (last >= size) last = size - 1;
  d.kind = RangeDecision::Kind::Partial;
  d.first = first;
  d.length = last - first + 1;
  return d;
}

}  // namespace itkd
