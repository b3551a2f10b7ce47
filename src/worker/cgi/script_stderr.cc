#include "worker/cgi/script_stderr.h"

namespace itkd {

void ScriptStderr::feed(std::string_view data) {
  while (!data.empty()) {
    size_t lf = data.find('\n');
    if (lf == std::string_view::npos) {
      partial_.append(data);
      // An endless line is logged in pieces rather than held without bound.
      if (partial_.size() >= kMaxLine) flush();
      return;
    }
    partial_.append(data.substr(0, lf));
    data.remove_prefix(lf + 1);
    flush();
  }
}

void ScriptStderr::flush() {
  if (partial_.empty()) return;
  std::string line = std::move(partial_);
  partial_.clear();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  emit(line);
}

void ScriptStderr::emit(std::string_view line) {
  if (line.empty()) return;
  // error_log_line escapes control characters, so a script cannot forge log lines.
  std::string msg = "AH01215: ";
  msg += line;
  msg += ": ";
  msg += script_;
  log_.log(LogLevel::Error, module_, client_, msg);
}

}  // namespace itkd
