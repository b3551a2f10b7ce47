// Strict HTTP/1.1 request head parser (RFC 9112 sections 2-6, RFC 9110 7.2 and 10.1.1).
// It re-parses from the start on every call (heads are small and bounded by the limits),
// which keeps it a pure function: no state to desynchronize between front and worker.
#include "http/request_head.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "http/char_class.h"

namespace itkd::http {

namespace {

// RFC 9112 2.2 asks us to tolerate at least one empty line before the request-line (old
// clients send CRLF after a POST body); a few more is generous, an endless run is abuse.
constexpr int kMaxLeadingEmptyLines = 4;

ParseOutcome fail(int status, std::string reason) {
  return ParseOutcome{ParseStatus::Error, status, std::move(reason)};
}

ParseOutcome need_more() { return ParseOutcome{}; }

bool is_error(const ParseOutcome& o) { return o.status == ParseStatus::Error; }

enum class LineEnd { Found, Incomplete, TooLong, BareLf };

struct LineScan {
  LineEnd end;
  size_t length;  // Found: without the CRLF; Incomplete: bytes available so far
};

// Finds the CRLF ending the line at buffer[pos], looking no further than a line of
// `limit` bytes could reach, so an endless line is reported as soon as it is too long.
LineScan scan_line(std::string_view buffer, size_t pos, size_t limit) {
  const size_t available = buffer.size() - pos;
  const char* start = buffer.data() + pos;
  const size_t window = std::min(available, limit + 2);
  if (const void* lf = std::memchr(start, '\n', window)) {
    const size_t i = static_cast<size_t>(static_cast<const char*>(lf) - start);
    if (i == 0 || start[i - 1] != '\r') return {LineEnd::BareLf, i};
    return {LineEnd::Found, i - 1};
  }
  // No LF within limit+2 bytes, or byte `limit` is not the CR that could end a line of
  // exactly `limit` bytes: the line is over the limit whatever follows.
  if (available > limit && (available >= limit + 2 || start[limit] != '\r')) {
    return {LineEnd::TooLong, available};
  }
  return {LineEnd::Incomplete, available};
}

// The part of an unfinished line worth validating: a final CR may be half of its CRLF.
std::string_view partial_line(std::string_view buffer, size_t pos) {
  std::string_view line = buffer.substr(pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

Method method_from(std::string_view m) {
  // Methods are case-sensitive (RFC 9110 9.1); "get" is an unknown method.
  switch (m.size()) {
    case 3:
      if (m == "GET") return Method::Get;
      if (m == "PUT") return Method::Put;
      break;
    case 4:
      if (m == "HEAD") return Method::Head;
      if (m == "POST") return Method::Post;
      break;
    case 5:
      if (m == "TRACE") return Method::Trace;
      if (m == "PATCH") return Method::Patch;
      break;
    case 6:
      if (m == "DELETE") return Method::Delete;
      break;
    case 7:
      if (m == "OPTIONS") return Method::Options;
      if (m == "CONNECT") return Method::Connect;
      break;
    default:
      break;
  }
  return Method::Other;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// True if `v` could still become "HTTP/d.d" with more bytes.
bool plausible_version_prefix(std::string_view v) {
  static constexpr std::string_view kShape = "HTTP/0.0";
  if (v.size() > kShape.size()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (kShape[i] == '0' ? !is_digit(v[i]) : v[i] != kShape[i]) return false;
  }
  return true;
}

const char* bad_byte_reason(char c, const char* where_default) {
  if (c == '\r') return "bare CR";
  if (c == '\0') return "NUL byte";
  return where_default;
}

// request-line = method SP request-target SP HTTP-version (RFC 9112 3). With
// complete == false, `line` is a prefix and only what is there is checked.
ParseOutcome parse_request_line(std::string_view line, bool complete, RequestHead& out) {
  const size_t n = line.size();
  size_t i = 0;
  while (i < n && chars::is(line[i], chars::kTchar)) ++i;
  if (i == n) return complete ? fail(400, "request line has no request target") : need_more();
  if (line[i] != ' ') {
    return fail(400, i == 0 ? bad_byte_reason(line[i], "request line does not start with a method")
                            : bad_byte_reason(line[i], "invalid character in method"));
  }
  if (i == 0) return fail(400, "request line does not start with a method");
  out.method_text = line.substr(0, i);

  const size_t target_start = ++i;
  while (i < n && chars::is(line[i], chars::kTarget)) ++i;
  if (i == n) return complete ? fail(400, "request line has no HTTP version") : need_more();
  if (line[i] != ' ') {
    return fail(400, bad_byte_reason(line[i], "invalid character in request target"));
  }
  if (i == target_start) return fail(400, "empty request target (more than one space?)");
  out.target = line.substr(target_start, i - target_start);

  const std::string_view version = line.substr(i + 1);
  if (!complete) {
    return plausible_version_prefix(version) ? need_more()
                                             : fail(400, "malformed HTTP version");
  }
  if (version.size() != 8 || !plausible_version_prefix(version)) {
    return fail(400, "malformed HTTP version");
  }
  out.version_major = version[5] - '0';
  out.version_minor = version[7] - '0';
  if (out.version_major != 1 || out.version_minor > 1) {
    return fail(505, "unsupported HTTP version " + std::string(version));
  }
  out.method = method_from(out.method_text);
  out.keep_alive = out.version_minor == 1;
  return ParseOutcome{ParseStatus::Complete, 0, {}};
}

// field-line = field-name ":" OWS field-value OWS (RFC 9112 5). Fills name and value.
ParseOutcome parse_field_line(std::string_view line, bool complete, HeaderField& field) {
  const size_t n = line.size();
  size_t i = 0;
  while (i < n && chars::is(line[i], chars::kTchar)) ++i;
  if (i == n) return complete ? fail(400, "header field without colon") : need_more();
  if (line[i] != ':') {
    if (line[i] == ' ' || line[i] == '\t') {
      return fail(400, "whitespace before colon in header field");
    }
    return fail(400, bad_byte_reason(line[i], "invalid character in header field name"));
  }
  if (i == 0) return fail(400, "empty header field name");
  field.name = line.substr(0, i);
  const std::string_view raw_value = line.substr(i + 1);
  if (const size_t bad = chars::find_invalid_field_value_byte(raw_value);
      bad != std::string_view::npos) {
    return fail(400, bad_byte_reason(raw_value[bad], "control character in header field value"));
  }
  if (!complete) return need_more();
  field.value = chars::trim_ows(raw_value);
  return ParseOutcome{ParseStatus::Complete, 0, {}};
}

// Content-Length = 1*DIGIT, at most 2^63-1: anything else could be read differently by
// another parser on the path, so it is refused rather than guessed (RFC 9112 6.3).
bool parse_content_length(std::string_view v, uint64_t& out) {
  if (v.empty()) return false;
  constexpr uint64_t kMax = static_cast<uint64_t>(INT64_MAX);
  uint64_t value = 0;
  for (char c : v) {
    if (!is_digit(c)) return false;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

// Transfer-Encoding (RFC 9112 6.1): only a lone "chunked" is something we can decode.
ParseOutcome check_transfer_encoding(const RequestHead& head) {
  int chunked_count = 0;
  bool last_is_chunked = false;
  bool any_coding = false;
  bool unknown = false;
  bool other_known = false;
  bool chunked_params = false;
  for (const HeaderField& f : head.fields) {
    if (!chars::iequals(f.name, "transfer-encoding")) continue;
    chars::for_each_list_element(f.value, [&](std::string_view element) {
      const size_t semicolon = element.find(';');
      const std::string_view coding = chars::trim_ows(element.substr(0, semicolon));
      any_coding = true;
      last_is_chunked = chars::iequals(coding, "chunked");
      if (last_is_chunked) {
        ++chunked_count;
        if (semicolon != std::string_view::npos) chunked_params = true;
      } else if (chars::iequals(coding, "gzip") || chars::iequals(coding, "x-gzip") ||
                 chars::iequals(coding, "deflate") || chars::iequals(coding, "compress") ||
                 chars::iequals(coding, "x-compress") || chars::iequals(coding, "identity")) {
        other_known = true;
      } else {
        unknown = true;
      }
      return true;
    });
  }
  if (!any_coding) return fail(400, "empty Transfer-Encoding");
  if (chunked_count > 1) return fail(400, "chunked applied more than once in Transfer-Encoding");
  if (!last_is_chunked) return fail(400, "Transfer-Encoding does not end with chunked");
  if (chunked_params) return fail(400, "parameters on the chunked transfer coding");
  if (unknown) return fail(501, "unknown transfer coding in Transfer-Encoding");
  if (other_known) return fail(501, "transfer codings other than chunked are not implemented");
  return ParseOutcome{ParseStatus::Complete, 0, {}};
}

// Splits the request-target into form, authority, path and query (RFC 9112 3.2).
ParseOutcome classify_target(RequestHead& out, std::string_view& authority) {
  const std::string_view t = out.target;
  std::string_view path_and_query;
  if (out.method == Method::Connect) {
    // authority-form = uri-host ":" port, and it is the only form CONNECT may use.
    const size_t colon = t.rfind(':');
    const size_t bracket = t.rfind(']');
    const bool has_port = colon != std::string_view::npos && colon + 1 < t.size() &&
                          (bracket == std::string_view::npos || colon > bracket);
    if (t.front() == '/' || t.find('/') != std::string_view::npos || !has_port) {
      return fail(400, "CONNECT needs an authority-form target (host:port)");
    }
    out.form = TargetForm::Authority;
    authority = t;
    out.path = {};
    return ParseOutcome{ParseStatus::Complete, 0, {}};
  }
  if (t.front() == '/') {
    out.form = TargetForm::Origin;
    path_and_query = t;
  } else if (t == "*") {
    if (out.method != Method::Options) return fail(400, "asterisk target is only for OPTIONS");
    out.form = TargetForm::Asterisk;
    out.path = t;
    return ParseOutcome{ParseStatus::Complete, 0, {}};
  } else {
    size_t scheme_end = 0;
    if (t.size() > 7 && chars::iequals(t.substr(0, 7), "http://")) {
      scheme_end = 7;
    } else if (t.size() > 8 && chars::iequals(t.substr(0, 8), "https://")) {
      scheme_end = 8;
    } else {
      return fail(400, "request target is not origin-form or an http(s) absolute URI");
    }
    const std::string_view rest = t.substr(scheme_end);
    const size_t authority_end = rest.find_first_of("/?");
    authority = rest.substr(0, authority_end);
    if (authority.empty()) return fail(400, "absolute URI without a host");
    out.form = TargetForm::Absolute;
    path_and_query =
        authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  }
  const size_t question = path_and_query.find('?');
  out.path = path_and_query.substr(0, question);
  if (out.path.empty()) out.path = "/";
  if (question != std::string_view::npos) {
    out.has_query = true;
    out.query = path_and_query.substr(question + 1);
  }
  return ParseOutcome{ParseStatus::Complete, 0, {}};
}

void reset(RequestHead& out, const ParseLimits& limits) {
  out.method_text = {};
  out.method = Method::Other;
  out.target = {};
  out.form = TargetForm::Origin;
  out.version_major = 1;
  out.version_minor = 1;
  out.fields.clear();
  // One reservation up front, kept across requests when `out` is reused.
  out.fields.reserve(std::min<size_t>(limits.max_fields, 32));
  out.host.clear();
  out.path = {};
  out.query = {};
  out.has_query = false;
  out.framing = BodyFraming::None;
  out.content_length = 0;
  out.keep_alive = true;
  out.expect_continue = false;
  out.head_length = 0;
}

// Semantic checks once the whole head is there: Host, framing, Connection, Expect.
ParseOutcome finish_head(RequestHead& out) {
  std::string_view authority;
  if (ParseOutcome o = classify_target(out, authority); is_error(o)) return o;

  const HeaderField* host = nullptr;
  const HeaderField* content_length = nullptr;
  bool transfer_encoding = false;
  bool close = false;
  bool keep_alive_token = false;
  bool unsupported_expectation = false;
  for (const HeaderField& f : out.fields) {
    // Dispatch on length first: most fields are none of the interesting ones.
    switch (f.name.size()) {
      case 4:
        if (chars::iequals(f.name, "host")) {
          if (host) return fail(400, "more than one Host header field");
          host = &f;
        }
        break;
      case 6:
        if (chars::iequals(f.name, "expect")) {
          chars::for_each_list_element(f.value, [&](std::string_view e) {
            if (chars::iequals(e, "100-continue")) {
              out.expect_continue = out.version_minor >= 1;
            } else {
              unsupported_expectation = true;
            }
            return true;
          });
        }
        break;
      case 10:
        if (chars::iequals(f.name, "connection")) {
          chars::for_each_list_element(f.value, [&](std::string_view e) {
            if (chars::iequals(e, "close")) close = true;
            if (chars::iequals(e, "keep-alive")) keep_alive_token = true;
            return true;
          });
        }
        break;
      case 14:
        if (chars::iequals(f.name, "content-length")) {
          if (content_length) return fail(400, "more than one Content-Length header field");
          content_length = &f;
        }
        break;
      case 17:
        if (chars::iequals(f.name, "transfer-encoding")) transfer_encoding = true;
        break;
      default:
        break;
    }
  }

  // Host (RFC 9112 3.2): required in 1.1, never twice, always valid; an absolute-form
  // or authority-form target names the host and wins over the field (3.2.2).
  if (!host && out.version_minor >= 1) {
    return fail(400, "missing Host header field (required in HTTP/1.1)");
  }
  if (host && !normalize_host(host->value, out.host)) {
    return fail(400, "invalid Host header field");
  }
  if (!authority.empty() && (!normalize_host(authority, out.host) || out.host.empty())) {
    return fail(400, "invalid host in request target");
  }

  // Body framing (RFC 9112 6.1-6.3): refuse every ambiguous combination.
  if (transfer_encoding) {
    if (content_length) return fail(400, "both Content-Length and Transfer-Encoding");
    if (out.version_minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (ParseOutcome o = check_transfer_encoding(out); is_error(o)) return o;
    out.framing = BodyFraming::Chunked;
  } else if (content_length) {
    if (!parse_content_length(content_length->value, out.content_length)) {
      return fail(400, "invalid Content-Length");
    }
    out.framing = BodyFraming::ContentLength;
  }

  out.keep_alive = close ? false : (out.version_minor >= 1 || keep_alive_token);
  if (unsupported_expectation) return fail(417, "unsupported expectation in Expect");
  return ParseOutcome{ParseStatus::Complete, 0, {}};
}

}  // namespace

const HeaderField* RequestHead::find(std::string_view name) const {
  for (const HeaderField& f : fields) {
    if (chars::iequals(f.name, name)) return &f;
  }
  return nullptr;
}

ParseOutcome parse_request_head(std::string_view buffer, const ParseLimits& limits,
                                RequestHead& out) {
  reset(out, limits);
  size_t pos = 0;

  for (int empty = 0;; ++empty) {
    if (pos >= buffer.size()) return need_more();
    if (buffer[pos] != '\r') break;
    if (pos + 1 >= buffer.size()) return need_more();
    if (buffer[pos + 1] != '\n') return fail(400, "bare CR before the request line");
    if (empty == kMaxLeadingEmptyLines) return fail(400, "too many empty lines before the request line");
    pos += 2;
  }

  const LineScan request_line = scan_line(buffer, pos, limits.max_request_line);
  switch (request_line.end) {
    case LineEnd::TooLong:
      return fail(414, "request line too long (limit " + std::to_string(limits.max_request_line) + ")");
    case LineEnd::BareLf:
      return fail(400, "request line ends with a bare LF (CRLF required)");
    case LineEnd::Incomplete:
      return parse_request_line(partial_line(buffer, pos), false, out);
    case LineEnd::Found:
      break;
  }
  if (ParseOutcome o = parse_request_line(buffer.substr(pos, request_line.length), true, out);
      is_error(o)) {
    return o;
  }
  pos += request_line.length + 2;

  while (true) {
    if (pos >= buffer.size()) return need_more();
    const char first = buffer[pos];
    if (first == '\r') {
      if (pos + 1 >= buffer.size()) return need_more();
      if (buffer[pos + 1] != '\n') return fail(400, "bare CR at the end of the header section");
      pos += 2;
      break;
    }
    if (first == ' ' || first == '\t') {
      return fail(400, out.fields.empty() ? "whitespace before the first header field"
                                          : "obsolete line folding in header field");
    }
    if (out.fields.size() >= limits.max_fields) {
      return fail(431, "too many header fields (limit " + std::to_string(limits.max_fields) + ")");
    }
    const LineScan line = scan_line(buffer, pos, limits.max_field_size);
    HeaderField field;
    switch (line.end) {
      case LineEnd::TooLong:
        return fail(431, "header field too long (limit " + std::to_string(limits.max_field_size) + ")");
      case LineEnd::BareLf:
        return fail(400, "header field line ends with a bare LF (CRLF required)");
      case LineEnd::Incomplete:
        return parse_field_line(partial_line(buffer, pos), false, field);
      case LineEnd::Found:
        break;
    }
    if (ParseOutcome o = parse_field_line(buffer.substr(pos, line.length), true, field);
        is_error(o)) {
      return o;
    }
    out.fields.push_back(field);
    pos += line.length + 2;
  }

  out.head_length = pos;
  return finish_head(out);
}

}  // namespace itkd::http
