// Content-Type by file extension: /etc/mime.types (TypesConfig) plus the vhost's AddType.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace itkd {

class MimeTypes {
 public:
  // Loads a mime.types file ("type ext1 ext2 ..." lines, # comments).
  static Result<MimeTypes> load(const std::string& path);
  static MimeTypes from_text(std::string_view text);
  // Extension without dot, lowercase ("html"). Empty view if unknown.
  std::string_view lookup(std::string_view extension) const;
  size_t size() const { return by_extension_.size(); }

 private:
  std::unordered_map<std::string, std::string> by_extension_;
};

}  // namespace itkd
