// Where a directive was written: every config message names its file:line.
#pragma once

#include <string>

namespace itkd {

struct SourceLocation {
  std::string file;
  int line = 0;
  std::string str() const { return file + ":" + std::to_string(line); }
};

}  // namespace itkd
