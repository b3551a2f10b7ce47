// A script's stderr (CGI stderr pipe, FastCGI STDERR records) written to the vhost's
// error log one line at a time, as Apache does: "AH01215: <line>: /path/script".
#pragma once

#include <string>
#include <string_view>

#include "log/error_log.h"

namespace itkd {

class ScriptStderr {
 public:
  static constexpr size_t kMaxLine = 8192;

  ScriptStderr(const ErrorLog& log, std::string module, std::string client, std::string script)
      : log_(log), module_(std::move(module)), client_(std::move(client)), script_(std::move(script)) {}
  void feed(std::string_view data);
  // Writes a last unterminated line.
  void flush();

 private:
  void emit(std::string_view line);

  const ErrorLog& log_;
  std::string module_, client_, script_;
  std::string partial_;
};

}  // namespace itkd
