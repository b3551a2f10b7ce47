#include "config/owner_paths.h"

#include <set>
#include <string_view>

namespace itkd {
namespace {

// Programs, libraries and their configuration (php-cgi, perl, the dynamic loader,
// /etc/php, zoneinfo), and /proc and /sys for what programs read about themselves.
// File permissions still decide within them (/etc/shadow stays root's).
constexpr const char* kSystemReadOnly[] = {
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/proc", "/sys",
    "/dev/zero", "/dev/random", "/dev/urandom",
};
// Shared scratch space every program expects to write (PHP's uploads and sys_get_temp_dir,
// mod_fcgid-style sockets), and Debian's PHP session directory (1733: files can be made
// there but not listed). The sticky bit and file modes keep owners apart inside them.
constexpr const char* kSystemReadWrite[] = {
    "/dev/null", "/dev/full", "/tmp", "/dev/shm", "/var/lib/php/sessions",
};

// php.ini settings that name places PHP itself opens.
std::vector<std::string> php_setting_paths(const PhpIniSetting& s) {
  std::vector<std::string> out;
  auto absolute = [&](std::string_view p) {
    while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
    if (!p.empty() && p[0] == '/') out.emplace_back(p);
  };
  if (s.name == "session.save_path") {
    // "N;MODE;/path" or "N;/path": the path is the last field.
    std::string_view v = s.value;
    if (auto semi = v.rfind(';'); semi != std::string_view::npos) v.remove_prefix(semi + 1);
    absolute(v);
  } else if (s.name == "upload_tmp_dir" || s.name == "sys_temp_dir" || s.name == "error_log" ||
             s.name == "opcache.file_cache" || s.name == "soap.wsdl_cache_dir") {
    absolute(s.value);
  } else if (s.name == "open_basedir") {
    std::string_view v = s.value;
    while (!v.empty()) {
      size_t colon = v.find(':');
      absolute(v.substr(0, colon));
      if (colon == std::string_view::npos) break;
      v.remove_prefix(colon + 1);
    }
  }
  return out;
}

class GrantList {
 public:
  void add(std::string path, bool writable, std::string reason, bool only_if_owned = false) {
    if (path.empty() || path[0] != '/') return;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (!seen_.insert(path).second) {
      // Named twice: writable wins (a read-only system path is never named writable by a
      // vhost in practice, and the stricter reading would break the vhost that asked), and
      // a name from the configuration counts whoever owns the path (a home that is also a
      // DocumentRoot).
      for (auto& g : grants_) {
        if (g.path != path) continue;
        g.writable = g.writable || writable;
        g.only_if_owned = g.only_if_owned && only_if_owned;
      }
      return;
    }
    grants_.push_back(OwnerPathGrant{std::move(path), writable, only_if_owned, std::move(reason)});
  }
  std::vector<OwnerPathGrant> take() { return std::move(grants_); }

 private:
  std::vector<OwnerPathGrant> grants_;
  std::set<std::string> seen_;
};

std::string vhost_name(const VirtualHost& v) {
  if (v.is_main_server) return "the main server";
  return v.server_name.empty() ? "a vhost at " + v.where.str() : v.server_name;
}

void add_access_file(GrantList& list, const AccessRules& a, const std::string& of) {
  if (a.auth_user_file) list.add(*a.auth_user_file, false, "AuthUserFile of " + of);
}

}  // namespace

std::vector<OwnerPathGrant> owner_path_grants(const ServerConfig& config, const Pool& pool) {
  GrantList list;
  for (const char* p : kSystemReadOnly) list.add(p, false, "system");
  for (const char* p : kSystemReadWrite) list.add(p, true, "system");
  if (!pool.home.empty() && pool.home != "/") list.add(pool.home, true, "home of " + pool.user, true);
  for (size_t index : pool.vhosts) {
    const VirtualHost& v = config.vhosts[index];
    const std::string of = vhost_name(v);
    if (!v.document_root.empty()) list.add(v.document_root, true, "DocumentRoot of " + of);
    for (const AliasRule& a : v.aliases)
      list.add(a.target, true, std::string(a.is_script ? "ScriptAlias" : "Alias") + " of " + of);
    for (const DirectoryBlock& d : v.directories) {
      add_access_file(list, d.access, of);
      for (const PhpIniSetting& s : d.php_ini)
        for (auto& p : php_setting_paths(s)) list.add(p, true, s.name + " of " + of);
    }
    for (const LocationBlock& l : v.locations) add_access_file(list, l.access, of);
    for (const FilesBlock& f : v.files_blocks) add_access_file(list, f.access, of);
    for (const PhpIniSetting& s : v.php_ini)
      for (auto& p : php_setting_paths(s)) list.add(p, true, s.name + " of " + of);
    for (const auto& [name, value] : v.fcgid.initial_env) {
      // Where php-cgi reads its ini files ("FcgidInitialEnv PHP_INI_SCAN_DIR :/srv/a/php.d").
      if (name != "PHP_INI_SCAN_DIR" && name != "PHPRC") continue;
      std::string_view rest = value;
      while (!rest.empty()) {
        size_t colon = rest.find(':');
        list.add(std::string(rest.substr(0, colon)), false, "FcgidInitialEnv " + name + " of " + of);
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
      }
    }
    for (const auto& [suffix, command] : v.fcgid.wrappers) {
      // The program is the command's first word ("/usr/bin/php-cgi -c /etc/x.ini").
      std::string program = command.substr(0, command.find_first_of(" \t"));
      list.add(program, false, "FcgidWrapper of " + of);
    }
    for (const OwnerPath& p : v.owner_paths)
      list.add(p.path, p.writable, std::string(p.writable ? "OwnerReadWritePaths" : "OwnerReadOnlyPaths") +
                                       " (" + p.where.str() + ")");
  }
  return list.take();
}

}  // namespace itkd
