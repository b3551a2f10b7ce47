#include "worker/cgi/response_relay.h"

namespace itkd {

bool ResponseRelay::feed(std::string_view data) {
  if (settled_) return false;
  if (head_sent_) {
    if (!data.empty()) sink_.send_body(data);
    return true;
  }
  auto step = parser_.feed(data);
  switch (step.state) {
    case CgiResponseParser::State::NeedMore:
      return true;
    case CgiResponseParser::State::Error:
      settled_ = true;
      sink_.fail(500, "malformed header from script '" + script_ + "': " + parser_.error());
      return false;
    case CgiResponseParser::State::Done:
      break;
  }
  const CgiResponseHead& head = parser_.head();
  if (!head.local_redirect.empty()) {
    settled_ = true;
    sink_.internal_redirect(head.local_redirect);
    return false;
  }
  head_sent_ = true;
  auto alive = guard_.token();
  sink_.send_head(head.status, head.headers);
  if (!*alive) return false;
  if (step.consumed < data.size()) sink_.send_body(data.substr(step.consumed));
  return true;
}

void ResponseRelay::finish() {
  if (settled_) return;
  settled_ = true;
  if (head_sent_) {
    sink_.end_body();
    return;
  }
  sink_.fail(500, "End of script output before headers: " + script_);
}

}  // namespace itkd
