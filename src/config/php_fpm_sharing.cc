#include "config/php_fpm_sharing.h"

#include <map>
#include <set>

namespace itkd {

namespace {

// Where a set of settings applies, for the message.
struct Scope {
  std::string name;  // "alice.test" or "alice.test <Directory /srv/a/admin>"
  SourceLocation where;
  std::string settings;  // PHP_VALUE + PHP_ADMIN_VALUE as php-fpm would get them
};

std::set<std::string> php_fpm_backends(const VirtualHost& v) {
  std::set<std::string> out;
  auto add = [&out](const HandlerSpec& h) {
    if (h.kind == HandlerSpec::Kind::ProxyFcgi) out.insert(h.backend.describe());
  };
  if (v.set_handler) add(*v.set_handler);
  for (const auto& [ext, h] : v.add_handlers) add(h);
  for (const auto& f : v.files_blocks)
    if (f.set_handler) add(*f.set_handler);
  for (const auto& d : v.directories) {
    if (d.set_handler) add(*d.set_handler);
    for (const auto& [ext, h] : d.add_handlers) add(h);
  }
  for (const auto& r : v.proxy_pass_matches) out.insert(r.backend.describe());
  return out;
}

std::string as_sent(const std::vector<PhpIniSetting>& settings) {
  std::string text = php_fpm_ini_param(settings, false);
  std::string admin = php_fpm_ini_param(settings, true);
  if (!admin.empty()) text += "admin:" + admin;
  return text;
}

std::string shown(const std::string& settings) {
  if (settings.empty()) return "none";
  std::string out;
  for (char c : settings) out += c == '\n' ? ';' : c;
  return out;
}

}  // namespace

std::vector<PhpFpmSettingsClash> find_php_fpm_settings_clashes(const std::vector<const VirtualHost*>& vhosts) {
  std::map<std::string, std::vector<Scope>> by_backend;
  // vhosts[0] is the main server; with vhosts configured it serves only addresses none
  // of them listens on, so it would mostly add noise here.
  for (size_t i = vhosts.size() > 1 ? 1 : 0; i < vhosts.size(); ++i) {
    const VirtualHost& v = *vhosts[i];
    std::set<std::string> backends = php_fpm_backends(v);
    if (backends.empty()) continue;
    std::string name = v.server_name.empty() ? (i == 0 ? "the main server" : "vhost #" + std::to_string(i))
                                             : v.server_name;
    std::vector<Scope> scopes;
    if (!php_engine_off(v.php_ini)) scopes.push_back({name, v.where, as_sent(v.php_ini)});
    for (const auto& d : v.directories) {
      if (d.php_ini.empty()) continue;
      std::vector<PhpIniSetting> merged = v.php_ini;
      merge_php_ini(merged, d.php_ini);
      if (php_engine_off(merged)) continue;
      scopes.push_back({name + " <Directory" + (d.is_regex ? "Match " : " ") + d.path + ">", d.where, as_sent(merged)});
    }
    for (const std::string& b : backends)
      for (const Scope& s : scopes) by_backend[b].push_back(s);
  }
  std::vector<PhpFpmSettingsClash> clashes;
  for (const auto& [backend, scopes] : by_backend) {
    for (size_t i = 1; i < scopes.size(); ++i) {
      if (scopes[i].settings == scopes[0].settings) continue;
      clashes.push_back({scopes[i].where,
                         "php-fpm at " + backend + " gets different php_value/php_admin_value settings from " +
                             scopes[0].name + " (" + shown(scopes[0].settings) + ", " + scopes[0].where.str() +
                             ") and " + scopes[i].name + " (" + shown(scopes[i].settings) +
                             "): php-fpm keeps a request's settings in the child process that served it, so "
                             "later requests of the other run with them too; give each its own php-fpm "
                             "pool, or set them in the pool's configuration (php_admin_value[...])"});
      break;  // one line per backend is enough to act on
    }
  }
  return clashes;
}

}  // namespace itkd
