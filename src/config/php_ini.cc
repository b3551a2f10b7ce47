#include "config/php_ini.h"

#include <algorithm>

namespace itkd {

void merge_php_ini(std::vector<PhpIniSetting>& into, const std::vector<PhpIniSetting>& later) {
  for (const PhpIniSetting& s : later) {
    auto it = std::find_if(into.begin(), into.end(), [&](const PhpIniSetting& o) { return o.name == s.name; });
    if (it == into.end()) {
      into.push_back(s);
    } else if (s.admin || !it->admin) {
      *it = s;
    }
  }
}

std::vector<std::string> php_cgi_ini_args(const std::vector<PhpIniSetting>& settings) {
  std::vector<std::string> args;
  for (const PhpIniSetting& s : settings) {
    args.push_back("-d");
    args.push_back(s.name + "=" + s.value);
  }
  return args;
}

std::string php_fpm_ini_param(const std::vector<PhpIniSetting>& settings, bool admin) {
  std::string out;
  for (const PhpIniSetting& s : settings) {
    if (s.admin != admin) continue;
    if (!out.empty()) out += '\n';
    out += s.name;
    out += '=';
    out += s.value;
  }
  return out;
}

bool php_engine_off(const std::vector<PhpIniSetting>& settings) {
  bool off = false;
  for (const PhpIniSetting& s : settings) {
    if (s.name != "engine") continue;
    std::string v = s.value;
    for (char& c : v)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    off = v == "0" || v == "off" || v == "false" || v == "no" || v.empty();
  }
  return off;
}

bool is_php_cgi_command(std::string_view command) {
  std::string_view program = command.substr(0, command.find_first_of(" \t"));
  size_t slash = program.rfind('/');
  if (slash != std::string_view::npos) program.remove_prefix(slash + 1);
  // php-cgi, php-cgi8.2, php8.2-cgi
  if (program.rfind("php-cgi", 0) == 0) return true;
  return program.rfind("php", 0) == 0 && program.size() > 4 && program.substr(program.size() - 4) == "-cgi";
}

}  // namespace itkd
