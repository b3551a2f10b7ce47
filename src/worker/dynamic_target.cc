#include "worker/dynamic_target.h"

#include <sys/stat.h>

#include "worker/static/open_file_cache.h"
#include "worker/static/path_mapping.h"
#include "worker/static/safe_open.h"
#include "worker/static/static_handler.h"

namespace itkd {

namespace {

bool is_dynamic(const HandlerSpec& h) { return h.kind != HandlerSpec::Kind::Default; }

// The access rules' answer for a program: true (with `target` set to answer the error) if
// it may not run; else the authenticated user, if any, goes along (REMOTE_USER).
bool refuse(AccessVerdict verdict, const std::string& what, DynamicTarget& target) {
  if (verdict.status == 0) {
    target.remote_user = std::move(verdict.remote_user);
    return false;
  }
  target.error_status = verdict.status;
  target.reason = verdict.status == 403 ? "client denied by server configuration: " + what : verdict.log_reason;
  target.extra_headers = std::move(verdict.extra_headers);
  return true;
}

// CONTEXT_PREFIX / CONTEXT_DOCUMENT_ROOT: the Alias that mapped the URL, or the docroot.
void set_context(const VirtualHost& vhost, const std::string& path, CgiScript& script) {
  for (const AliasRule& a : vhost.aliases) {
    if (url_prefix_match(path, a.url_prefix) > 0) {
      script.context_prefix = a.url_prefix;
      script.context_document_root = a.target;
      return;
    }
  }
  script.context_prefix.clear();
  script.context_document_root = vhost.document_root;
}

// The file a URL path maps to, checked with the static handler's symlink rules, and the
// handler Apache would pick for it. nullopt: not a program.
std::optional<DynamicTarget> target_for_file(const VirtualHost& vhost, const std::string& url_path,
                                             const std::string& base, const std::string& relative,
                                             const std::string& path_info, bool via_script_alias,
                                             OpenFileCache* files, HandlerMemo* memo, uint64_t now_ms,
                                             const ClientAddresses& client, const http::RequestHead& head) {
  // Most requests of a PHP site are for static files: when the name alone says no
  // handler applies, leave the file to the static handler instead of opening it twice.
  std::string fs;
  std::optional<HandlerMemo::Decision> by_name;
  if (!via_script_alias && !relative.empty()) {
    fs = (base == "/" ? "" : base) + "/" + relative;
    if (memo) {
      by_name = memo->by_name(vhost, fs);
    } else {
      std::string parent = fs.substr(0, fs.rfind('/'));
      DirectorySettings dir = settings_for_directory(vhost, parent.empty() ? "/" : parent);
      by_name = HandlerMemo::Decision{choose_handler(vhost, fs, false, dir), access_for_file(vhost, fs, dir.access)};
    }
    // The static handler judges access to static files itself.
    if (by_name->choice.kind == HandlerChoice::Kind::Static) return std::nullopt;
  }
  OpenedPath opened = open_beneath(vhost, base, -1, relative, files, now_ms);
  // The next request for this script costs one stat instead of openat, fstat and close.
  if (files && opened.status == 0 && opened.cacheable && opened.readable && S_ISREG(opened.st.st_mode))
    files->insert(opened.fs_path, SharedFd(std::move(opened.fd)), opened.st, now_ms);
  DynamicTarget target;
  target.decoded_path = url_path;
  if (opened.status != 0) {
    if (!via_script_alias) return std::nullopt;  // the static handler explains it
    target.error_status = opened.status;
    target.reason = opened.log_reason;
    return target;
  }
  EffectiveAccess access = access_for_file(vhost, opened.fs_path, opened.containing.access);
  if (!vhost.locations.empty()) apply_locations(vhost, url_path, access);
  if (!access.unrestricted() && refuse(judge_access(access, client, head, url_path), opened.fs_path, target)) {
    return target;
  }
  if (!S_ISREG(opened.st.st_mode)) {
    if (!via_script_alias) return std::nullopt;
    target.error_status = 403;
    target.reason = "attempt to invoke directory as script: " + opened.fs_path;
    return target;
  }
  // Found by name, the file's directory is the one the name was judged in: same answer.
  target.choice = by_name && opened.fs_path == fs
                      ? std::move(by_name->choice)
                      : choose_handler(vhost, opened.fs_path, via_script_alias, opened.containing);
  if (target.choice.kind == HandlerChoice::Kind::Static) return std::nullopt;
  if (target.choice.kind == HandlerChoice::Kind::Forbidden) {
    target.error_status = 403;
    target.reason = target.choice.reason;
    return target;
  }
  target.script.filename = opened.fs_path;
  target.script.path_info = path_info;
  target.script.script_name = script_name_for(url_path, path_info);
  target.script.pass_authorization = opened.containing.cgi_pass_auth;
  set_context(vhost, url_path, target.script);
  return target;
}

}  // namespace

bool vhost_has_dynamic_handlers(const VirtualHost& vhost) {
  if (!vhost.proxy_pass_matches.empty() || !vhost.add_handlers.empty()) return true;
  if (vhost.set_handler && is_dynamic(*vhost.set_handler)) return true;
  for (const auto& a : vhost.aliases)
    if (a.is_script) return true;
  for (const auto& d : vhost.directories)
    if ((d.set_handler && is_dynamic(*d.set_handler)) || !d.add_handlers.empty()) return true;
  for (const auto& f : vhost.files_blocks)
    if (f.set_handler && is_dynamic(*f.set_handler)) return true;
  return false;
}

namespace {

std::optional<DynamicTarget> target_for_path(const VirtualHost& vhost, const std::string& path,
                                             const http::RequestHead& head, OpenFileCache* files,
                                             HandlerMemo* memo, uint64_t now_ms, const ClientAddresses& client,
                                             bool* fallback_blocked) {
  if (auto proxied = match_proxy_pass(vhost, path)) {
    DynamicTarget target;
    target.decoded_path = path;
    // No file is involved: only <Location> blocks apply, as for Apache's proxy: requests.
    if (!vhost.locations.empty()) {
      EffectiveAccess access;
      apply_locations(vhost, path, access);
      if (!access.unrestricted() && refuse(judge_access(access, client, head, path), path, target)) return target;
    }
    target.choice.kind = HandlerChoice::Kind::ProxyFcgi;
    target.choice.backend = proxied->backend;
    target.script = proxy_pass_script(proxied->script_filename, path);
    return target;
  }

  UrlMapping mapping = map_url(vhost, path, head.query, head.has_query, "http", {});
  if (mapping.redirect_status != 0) return std::nullopt;
  std::string relative = mapping.relative;
  while (!relative.empty() && relative.back() == '/') relative.pop_back();
  std::string fs = mapping.base + (relative.empty() ? "" : "/" + relative);

  // A script the open-file cache holds is a regular file, still the same one: its check
  // is the only stat this request pays for.
  struct stat st {};
  bool exists = false;
  if (files)
    if (auto hit = files->find(fs, now_ms)) {
      st = hit->st;
      exists = true;
    }
  if (exists || ::stat(fs.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      if (path.back() != '/' && !mapping.is_script) return std::nullopt;  // the static handler redirects
      // mod_dir: the first DirectoryIndex file that exists may itself be a program.
      DirectorySettings settings = settings_for_directory(vhost, fs);
      for (const std::string& index : settings.directory_index) {
        if (index.empty() || index.find('/') != std::string::npos) continue;
        struct stat ist {};
        if (::stat((fs + "/" + index).c_str(), &ist) != 0 || !S_ISREG(ist.st_mode)) continue;
        std::string rel = relative.empty() ? index : relative + "/" + index;
        return target_for_file(vhost, path + index, mapping.base, rel, {}, mapping.is_script, files, memo, now_ms, client, head);
      }
      if (mapping.is_script) {
        DynamicTarget target;
        target.error_status = 403;
        target.reason = "attempt to invoke directory as script: " + fs;
        return target;
      }
      return std::nullopt;
    }
    return target_for_file(vhost, path, mapping.base, relative, {}, mapping.is_script, files, memo, now_ms, client, head);
  }
  // "/cgi-bin/x.cgi/more": the longest existing file prefix is the script, the rest PATH_INFO.
  PathInfoSplit split = split_path_info(fs);
  if (split.found && split.filename.size() > mapping.base.size()) {
    std::string rel = split.filename.substr(mapping.base.size() + 1);
    return target_for_file(vhost, path, mapping.base, rel, split.path_info, mapping.is_script, files, memo, now_ms, client, head);
  }
  if (mapping.is_script) {
    DynamicTarget target;
    target.error_status = 404;
    target.reason = "script not found or unable to stat: " + fs;
    return target;
  }
  // Nothing in the filesystem: mod_dir's FallbackResource (a front controller such as
  // WordPress's /index.php), as a fast redirect: REQUEST_URI stays the client's.
  if (fallback_blocked) {
    if (auto fallback = fallback_path(vhost, fs, path)) {
      std::string parent = fs.substr(0, fs.rfind('/'));
      HandlerMemo::Decision fresh;
      if (!memo) {
        DirectorySettings dir = settings_for_directory(vhost, parent.empty() ? "/" : parent);
        fresh = HandlerMemo::Decision{choose_handler(vhost, fs, false, dir), access_for_file(vhost, fs, dir.access)};
      }
      const HandlerMemo::Decision& by_name = memo ? memo->by_name(vhost, fs) : fresh;
      EffectiveAccess access = by_name.access;
      if (!vhost.locations.empty()) apply_locations(vhost, path, access);
      // mod_dir falls back only where no handler is set: a missing .php stays a 404. A
      // refused name isn't fallen back from either: the static handler answers 403.
      if ((!access.unrestricted() && !access_granted(access, client)) ||
          by_name.choice.kind != HandlerChoice::Kind::Static) {
        *fallback_blocked = true;
        return std::nullopt;
      }
      return target_for_path(vhost, *fallback, head, files, memo, now_ms, client, nullptr);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<DynamicTarget> find_dynamic_target(const VirtualHost& vhost, const http::RequestHead& head,
                                                 OpenFileCache* files, HandlerMemo* memo, uint64_t now_ms,
                                                 bool* fallback_blocked, const ClientAddresses& client) {
  if (head.method == http::Method::Options && head.form == http::TargetForm::Asterisk) return std::nullopt;
  std::string decoded;
  std::string path;
  if (!percent_decode_path(head.path, decoded) || !remove_dot_segments(decoded, path)) return std::nullopt;
  bool blocked_here = false;
  auto target = target_for_path(vhost, path, head, files, memo, now_ms, client, &blocked_here);
  if (fallback_blocked) *fallback_blocked = blocked_here;
  return target;
}

}  // namespace itkd
