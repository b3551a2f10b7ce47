#include "worker/static/static_handler.h"

#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "http/response_head.h"
#include "worker/static/conditional_request.h"
#include "worker/static/directory_listing.h"
#include "worker/static/error_pages.h"
#include "worker/static/path_mapping.h"
#include "worker/static/safe_open.h"

namespace itkd {

namespace {

constexpr std::string_view kAllow = "GET, HEAD, OPTIONS";

void add_header(std::string& headers, std::string_view name, std::string_view value) {
  headers.append(name);
  headers.append(": ");
  headers.append(value);
  headers.append("\r\n");
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// mod_mime: the vhost's AddType first, then TypesConfig; AddDefaultCharset only touches
// text/plain and text/html without a charset (Apache 2.4 core documentation).
std::string content_type_for(const StaticRequest& req, std::string_view fs_path) {
  std::string_view name = fs_path.substr(fs_path.rfind('/') + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return {};
  std::string ext = lowercase(name.substr(dot + 1));
  std::string type;
  const std::string* added = nullptr;
  const std::string* charset = &req.vhost.default_charset;
  if (auto it = req.vhost.add_types.find("." + ext); it != req.vhost.add_types.end()) added = &it->second;
  if (req.vhost.has_directory_types) {
    // The file's <Directory> (and .htaccess) blocks, deepest last, over the vhost's.
    size_t slash = fs_path.rfind('/');
    std::string dir(slash == 0 || slash == std::string_view::npos ? std::string_view("/") : fs_path.substr(0, slash));
    for (const DirectoryBlock* block : directory_blocks_for(req.vhost, dir)) {
      if (auto it = block->add_types.find("." + ext); it != block->add_types.end()) added = &it->second;
      if (block->default_charset) charset = &*block->default_charset;
    }
  }
  type = added ? *added : std::string(req.mime.lookup(ext));
  const std::string& cs = *charset;
  if (!cs.empty() && lowercase(cs) != "off" && (type == "text/plain" || type == "text/html") &&
      type.find(';') == std::string::npos) {
    type += "; charset=";
    type += lowercase(cs) == "on" ? "iso-8859-1" : cs;
  }
  return type;
}

class Handler {
 public:
  explicit Handler(const StaticRequest& req)
      : req_(req), head_only_(req.head.method == http::Method::Head) {}

  StaticResponse run();

 private:
  StaticResponse serve_mapped(const std::string& url_path, const UrlMapping& mapping);
  StaticResponse serve_directory(const std::string& url_path, OpenedPath& dir,
                                 const DirectorySettings& settings);
  StaticResponse serve_file(OpenedPath& file);
  StaticResponse redirect(int status, std::string location);
  // An error answer: ErrorDocument if one applies, else Apache's built-in page.
  StaticResponse error(int status, std::string log_reason, std::string filename = {},
                       std::string extra_headers = {});
  StaticResponse builtin_page(int status, std::string extra_headers, std::string location = {});
  // 403, 401 (asking for credentials) or 500 from the access rules.
  StaticResponse refused(AccessVerdict verdict, const std::string& path) {
    if (verdict.status == 403) return error(403, "client denied by server configuration: " + path, path);
    return error(verdict.status, std::move(verdict.log_reason), path, std::move(verdict.extra_headers));
  }
  bool serve_error_document(const std::string& local_url, StaticResponse& out);
  void finish_body(StaticResponse& r, std::string_view content_type);

  const StaticRequest& req_;
  bool head_only_;
  bool in_error_document_ = false;
  bool in_fallback_ = false;  // serving a FallbackResource: no second fallback
  // The directory of the file being answered, whose <Directory> ErrorDocument lines
  // apply (set only when the vhost has such lines).
  std::string error_dir_;
 public:
  std::string remote_user_;   // who authenticated for this request (Basic), if anyone
};

void Handler::finish_body(StaticResponse& r, std::string_view content_type) {
  if (!content_type.empty()) add_header(r.headers, "Content-Type", content_type);
  add_header(r.headers, "Content-Length", std::to_string(r.body.size()));
  if (head_only_) r.body.clear();
}

StaticResponse Handler::builtin_page(int status, std::string extra_headers,
                                     std::string location) {
  StaticResponse r;
  r.status = status;
  r.headers = std::move(extra_headers);
  if (!location.empty()) add_header(r.headers, "Location", location);
  r.body = default_error_body(status, req_.head.method_text, location);
  finish_body(r, kErrorPageContentType);
  return r;
}

StaticResponse Handler::redirect(int status, std::string location) {
  return builtin_page(status, {}, std::move(location));
}

StaticResponse Handler::error(int status, std::string log_reason, std::string filename,
                              std::string extra_headers) {
  const ErrorDocumentRule* rule = nullptr;
  if (!in_error_document_) {
    for (const ErrorDocumentRule& r : req_.vhost.error_documents) {
      if (r.status == status) rule = &r;  // the last one for a status wins, as in Apache
    }
    if (!error_dir_.empty()) {
      for (const DirectoryBlock* block : directory_blocks_for(req_.vhost, error_dir_))
        for (const ErrorDocumentRule& r : block->error_documents)
          if (r.status == status) rule = &r;
      if (rule && rule->kind == ErrorDocumentRule::Kind::Text && rule->value == "default") rule = nullptr;
    }
  }
  StaticResponse r;
  if (rule && rule->kind == ErrorDocumentRule::Kind::ExternalUrl) {
    // Apache turns an external ErrorDocument into a plain 302 to it.
    r = builtin_page(302, std::move(extra_headers), rule->value);
  } else if (rule && rule->kind == ErrorDocumentRule::Kind::Text) {
    r.status = status;
    r.headers = std::move(extra_headers);
    r.body = rule->value;
    finish_body(r, kErrorPageContentType);
  } else if (rule && rule->kind == ErrorDocumentRule::Kind::LocalUrl &&
             serve_error_document(rule->value, r)) {
    r.status = status;
    r.headers.insert(0, extra_headers);
  } else {
    r = builtin_page(status, std::move(extra_headers));
  }
  r.log_reason = std::move(log_reason);
  r.filename = std::move(filename);
  return r;
}

// Internal redirect to a local ErrorDocument, served with GET semantics and without
// conditionals; false (use the built-in page) if it is not a servable 200 itself.
bool Handler::serve_error_document(const std::string& local_url, StaticResponse& out) {
  std::string_view raw = local_url;
  raw = raw.substr(0, raw.find('?'));
  std::string decoded;
  std::string path;
  if (percent_decode_path_checked(raw, decoded) != DecodeStatus::Ok ||
      !remove_dot_segments(decoded, path)) {
    return false;
  }
  UrlMapping mapping = map_url(req_.vhost, path, {}, false, req_.scheme, req_.authority);
  if (mapping.redirect_status != 0) return false;
  if (req_.runs_handler) {
    std::string relative = mapping.relative;
    while (!relative.empty() && relative.back() == '/') relative.pop_back();
    std::string fs = mapping.base + (relative.empty() ? "" : "/" + relative);
    if (req_.runs_handler(path, fs, mapping.is_script)) {
      // "ErrorDocument 404 /404.php": PHP answers it; its source is never the page.
      out = StaticResponse{};
      out.error_document_script = local_url;
      return true;
    }
  }
  in_error_document_ = true;
  StaticResponse r = serve_mapped(path, mapping);
  in_error_document_ = false;
  if (r.status != 200) return false;
  // Validators describe the error document, not the failed resource: drop them.
  std::string kept;
  size_t pos = 0;
  while (pos < r.headers.size()) {
    size_t end = r.headers.find("\r\n", pos);
    std::string_view line(r.headers.data() + pos, end - pos);
    if (line.rfind("Content-Type:", 0) == 0 || line.rfind("Content-Length:", 0) == 0) {
      kept.append(line);
      kept.append("\r\n");
    }
    pos = end + 2;
  }
  r.headers = std::move(kept);
  out = std::move(r);
  return true;
}

StaticResponse Handler::run() {
  const http::RequestHead& head = req_.head;
  bool options = head.method == http::Method::Options;
  if (options && (head.form == http::TargetForm::Asterisk || head.path == "*")) {
    StaticResponse r;
    add_header(r.headers, "Allow", kAllow);
    add_header(r.headers, "Content-Length", "0");
    return r;
  }
  if (req_.forced_status >= 300 && req_.forced_status < 400 && !req_.forced_location.empty())
    return redirect(req_.forced_status, std::string(req_.forced_location));
  if (req_.forced_status)
    return error(req_.forced_status, std::string(req_.forced_reason), {}, std::string(req_.forced_headers));

  std::string decoded;
  switch (percent_decode_path_checked(head.path, decoded)) {
    case DecodeStatus::Ok:
      break;
    case DecodeStatus::EncodedSlash:
      // AllowEncodedSlashes Off: Apache answers 404 (AH00026).
      return error(404, "found %2f (encoded '/') in URI path (" + std::string(head.path) +
                            "), returning 404");
    case DecodeStatus::Nul:
      return error(400, "NUL byte in URI path (" + std::string(head.path) + ")");
    case DecodeStatus::Invalid:
      return error(400, "invalid percent-encoding in URI path (" + std::string(head.path) + ")");
  }
  std::string path;
  if (!remove_dot_segments(decoded, path)) {
    return error(400, "invalid URI path (" + std::string(head.path) + ")");
  }

  UrlMapping mapping =
      map_url(req_.vhost, path, head.query, head.has_query, req_.scheme, req_.authority);
  if (mapping.redirect_status == 410) return error(410, {});
  if (mapping.redirect_status != 0) return redirect(mapping.redirect_status, mapping.location);

  if (options) {
    StaticResponse r;
    add_header(r.headers, "Allow", kAllow);
    add_header(r.headers, "Content-Length", "0");
    return r;
  }
  if (head.method == http::Method::Other) {
    return error(501, "method " + std::string(head.method_text) + " not implemented");
  }
  if (head.method != http::Method::Get && head.method != http::Method::Head) {
    std::string allow;
    add_header(allow, "Allow", kAllow);
    return error(405, {}, {}, std::move(allow));
  }
  return serve_mapped(path, mapping);
}

StaticResponse Handler::serve_mapped(const std::string& url_path, const UrlMapping& mapping) {
  std::string_view relative = mapping.relative;
  bool trailing_slash = url_path.size() > 1 && url_path.back() == '/';
  while (!relative.empty() && relative.back() == '/') relative.remove_suffix(1);

  if (mapping.is_script) {
    std::string fs = mapping.base + (relative.empty() ? "" : "/") + std::string(relative);
    // The worker runs what a ScriptAlias maps to before this handler is asked; whatever
    // reaches here is not a script it could run.
    return error(403, "ScriptAlias target is not a runnable script: " + fs, fs);
  }

  if (req_.vhost.has_directory_error_documents) {
    // A directory's own ErrorDocument: the file's directory, or the directory asked for.
    std::string fs = mapping.base + (relative.empty() ? "" : "/") + std::string(relative);
    size_t slash = fs.rfind('/');
    error_dir_ = trailing_slash || relative.empty() || slash == std::string::npos ? fs
                 : slash == 0                                                    ? "/"
                                                                                 : fs.substr(0, slash);
  }
  OpenedPath opened = open_beneath(req_.vhost, mapping.base, -1, relative, req_.files, req_.now_ms);
  // Require all denied answers 403 whether or not the file exists, as Apache's access
  // check runs before the handler looks at the file; <Files> blocks judge the name.
  // (The docroot or Alias target itself has no name of its own to judge.) The full path
  // is built only when a rule could apply: this runs for every static request.
  auto mapped_path = [&] {
    return relative.empty() ? mapping.base : (mapping.base == "/" ? "" : mapping.base) + "/" + std::string(relative);
  };
  EffectiveAccess access = opened.containing.access;
  std::string_view name = relative.substr(relative.rfind('/') + 1);
  if (!relative.empty() && (name.rfind(".ht", 0) == 0 || has_files_access_rules(req_.vhost)))
    access = access_for_file(req_.vhost, mapped_path(), access);
  if (!req_.vhost.locations.empty()) apply_locations(req_.vhost, url_path, access);
  if (!access.unrestricted()) {
    AccessVerdict verdict = judge_access(access, req_.client, req_.head, url_path);
    if (verdict.status) return refused(std::move(verdict), mapped_path());
    remote_user_ = std::move(verdict.remote_user);
  }
  if (opened.status == 404 && req_.fallback_allowed && !in_fallback_ && !in_error_document_) {
    // mod_dir's FallbackResource: nothing in the filesystem, so the fallback URL answers,
    // with its own status (a front controller's 200), as Apache's fast redirect does.
    if (auto fallback = fallback_path(req_.vhost, opened.fs_path, url_path)) {
      UrlMapping fallback_mapping = map_url(req_.vhost, *fallback, req_.head.query, req_.head.has_query,
                                            req_.scheme, req_.authority);
      in_fallback_ = true;
      StaticResponse r = serve_mapped(*fallback, fallback_mapping);
      in_fallback_ = false;
      if (r.status == 404 && r.log_reason.rfind("FallbackResource", 0) != 0)
        r.log_reason = "FallbackResource " + *fallback + " (for " + opened.fs_path + ") does not exist";
      return r;
    }
  }
  if (opened.status != 0) return error(opened.status, opened.log_reason, opened.fs_path);

  if (S_ISDIR(opened.st.st_mode)) {
    DirectorySettings settings = settings_for_directory(req_.vhost, opened.fs_path);
    EffectiveAccess dir_access = settings.access;
    if (!req_.vhost.locations.empty()) apply_locations(req_.vhost, url_path, dir_access);
    if (!dir_access.unrestricted()) {
      AccessVerdict verdict = judge_access(dir_access, req_.client, req_.head, url_path);
      if (verdict.status) return refused(std::move(verdict), opened.fs_path);
      remote_user_ = std::move(verdict.remote_user);
    }
    if (!trailing_slash && url_path != "/") {
      if (in_error_document_) return error(404, {}, opened.fs_path);
      std::string location = absolute_url_prefix(req_.vhost, req_.scheme, req_.authority) +
                             escape_url_path(url_path) + "/";
      if (req_.head.has_query) {
        location += '?';
        location += req_.head.query;
      }
      return redirect(301, std::move(location));
    }
    return serve_directory(url_path, opened, settings);
  }
  if (S_ISREG(opened.st.st_mode)) {
    if (trailing_slash) {
      // "/file.html/": no PATH_INFO for static files (AcceptPathInfo Default).
      return error(404, "File does not exist: " + opened.fs_path + "/", opened.fs_path);
    }
    return serve_file(opened);
  }
  return error(403, "Not a regular file or directory, refusing to serve: " + opened.fs_path,
               opened.fs_path);
}

StaticResponse Handler::serve_directory(const std::string& url_path, OpenedPath& dir,
                                        const DirectorySettings& settings) {
  // mod_dir: the first index that exists wins; an index that exists but is refused is
  // remembered and answered if none can be served.
  int refused_status = 0;
  std::string refused_reason;
  std::string refused_file;
  for (const std::string& index : settings.directory_index) {
    if (index.empty() || index.find('/') != std::string::npos || index == "." ||
        index == "..") {
      continue;
    }
    OpenedPath file = open_beneath(req_.vhost, dir.fs_path, dir.fd.get(), index);
    if (file.status == 0 && S_ISREG(file.st.st_mode)) return serve_file(file);
    if (file.status == 404) continue;
    if (file.status == 0 && S_ISDIR(file.st.st_mode)) continue;
    if (refused_status == 0) {
      refused_status = file.status != 0 ? file.status : 403;
      refused_reason = file.status != 0 ? file.log_reason
                                        : "Not a regular file, refusing to serve: " + file.fs_path;
      refused_file = file.fs_path;
    }
  }
  if (refused_status != 0) return error(refused_status, refused_reason, refused_file);

  std::string names;
  for (const std::string& index : settings.directory_index) {
    if (!names.empty()) names += ", ";
    names += index;
  }
  if (!(settings.options & kOptIndexes) || in_error_document_) {
    return error(403,
                 "Cannot serve directory " + dir.fs_path + "/: No matching DirectoryIndex (" +
                     names +
                     ") found, and server-generated directory index forbidden by Options "
                     "directive",
                 dir.fs_path);
  }
  UniqueFd readable = open_for_reading(dir);
  StaticResponse r;
  // What this client, as whoever it authenticated as, could fetch.
  auto denied = [this, &dir, &settings](std::string_view name) {
    EffectiveAccess a = access_for_file(req_.vhost, dir.fs_path + "/" + std::string(name), settings.access);
    return !a.unrestricted() &&
           !access_granted(a, req_.client, req_.head.method_text, remote_user_.empty() ? nullptr : &remote_user_);
  };
  if (!readable || !render_directory_listing(readable.release(), url_path, settings.options, denied,
                                             r.body)) {
    int err = errno;
    return error(err == EACCES || err == EPERM ? 403 : 500,
                 errno_message("cannot read directory " + dir.fs_path, err), dir.fs_path);
  }
  r.filename = dir.fs_path;
  finish_body(r, "text/html; charset=UTF-8");
  return r;
}

StaticResponse Handler::serve_file(OpenedPath& file) {
  // Opened for HEAD too: HEAD must answer exactly what GET would (403 for mode 000).
  struct stat st {};
  SharedFd readable;
  if (file.cached) {
    readable = std::move(file.cached);
    st = file.st;
  } else {
    readable = SharedFd(open_for_reading(file, &st));
    if (readable && file.cacheable && req_.files) req_.files->insert(file.fs_path, readable, st, req_.now_ms);
  }
  if (!readable) {
    int err = errno;
    if (err == EACCES || err == EPERM) {
      // access() checks the modes only (Landlock doesn't answer it): if they let us read,
      // the refusal was OwnerConfinement's, and the admin should be told which.
      if (::faccessat(AT_FDCWD, file.fs_path.c_str(), R_OK, AT_EACCESS) == 0)
        return error(403, "outside the owner's paths (OwnerConfinement): " + file.fs_path, file.fs_path);
      return error(403, "file permissions deny server access: " + file.fs_path, file.fs_path);
    }
    if (err == ENOENT || err == ESTALE) {
      return error(404, "File does not exist (changed while opening): " + file.fs_path,
                   file.fs_path);
    }
    return error(500, errno_message("cannot open " + file.fs_path, err), file.fs_path);
  }

  StaticResponse r;
  r.filename = file.fs_path;
  std::string content_type = content_type_for(req_, file.fs_path);
  auto size = static_cast<uint64_t>(st.st_size);

  if (in_error_document_) {
    if (!content_type.empty()) add_header(r.headers, "Content-Type", content_type);
    add_header(r.headers, "Content-Length", std::to_string(size));
    if (!head_only_) {
      r.file = std::move(readable);
      r.file_length = size;
    }
    return r;
  }

  std::string etag = make_etag(st, file.containing.file_etag);
  time_t mtime = st.st_mtim.tv_sec;
  time_t now = time(nullptr);
  // Never promise a Last-Modified in the future (Apache's ap_rationalize_mtime).
  std::string last_modified = http::http_date(mtime < now ? mtime : now);
  std::string validators;
  add_header(validators, "Last-Modified", last_modified);
  if (!etag.empty()) add_header(validators, "ETag", etag);

  switch (evaluate_preconditions(req_.head, etag, mtime, now)) {
    case Precondition::NotModified:
      r.status = 304;
      r.headers = std::move(validators);
      return r;
    case Precondition::Failed:
      return error(412, {}, file.fs_path);
    case Precondition::Proceed:
      break;
  }

  if (!content_type.empty()) add_header(r.headers, "Content-Type", content_type);
  r.headers += validators;
  add_header(r.headers, "Accept-Ranges", "bytes");

  RangeDecision range = evaluate_range(req_.head, size, etag, mtime);
  if (range.kind == RangeDecision::Kind::Unsatisfiable) {
    std::string extra;
    add_header(extra, "Content-Range", "bytes */" + std::to_string(size));
    return error(416, {}, file.fs_path, std::move(extra));
  }
  uint64_t offset = 0;
  uint64_t length = size;
  if (range.kind == RangeDecision::Kind::Partial) {
    r.status = 206;
    offset = range.first;
    length = range.length;
    add_header(r.headers, "Content-Range",
               "bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1) +
                   "/" + std::to_string(size));
  }
  add_header(r.headers, "Content-Length", std::to_string(length));
  if (!head_only_) {
    r.file = std::move(readable);
    r.file_offset = offset;
    r.file_length = length;
  }
  return r;
}

}  // namespace

StaticResponse serve_static(const StaticRequest& request) {
  Handler h(request);
  StaticResponse r = h.run();
  r.remote_user = std::move(h.remote_user_);
  return r;
}

}  // namespace itkd
