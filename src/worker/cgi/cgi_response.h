// The header block a CGI script (or a FastCGI responder) writes before its body
// (RFC 3875 section 6), parsed incrementally: Status, Location, Content-Type and other
// fields, LF or CRLF line ends, a 16 KiB cap.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace itkd {

struct CgiResponseHead {
  int status = 200;
  // Lines "Name: value\r\n" to forward (Status is consumed; Date, Server, Connection,
  // Transfer-Encoding, Keep-Alive are dropped: the connection owns them).
  std::string headers;
  // "Location: /local" without Status: serve this URL instead (internal redirect).
  std::string local_redirect;
};

class CgiResponseParser {
 public:
  static constexpr size_t kMaxHeaderBlock = 16 * 1024;

  enum class State { NeedMore, Done, Error };
  struct Step {
    State state = State::NeedMore;
    size_t consumed = 0;  // bytes of this input that belonged to the header block
  };

  // Feeds script output; once Done, the input from `consumed` on is the body's start.
  Step feed(std::string_view data);
  State state() const { return state_; }
  const CgiResponseHead& head() const { return head_; }
  // After Error: "Bad header: ..." / "header block longer than 16384 bytes" ...
  const std::string& error() const { return error_; }

 private:
  bool take_line(std::string_view line);
  bool finish();

  State state_ = State::NeedMore;
  std::string line_;       // the current, incomplete line
  size_t total_ = 0;       // header bytes so far
  CgiResponseHead head_;
  bool have_status_ = false;
  std::string location_;
  std::string last_name_;  // for continuation lines
  std::string error_;
};

}  // namespace itkd
