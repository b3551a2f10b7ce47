#include "worker/static/mime_types.h"

#include <cerrno>
#include <fstream>
#include <sstream>

namespace itkd {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

MimeTypes MimeTypes::from_text(std::string_view text) {
  MimeTypes types;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    // Everything after '#' is a comment, as in Apache's own reader.
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);

    std::string_view type;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_space(line[i])) ++i;
      size_t start = i;
      while (i < line.size() && !is_space(line[i])) ++i;
      if (start == i) break;
      std::string_view word = line.substr(start, i - start);
      if (type.empty()) {
        type = word;
        continue;
      }
      // Later lines win, like Apache's hash insert of the same extension.
      types.by_extension_[lowercase(word)] = lowercase(type);
    }
  }
  return types;
}

Result<MimeTypes> MimeTypes::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{errno_message("cannot read TypesConfig " + path +
                               " (install the media-types package or set TypesConfig)")};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return from_text(text.str());
}

std::string_view MimeTypes::lookup(std::string_view extension) const {
  auto it = by_extension_.find(std::string(extension));
  if (it == by_extension_.end()) return {};
  return it->second;
}

}  // namespace itkd
