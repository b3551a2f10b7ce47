#include "worker/cgi/cgi_response.h"

#include <charconv>

namespace itkd {

namespace {

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

CgiResponseParser::Step CgiResponseParser::feed(std::string_view data) {
  Step step;
  step.state = state_;
  if (state_ != State::NeedMore) return step;
  size_t i = 0;
  while (i < data.size()) {
    size_t lf = data.find('\n', i);
    size_t end = lf == std::string_view::npos ? data.size() : lf + 1;
    total_ += end - i;
    if (total_ > kMaxHeaderBlock) {
      state_ = State::Error;
      error_ = "script header block longer than " + std::to_string(kMaxHeaderBlock) + " bytes";
      step.state = state_;
      step.consumed = end;
      return step;
    }
    if (lf == std::string_view::npos) {
      line_.append(data.substr(i));
      i = end;
      break;
    }
    line_.append(data.substr(i, lf - i));
    i = end;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    std::string line = std::move(line_);
    line_.clear();
    if (line.empty()) {
      state_ = finish() ? State::Done : State::Error;
      break;
    }
    if (!take_line(line)) {
      state_ = State::Error;
      break;
    }
  }
  step.state = state_;
  step.consumed = i;
  return step;
}

bool CgiResponseParser::take_line(std::string_view line) {
  if (line.find('\r') != std::string_view::npos || line.find('\0') != std::string_view::npos) {
    error_ = "Bad header (control character): " + printable(line);
    return false;
  }
  // An obsolete folded line continues the previous field (as Apache reads scripts).
  if (line[0] == ' ' || line[0] == '\t') {
    if (last_name_.empty() || head_.headers.size() < 2) {
      error_ = "Bad header (continuation without a field): " + printable(line);
      return false;
    }
    head_.headers.resize(head_.headers.size() - 2);
    head_.headers += ' ';
    head_.headers += trim(line);
    head_.headers += "\r\n";
    return true;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    error_ = "Bad header: " + printable(line);
    return false;
  }
  std::string_view name = line.substr(0, colon);
  for (char c : name) {
    if (!is_token_char(c)) {
      error_ = "Bad header (invalid field name): " + printable(line);
      return false;
    }
  }
  std::string_view value = trim(line.substr(colon + 1));
  last_name_.clear();
  if (iequal(name, "Status")) {
    int code = 0;
    auto digits = value.substr(0, 3);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
    if (digits.size() != 3 || ec != std::errc() || p != digits.data() + 3 || code < 100 ||
        code > 599 || (value.size() > 3 && value[3] != ' ')) {
      error_ = "Bad Status header: " + printable(value);
      return false;
    }
    head_.status = code;
    have_status_ = true;
    return true;
  }
  if (iequal(name, "Content-Length")) {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || ec != std::errc() || p != value.data() + value.size()) {
      error_ = "Bad Content-Length header: " + printable(value);
      return false;
    }
  }
  // Hop-by-hop and connection-owned fields are the server's, not the script's.
  if (iequal(name, "Connection") || iequal(name, "Transfer-Encoding") ||
      iequal(name, "Keep-Alive") || iequal(name, "Date") || iequal(name, "Server")) {
    return true;
  }
  if (iequal(name, "Location")) location_ = std::string(value);
  head_.headers.append(name);
  head_.headers += ": ";
  head_.headers.append(value);
  head_.headers += "\r\n";
  last_name_ = std::string(name);
  return true;
}

bool CgiResponseParser::finish() {
  if (location_.empty() || have_status_) return true;
  if (location_[0] == '/') {
    // RFC 3875 6.2.2: a local redirect; the server serves that URL itself.
    head_.local_redirect = location_;
    return true;
  }
  // 6.2.3: a client redirect.
  head_.status = 302;
  return true;
}

}  // namespace itkd
