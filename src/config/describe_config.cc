// The `itkd -t` summary: what the server would run, in the admin's own terms.
#include <sys/stat.h>

#include <sstream>

#include "config/config_parser.h"
#include "config/owner_paths.h"

namespace itkd {
namespace {

void describe_confinement(std::ostringstream& out, const ServerConfig& c, const Pool& pool) {
  if (pool.private_tmp)
    out << "  /tmp is its own: " << c.owner_tmp_directory << "/" << pool.uid << " (OwnerPrivateTmp)\n";
  if (!pool.confined) {
    out << "  OwnerConfinement Off: its processes open whatever file permissions allow\n";
    return;
  }
  std::string system;
  std::ostringstream own;
  for (const OwnerPathGrant& g : owner_path_grants(c, pool)) {
    if (g.reason == "system") {
      system += " " + g.path;
      continue;
    }
    // A path that doesn't exist (a typo, a site not yet created) grants nothing.
    struct stat st {};
    own << "    " << (g.writable ? "rw " : "ro ") << g.path << " (" << g.reason
        << (g.only_if_owned ? ", if the owner owns it" : "") << ")"
        << (::stat(g.path.c_str(), &st) != 0 ? " -- does not exist: not granted" : "") << "\n";
  }
  out << "  confined to (Landlock):\n" << own.str() << "    and the system's:" << system << "\n";
}


std::string address_text(const VhostAddress& a) {
  std::string host = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  return host + ":" + (a.port ? std::to_string(a.port) : "*");
}

std::string vhost_label(const VirtualHost& v, size_t index) {
  if (v.is_main_server) return "main server";
  return v.server_name.empty() ? "#" + std::to_string(index) : v.server_name;
}

void describe_php(std::ostringstream& out, const std::vector<PhpIniSetting>& settings) {
  for (size_t i = 0; i < settings.size(); ++i) {
    out << (i ? ", " : " ") << (settings[i].admin ? "admin " : "") << settings[i].name << "="
        << settings[i].value;
  }
}

}  // namespace

std::string describe_config(const ServerConfig& c) {
  std::ostringstream out;
  out << "ServerRoot " << c.server_root << "\n";
  for (const auto& l : c.listeners) {
    std::string host = l.host.find(':') != std::string::npos ? "[" + l.host + "]" : l.host;
    out << "Listen " << (host.empty() ? "*" : host) << ":" << l.port << " (" << l.protocol;
    if (l.proxy_protocol) {
      out << ", PROXY header required";
      if (!l.proxy_protocol_exceptions.empty()) {
        std::string ranges;
        describe_ranges(ranges, l.proxy_protocol_exceptions);
        out << " except from" << ranges;
      }
    }
    out << ")\n";
  }
  out << "front: user " << c.front_user << " group " << c.front_group << ", chroot "
      << c.front_chroot << ", processes "
      << (c.front_processes ? std::to_string(c.front_processes) : std::string("one per core"))
      << "\n";
  for (size_t i = 0; i < c.vhosts.size(); ++i) {
    const VirtualHost& v = c.vhosts[i];
    const Pool* pool = v.pool < c.pools.size() ? &c.pools[v.pool] : nullptr;
    out << (v.is_main_server ? "main server" : "vhost " + vhost_label(v, i));
    if (v.is_main_server && !v.server_name.empty()) out << " " << v.server_name;
    if (!v.server_aliases.empty()) {
      out << " (aliases:";
      for (const auto& a : v.server_aliases) out << " " << a;
      out << ")";
    }
    if (!v.addresses.empty()) {
      out << " on";
      for (size_t k = 0; k < v.addresses.size(); ++k) out << (k ? ", " : " ") << address_text(v.addresses[k]);
    }
    out << " docroot " << (v.document_root.empty() ? "(none)" : v.document_root);
    if (v.tls.enabled) {
      out << " tls (cert " << v.tls.certificate_file << " key " << v.tls.certificate_key_file;
      if (!v.tls.certificate_chain_file.empty()) out << " chain " << v.tls.certificate_chain_file;
      out << ", SSLProtocol " << v.tls.protocol << ")";
    }
    if (pool) {
      out << " -> pool " << v.pool << " (" << pool->user << " uid " << pool->uid << " gid "
          << pool->gid << ")";
    }
    out << "\n";
    // What the vhost's PHP will see, after the merge (php_value & co.).
    if (!v.php_ini.empty()) {
      out << "  php:";
      describe_php(out, v.php_ini);
      out << "\n";
    }
    for (const DirectoryBlock& d : v.directories) {
      if (d.php_ini.empty()) continue;
      out << "  php in <Directory" << (d.is_regex ? "Match " : " ") << d.path << ">:";
      describe_php(out, d.php_ini);
      out << "\n";
    }
    // Who may come in, where it depends on the client (Require ip/local/valid-user,
    // Order/Allow/Deny, AuthType); plain "Require all granted|denied" blocks are not listed.
    auto access = [&out](const AccessRules& a, const std::string& section) {
      std::string text;
      if (a.require) {
        std::string r = describe_require(*a.require);
        if (r != "any(all granted)" && r != "any(all denied)") text = "Require " + r;
      }
      if (a.compat) text += (text.empty() ? "" : "; ") + describe_compat(*a.compat);
      if (a.satisfy_any && *a.satisfy_any && !text.empty()) text += "; Satisfy Any";
      if (a.auth_basic && *a.auth_basic) {
        text += std::string(text.empty() ? "" : "; ") + "AuthType Basic";
        if (a.auth_name) text += " \"" + *a.auth_name + "\"";
        if (a.auth_user_file) text += " AuthUserFile " + *a.auth_user_file;
      }
      if (!text.empty()) out << "  access in " << section << ": " << text << "\n";
    };
    for (const DirectoryBlock& d : v.directories)
      access(d.access, std::string("<Directory") + (d.is_regex ? "Match " : " ") + d.path + ">");
    for (const FilesBlock& f : v.files_blocks)
      access(f.access, std::string("<Files") + (f.is_regex ? "Match " : " ") + f.pattern + ">");
    for (const LocationBlock& l : v.locations)
      access(l.access, std::string("<Location") + (l.is_regex ? "Match " : " ") + l.pattern + ">");
    // Which URLs a front controller answers (FallbackResource).
    if (!v.fallback_resource.empty()) out << "  fallback: " << v.fallback_resource << "\n";
    for (const DirectoryBlock& d : v.directories) {
      if (!d.fallback_resource) continue;
      out << "  fallback in <Directory" << (d.is_regex ? "Match " : " ") << d.path
          << ">: " << (d.fallback_resource->empty() ? "disabled" : *d.fallback_resource) << "\n";
    }
    // mod_rewrite: how many rules run where (the rules themselves are in the config).
    if (v.rewrite.engine.value_or(false) && !v.rewrite.rules.empty())
      out << "  rewrite: " << v.rewrite.rules.size() << " rule(s) on the URL\n";
    for (const DirectoryBlock& d : v.directories) {
      if (d.rewrite.rules.empty()) continue;
      out << "  rewrite in <Directory " << d.path << ">: " << d.rewrite.rules.size() << " rule(s)"
          << (d.rewrite.engine ? (*d.rewrite.engine ? "" : ", RewriteEngine Off") : ", engine as the parent's")
          << (d.rewrite.base ? ", RewriteBase " + *d.rewrite.base : std::string()) << "\n";
    }
    // Where the owner's worker reads .htaccess files, and what they may say.
    for (const DirectoryBlock& d : v.directories) {
      if (!d.allow_override && !d.allow_override_list) continue;
      out << "  .htaccess in <Directory " << d.path << ">: ";
      unsigned c = d.allow_override ? d.allow_override->classes : 0;
      if (c == kOverrideAll) out << "All";
      else if (c == 0) out << "None";
      else {
        static const std::pair<unsigned, const char*> kNames[] = {
            {kOverrideAuthConfig, "AuthConfig"}, {kOverrideFileInfo, "FileInfo"}, {kOverrideIndexes, "Indexes"},
            {kOverrideLimit, "Limit"}, {kOverrideOptions, "Options"}};
        bool first = true;
        for (const auto& [bit, name] : kNames)
          if (c & bit) out << (first ? "" : " ") << name, first = false;
      }
      if (d.allow_override_list && !d.allow_override_list->empty()) {
        out << ", and";
        for (const std::string& n : *d.allow_override_list) out << " " << n;
      }
      if (v.access_file_names.size() != 1 || v.access_file_names[0] != ".htaccess") {
        out << " (files named";
        for (const std::string& n : v.access_file_names) out << " " << n;
        out << ")";
      }
      out << "\n";
    }
  }
  for (size_t p = 0; p < c.pools.size(); ++p) {
    const Pool& pool = c.pools[p];
    out << "pool " << p << ": " << pool.user << ":" << pool.group << " uid " << pool.uid
        << " gid " << pool.gid;
    if (!pool.groups.empty()) {
      out << " groups";
      for (size_t g = 0; g < pool.groups.size(); ++g) out << (g ? "," : " ") << pool.groups[g];
    }
    if (pool.nice_value) out << " nice " << pool.nice_value;
    out << ", vhosts:";
    for (size_t k = 0; k < pool.vhosts.size(); ++k) {
      out << (k ? ", " : " ") << vhost_label(c.vhosts[pool.vhosts[k]], pool.vhosts[k]);
    }
    out << "\n";
    describe_confinement(out, c, pool);
  }
  for (const auto& w : c.warnings) out << "warning: " << w << "\n";
  return out.str();
}

}  // namespace itkd
