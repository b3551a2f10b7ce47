#include "worker/handler_choice.h"

#include <fnmatch.h>
#include <regex.h>

#include <algorithm>
#include <memory>
#include <unordered_map>

namespace itkd {

namespace {

struct CompiledRegex {
  regex_t re{};
  bool ok = false;
  ~CompiledRegex() {
    if (ok) regfree(&re);
  }
};

// The config is fixed for a worker's lifetime: compile each pattern once. A pattern the
// parser let through but regcomp refuses never matches. (ProxyPassMatch needs the
// captures; plain matching uses regex_matches from the static handler.)
const CompiledRegex& compiled(const std::string& pattern) {
  thread_local std::unordered_map<std::string, std::unique_ptr<CompiledRegex>> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    if (cache.size() >= 4096) cache.clear();  // .htaccess files bring new patterns as they change
    auto c = std::make_unique<CompiledRegex>();
    c->ok = regcomp(&c->re, pattern.c_str(), REG_EXTENDED) == 0;
    it = cache.emplace(pattern, std::move(c)).first;
  }
  return *it->second;
}

size_t component_count(std::string_view path) {
  return static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// mod_php's "php_admin_flag engine off" (the usual guard on an uploads directory) turns
// PHP off there, and Apache serves the file as a file. php-cgi and php-fpm ignore the
// setting (it only exists in the Apache module), so the worker applies it: a PHP handler
// is not run where it is off.
bool php_engine_off(const VirtualHost& vhost, const std::string& dir) {
  return php_engine_off(php_ini_for_directory(vhost, dir));
}

}  // namespace

HandlerChoice choose_handler(const VirtualHost& vhost, std::string_view fs_path,
                             bool via_script_alias, const DirectorySettings& dir_settings) {
  std::string path(fs_path);
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);

  // SetHandler and AddHandler as the <Directory> blocks merge (deepest last, then regex).
  std::optional<HandlerSpec> set = vhost.set_handler;
  std::map<std::string, HandlerSpec> add = vhost.add_handlers;
  std::vector<const DirectoryBlock*> blocks;
  for (const DirectoryBlock& b : vhost.directories)
    if (!b.is_regex && directory_block_covers(b, dir)) blocks.push_back(&b);
  std::stable_sort(blocks.begin(), blocks.end(), [](const DirectoryBlock* a, const DirectoryBlock* b) {
    return component_count(a->path) < component_count(b->path);
  });
  for (const DirectoryBlock& b : vhost.directories)
    if (b.is_regex && regex_matches(b.path, dir)) blocks.push_back(&b);
  for (const DirectoryBlock* b : blocks) {
    if (b->set_handler) set = b->set_handler;
    for (const auto& [ext, h] : b->add_handlers) add[ext] = h;
    for (const std::string& ext : b->remove_handlers) {
      // Only what enclosing scopes added: this block's own AddHandler was parsed after.
      auto own = b->add_handlers.find(ext);
      if (own == b->add_handlers.end()) add.erase(ext);
    }
  }
  // <Files>/<FilesMatch> are merged after <Directory>, in config order.
  for (const FilesBlock& f : vhost.files_blocks)
    if (f.set_handler && files_block_matches(f, dir, base)) set = f.set_handler;

  // "SetHandler None" only undoes an earlier SetHandler; ScriptAlias and AddHandler still apply.
  std::optional<HandlerSpec> chosen;
  if (set && set->kind != HandlerSpec::Kind::Default) chosen = set;
  if (!chosen && via_script_alias) chosen = HandlerSpec{HandlerSpec::Kind::Cgi, {}};
  if (!chosen) {
    // mod_mime: every extension after the first dot counts ("x.cgi.en"), the last one
    // with a handler wins.
    std::string lower = ascii_lower(base);
    size_t dot = lower.find('.');
    while (dot != std::string::npos) {
      size_t next = lower.find('.', dot + 1);
      std::string ext = lower.substr(dot, next == std::string::npos ? std::string::npos : next - dot);
      if (auto it = add.find(ext); it != add.end() && ext.size() > 1) chosen = it->second;
      dot = next;
    }
  }

  HandlerChoice out;
  if (!chosen || chosen->kind == HandlerSpec::Kind::Default) return out;
  if (chosen->kind == HandlerSpec::Kind::ProxyFcgi) {
    if (php_engine_off(vhost, dir)) return out;  // php-fpm, in practice
    out.kind = HandlerChoice::Kind::ProxyFcgi;
    out.backend = chosen->backend;
    return out;
  }
  if (!via_script_alias && !(dir_settings.options & kOptExecCGI)) {
    out.kind = HandlerChoice::Kind::Forbidden;
    out.reason = "AH01211: Options ExecCGI is off in this directory: " + path;
    return out;
  }
  if (chosen->kind == HandlerSpec::Kind::Cgi) {
    out.kind = HandlerChoice::Kind::Cgi;
    return out;
  }
  out.kind = HandlerChoice::Kind::Fcgid;
  size_t dot = base.rfind('.');
  std::string ext = dot == std::string::npos ? "" : ascii_lower(base.substr(dot));
  if (auto it = vhost.fcgid.wrappers.find(ext); !ext.empty() && it != vhost.fcgid.wrappers.end()) {
    out.wrapper = it->second;
  } else if (auto all = vhost.fcgid.wrappers.find(""); all != vhost.fcgid.wrappers.end()) {
    out.wrapper = all->second;
  }
  if (is_php_cgi_command(out.wrapper) && php_engine_off(vhost, dir)) return HandlerChoice{};
  return out;
}

std::optional<ProxyPassTarget> match_proxy_pass(const VirtualHost& vhost, std::string_view url_path) {
  std::string url(url_path);
  for (const ProxyPassMatchRule& rule : vhost.proxy_pass_matches) {
    const CompiledRegex& c = compiled(rule.regex);
    regmatch_t m[10];
    if (!c.ok || regexec(&c.re, url.c_str(), 10, m, 0) != 0) continue;
    ProxyPassTarget t;
    t.backend = rule.backend;
    const std::string& tpl = rule.path_template;
    for (size_t i = 0; i < tpl.size(); ++i) {
      if (tpl[i] == '$' && i + 1 < tpl.size() && tpl[i + 1] >= '0' && tpl[i + 1] <= '9') {
        const regmatch_t& g = m[tpl[i + 1] - '0'];
        if (g.rm_so >= 0) t.script_filename.append(url, static_cast<size_t>(g.rm_so),
                                                   static_cast<size_t>(g.rm_eo - g.rm_so));
        ++i;
      } else {
        t.script_filename += tpl[i];
      }
    }
    return t;
  }
  return std::nullopt;
}

}  // namespace itkd
