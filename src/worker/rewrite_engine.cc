#include "worker/rewrite_engine.h"

#include <regex.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <strings.h>
#include <vector>

#include "worker/cgi/cgi_environment.h"
#include "worker/static/path_mapping.h"
#include "worker/static/static_handler.h"

namespace itkd {

namespace {

constexpr int kMaxRounds = 10;  // Apache's LimitInternalRecursion default

// The groups of the last match, over a copy of the text they index.
struct Captures {
  std::string text;
  std::array<regmatch_t, 10> m{};
  Captures() { clear(); }
  void clear() {
    text.clear();
    for (regmatch_t& r : m) r.rm_so = r.rm_eo = -1;
  }
  std::string_view group(int n) const {
    if (m[n].rm_so < 0) return {};
    return std::string_view(text).substr(m[n].rm_so, m[n].rm_eo - m[n].rm_so);
  }
};

bool is_absolute_url(std::string_view s) {
  size_t colon = s.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  for (char c : s.substr(0, colon))
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
      return false;
  return true;
}

// Bytes that must never reach a Location line or a request target raw: controls, space,
// DEL and non-ASCII, plus what ends the URL part they are in.
std::string escape_unsafe(std::string_view s, std::string_view also) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f || also.find(static_cast<char>(c)) != std::string_view::npos) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string_view header_value(const http::RequestHead& head, std::string_view name) {
  const http::HeaderField* f = head.find(name);
  return f ? f->value : std::string_view();
}

// `subject` ends at a NUL (a std::string's tail). Without `groups`, regexec is asked for
// no positions, which spares glibc its slowest part (finding where each group matched).
bool matches(const RegexShortcut& shortcut, const SharedRegex& regex, std::string_view subject,
             std::array<regmatch_t, 10>& m, bool groups) {
  for (regmatch_t& g : m) g.rm_so = g.rm_eo = -1;
  RegexShortcut::Verdict v = shortcut.check(subject, m.data());
  if (v != RegexShortcut::Verdict::Unknown) return v == RegexShortcut::Verdict::Match;
  return regexec(regex.get(), subject.data(), groups ? m.size() : 0, groups ? m.data() : nullptr, 0) == 0;
}

struct DirRules {
  std::vector<const RewriteRuleSpec*> rules;
  const DirectoryBlock* owner = nullptr;  // whose path the patterns see below
  const std::string* base = nullptr;      // RewriteBase
};

bool path_within(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path == dir || (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

size_t component_count(std::string_view path) {
  return static_cast<size_t>(std::count(path.begin(), path.end(), '/')) - (path == "/" ? 1 : 0);
}

// The innermost <Directory> holding `fs` that has rewrite lines decides (RewriteOptions
// Inherit adds the next one's rules); blocks without any are transparent.
DirRules rules_for(const VirtualHost& vhost, std::string_view fs) {
  std::vector<const DirectoryBlock*> matching;
  // Deepest first; for one directory the later block (a .htaccess file comes after the
  // config's <Directory>) merges over the earlier, so it is asked first.
  for (auto it = vhost.directories.rbegin(); it != vhost.directories.rend(); ++it)
    if (!it->is_regex && directory_block_covers(*it, fs) && it->rewrite.configured()) matching.push_back(&*it);
  std::stable_sort(matching.begin(), matching.end(), [](const DirectoryBlock* a, const DirectoryBlock* b) {
    return component_count(a->path) > component_count(b->path);
  });
  DirRules out;
  std::optional<bool> engine;
  bool want_parent = true;
  bool before = false;
  for (const DirectoryBlock* d : matching) {
    if (!engine && d->rewrite.engine) engine = d->rewrite.engine;
    if (!out.base && d->rewrite.base) out.base = &*d->rewrite.base;
    if (!want_parent) continue;
    if (!out.owner) out.owner = d;
    std::vector<const RewriteRuleSpec*> mine;
    for (const RewriteRuleSpec& r : d->rewrite.rules) mine.push_back(&r);
    if (before) out.rules.insert(out.rules.begin(), mine.begin(), mine.end());
    else out.rules.insert(out.rules.end(), mine.begin(), mine.end());
    want_parent = d->rewrite.inherit || d->rewrite.inherit_before;
    before = d->rewrite.inherit_before;
  }
  if (!engine.value_or(false)) out.rules.clear();
  return out;
}

class Engine {
 public:
  Engine(const RewriteRequest& req, std::string_view query, bool has_query)
      : req_(req), query_(query), has_query_(has_query) {}

  RewriteOutcome run(const std::string& path);

 private:
  enum class Pass { Unchanged, Changed, Responded };
  Pass run_rules(const std::vector<const RewriteRuleSpec*>& rules, const std::string& prefix);
  bool conditions_hold(const RewriteRuleSpec& rule);
  bool condition_holds(const RewriteCondition& c);
  std::string expand(const RewriteTemplate& t) const;
  // The path part into `path`; the query part, if the substitution has one.
  std::optional<std::string> expand_substitution(const RewriteTemplate& t, std::string& path) const;
  std::string variable(const std::string& name) const;
  std::string env(const std::string& name) const;
  void set_env(const RewriteRuleSpec& rule);
  void respond(int status, std::string location = {}, std::string reason = {});
  void redirect(const RewriteRuleSpec& rule, int status, std::string url);
  // A substitution's absolute URL naming this very site is a local path (Apache strips it).
  std::optional<std::string> local_part(std::string_view url) const;
  std::string directory_url(const DirectoryBlock& d, const std::string* base) const;

  const RewriteRequest& req_;
  std::string query_;
  bool has_query_;
  std::string uri_;        // REQUEST_URI: this round's URL path
  std::string current_;    // what the rules rewrite: a URL path (per-server) or a file path (per-directory)
  bool current_is_url_ = true;
  // REQUEST_FILENAME: the mapped file with PATH_INFO cut off (as Apache's directory walk
  // leaves it), found on first use: the split costs a stat per path segment.
  const std::string& request_filename() const {
    if (filename_pending_) {
      filename_pending_ = false;
      struct stat st {};
      if (::stat(request_filename_.c_str(), &st) != 0)
        if (PathInfoSplit split = split_path_info(request_filename_); split.found) request_filename_ = split.filename;
    }
    return request_filename_;
  }
  mutable std::string request_filename_;
  mutable bool filename_pending_ = false;
  const DirectoryBlock* rules_owner_ = nullptr;  // per-directory round: whose rules run
  std::vector<std::shared_ptr<const VirtualHost>> views_held_;  // .htaccess views the rounds used
  const std::string* rules_base_ = nullptr;      // and its RewriteBase
  bool ended_ = false;     // [END]
  bool redirected_ = false;
  Captures rule_groups_, cond_groups_;
  RewriteOutcome out_;
};

std::string Engine::env(const std::string& name) const {
  for (auto it = out_.env.rbegin(); it != out_.env.rend(); ++it)
    if (it->first == name) return it->second;
  if (req_.env)
    for (auto it = req_.env->rbegin(); it != req_.env->rend(); ++it)
      if (it->first == name) return it->second;
  if (name == "REDIRECT_STATUS") return redirected_ ? "200" : "";
  if (name == "HTTPS") return req_.scheme == "https" ? "on" : "";
  return {};
}

std::string Engine::variable(const std::string& name) const {
  const http::RequestHead& h = req_.head;
  if (name.starts_with("HTTP_")) {
    std::string header = name.substr(5);
    for (char& c : header)
      if (c == '_') c = '-';
    return std::string(header_value(h, header));
  }
  if (name == "REMOTE_ADDR" || name == "REMOTE_HOST" || name == "CONN_REMOTE_ADDR") return std::string(req_.peer_ip);
  if (name == "REMOTE_PORT") return std::to_string(req_.peer_port);
  if (name == "REQUEST_METHOD") return std::string(h.method_text);
  if (name == "REQUEST_FILENAME" || name == "SCRIPT_FILENAME") return request_filename();
  if (name == "QUERY_STRING") return query_;
  if (name == "DOCUMENT_ROOT" || name == "CONTEXT_DOCUMENT_ROOT") return req_.vhost.document_root;
  if (name == "SERVER_NAME") return req_.vhost.server_name.empty() ? h.host : req_.vhost.server_name;
  if (name == "SERVER_ADDR") return std::string(req_.local_ip);
  if (name == "SERVER_PORT") return std::to_string(req_.local_port);
  if (name == "SERVER_PROTOCOL") return h.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  if (name == "SERVER_SOFTWARE") return "itkd";
  if (name == "HTTPS") return req_.scheme == "https" ? "on" : "off";
  if (name == "REQUEST_SCHEME") return std::string(req_.scheme);
  if (name == "REQUEST_URI") return uri_;
  if (name == "IS_SUBREQ") return "false";
  if (name == "THE_REQUEST") {
    return std::string(h.method_text) + " " + std::string(h.target) + (h.version_minor == 0 ? " HTTP/1.0" : " HTTP/1.1");
  }
  if (name.starts_with("TIME")) {
    struct tm t {};
    localtime_r(&req_.now, &t);
    char buf[32];
    auto two = [&](int v) {
      std::snprintf(buf, sizeof buf, "%02d", v);
      return std::string(buf);
    };
    if (name == "TIME_YEAR") return std::to_string(t.tm_year + 1900);
    if (name == "TIME_MON") return two(t.tm_mon + 1);
    if (name == "TIME_DAY") return two(t.tm_mday);
    if (name == "TIME_HOUR") return two(t.tm_hour);
    if (name == "TIME_MIN") return two(t.tm_min);
    if (name == "TIME_SEC") return two(t.tm_sec);
    if (name == "TIME_WDAY") return std::to_string(t.tm_wday);
    std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                  t.tm_min, t.tm_sec);
    return buf;
  }
  if (name == "API_VERSION") return "20120211:0";
  // REMOTE_USER, REMOTE_IDENT, AUTH_TYPE, PATH_INFO, SERVER_ADMIN, CONTEXT_PREFIX: not
  // known yet when the rules run (authentication comes later), as in Apache's vhost phase.
  return {};
}

std::string Engine::expand(const RewriteTemplate& t) const {
  std::string out;
  for (const RewritePart& p : t) {
    switch (p.kind) {
      case RewritePart::Kind::Text: out += p.text; break;
      case RewritePart::Kind::RuleGroup: out += rule_groups_.group(p.group); break;
      case RewritePart::Kind::CondGroup: out += cond_groups_.group(p.group); break;
      case RewritePart::Kind::Variable: out += variable(p.text); break;
      case RewritePart::Kind::Header: out += header_value(req_.head, p.text); break;
      case RewritePart::Kind::Env: out += env(p.text); break;
    }
  }
  return out;
}

// Only a '?' the rule writes itself starts the query: one from a back-reference or a
// variable (a decoded %3F) stays part of the path, where Apache 2.4.60 refuses the request.
std::optional<std::string> Engine::expand_substitution(const RewriteTemplate& t, std::string& path) const {
  for (size_t i = 0; i < t.size(); ++i) {
    size_t q = t[i].kind == RewritePart::Kind::Text ? t[i].text.find('?') : std::string::npos;
    if (q == std::string::npos) continue;
    path = expand(RewriteTemplate(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(i)));
    path.append(t[i].text, 0, q);
    RewriteTemplate rest(t.begin() + static_cast<std::ptrdiff_t>(i), t.end());
    rest[0].text.erase(0, q + 1);
    return expand(rest);
  }
  path = expand(t);
  return std::nullopt;
}

bool Engine::condition_holds(const RewriteCondition& c) {
  using T = RewriteCondition::Test;
  std::string input = expand(c.input);
  bool result = false;
  struct stat st {};
  switch (c.test) {
    case T::Regex: {
      std::array<regmatch_t, 10> m{};
      result = matches(c.shortcut, c.regex, input, m, c.groups_used);
      if (result && !c.negate) {
        cond_groups_.text = std::move(input);
        cond_groups_.m = m;
      }
      break;
    }
    case T::File: result = !input.empty() && ::stat(input.c_str(), &st) == 0 && S_ISREG(st.st_mode); break;
    case T::Directory: result = !input.empty() && ::stat(input.c_str(), &st) == 0 && S_ISDIR(st.st_mode); break;
    case T::NonEmptyFile:
      result = !input.empty() && ::stat(input.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
      break;
    case T::Symlink: result = !input.empty() && ::lstat(input.c_str(), &st) == 0 && S_ISLNK(st.st_mode); break;
    case T::Executable:
      result = !input.empty() && ::stat(input.c_str(), &st) == 0 && (st.st_mode & 0111) != 0;
      break;
    case T::StringEqual:
    case T::StringLess:
    case T::StringGreater:
    case T::StringLessEq:
    case T::StringGreaterEq: {
      int cmp = c.nocase ? ::strcasecmp(input.c_str(), c.operand.c_str()) : input.compare(c.operand);
      result = c.test == T::StringEqual     ? cmp == 0
               : c.test == T::StringLess    ? cmp < 0
               : c.test == T::StringGreater ? cmp > 0
               : c.test == T::StringLessEq  ? cmp <= 0
                                            : cmp >= 0;
      break;
    }
    default: {
      long long a = std::strtoll(input.c_str(), nullptr, 10);
      long long b = std::strtoll(c.operand.c_str(), nullptr, 10);
      result = c.test == T::IntEq   ? a == b
               : c.test == T::IntNe ? a != b
               : c.test == T::IntLt ? a < b
               : c.test == T::IntLe ? a <= b
               : c.test == T::IntGt ? a > b
                                    : a >= b;
      break;
    }
  }
  return c.negate ? !result : result;
}

// Apache's order: all conditions must hold, where [OR] joins one to the next.
bool Engine::conditions_hold(const RewriteRuleSpec& rule) {
  const auto& conds = rule.conditions;
  for (size_t i = 0; i < conds.size(); ++i) {
    bool holds = condition_holds(conds[i]);
    if (conds[i].or_next) {
      if (!holds) continue;
      while (i < conds.size() && conds[i].or_next) ++i;  // the rest of the OR group is moot
    } else if (!holds) {
      return false;
    }
  }
  return true;
}

void Engine::set_env(const RewriteRuleSpec& rule) {
  for (const auto& entry : rule.env) {
    const std::string& name = entry.first;
    std::erase_if(out_.env, [&](const auto& e) { return e.first == name; });
    if (entry.second) {
      std::string v = expand(*entry.second);
      std::erase_if(v, [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
      out_.env.emplace_back(name, std::move(v));
    }
  }
}

void Engine::respond(int status, std::string location, std::string reason) {
  out_.kind = RewriteOutcome::Kind::Respond;
  out_.status = status;
  out_.location = std::move(location);
  out_.log_reason = std::move(reason);
}

std::optional<std::string> Engine::local_part(std::string_view url) const {
  size_t scheme_end = url.find("://");
  std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (strncasecmp(scheme.data(), req_.scheme.data(), std::max(scheme.size(), req_.scheme.size())) != 0 ||
      scheme.size() != req_.scheme.size())
    return std::nullopt;
  std::string host;
  if (!http::normalize_host(authority, host)) return std::nullopt;
  std::string expected;
  if (!http::normalize_host(req_.authority, expected) || host != expected) return std::nullopt;
  return slash == std::string_view::npos ? std::string("/") : std::string(rest.substr(slash));
}

void Engine::redirect(const RewriteRuleSpec& rule, int status, std::string url) {
  std::string location;
  if (is_absolute_url(url)) {
    // Only what would break the header line is escaped in a URL the rule wrote whole.
    location = escape_unsafe(url, rule.no_escape ? "" : "\"<>\\^`{|}");
  } else {
    location = std::string(req_.scheme) + "://" + std::string(req_.authority) +
               (rule.no_escape ? escape_unsafe(url, "") : escape_url_path(url));
  }
  if (has_query_) location += "?" + escape_unsafe(query_, rule.no_escape ? "" : "#\"<>\\^`{|}");
  respond(status, std::move(location));
}

// The URL prefix of a <Directory> for relative substitutions: RewriteBase, or the
// directory's place below DocumentRoot or an Alias.
std::string Engine::directory_url(const DirectoryBlock& d, const std::string* base) const {
  auto with_slash = [](std::string s) {
    if (s.empty() || s.back() != '/') s += '/';
    return s;
  };
  if (base) return with_slash(*base);
  const std::string& root = req_.vhost.document_root;
  if (path_within(d.path, root)) return with_slash(d.path == root ? "/" : d.path.substr(root == "/" ? 0 : root.size()));
  for (const AliasRule& a : req_.vhost.aliases) {
    std::string target = a.target;
    while (target.size() > 1 && target.back() == '/') target.pop_back();
    if (path_within(d.path, target)) return with_slash(with_slash(a.url_prefix) + d.path.substr(target.size()));
  }
  return {};
}

Engine::Pass Engine::run_rules(const std::vector<const RewriteRuleSpec*>& rules, const std::string& prefix) {
  bool changed = false;
  for (size_t i = 0; i < rules.size(); ++i) {
    const RewriteRuleSpec& rule = *rules[i];
    // Per-directory rules see the path below their directory ("" for the directory itself).
    std::string_view subject = current_;  // a tail of current_: NUL-terminated for regexec
    if (!prefix.empty()) {
      if (subject.starts_with(prefix)) subject.remove_prefix(prefix.size());
      else if (current_.size() + 1 == prefix.size() && prefix.starts_with(current_)) subject.remove_prefix(subject.size());
    }
    std::array<regmatch_t, 10> m{};
    bool matched = matches(rule.shortcut, rule.regex, subject, m, rule.groups_used);
    rule_groups_.clear();
    if (matched && !rule.negate) {
      rule_groups_.text.assign(subject);
      rule_groups_.m = m;
    }
    if (rule.negate) matched = !matched;
    cond_groups_.clear();
    if (matched && !rule.conditions.empty()) matched = conditions_hold(rule);
    if (!matched) {
      // A chain ([C]) stops at its first rule that does not match.
      while (rules[i]->chain && i + 1 < rules.size()) ++i;
      continue;
    }
    set_env(rule);
    if (rule.status && !rule.redirect) {
      respond(rule.status, {}, "RewriteRule " + rule.pattern + " at " + rule.where.str() + " answers " +
                                   std::to_string(rule.status) + " for " + uri_);
      return Pass::Responded;
    }
    if (!rule.no_substitution) {
      std::string result;
      if (std::optional<std::string> query_part = expand_substitution(rule.substitution, result)) {
        std::string query = std::move(*query_part);
        if (rule.qsa && has_query_ && !query_.empty()) query = query.empty() ? query_ : query + "&" + query_;
        has_query_ = !query.empty();
        query_ = std::move(query);
      } else if (rule.qsd) {
        has_query_ = false;
        query_.clear();
      }
      if (is_absolute_url(result)) {
        if (auto local = local_part(result); local && !rule.redirect) {
          current_ = *local;
        } else {
          redirect(rule, rule.status ? rule.status : 302, std::move(result));
          return Pass::Responded;
        }
        current_is_url_ = true;
      } else if (!result.empty() && result[0] == '/') {
        current_ = std::move(result);
        current_is_url_ = true;
      } else if (!prefix.empty()) {
        current_ = prefix + result;
        current_is_url_ = false;
      } else {
        current_ = "/" + result;
        current_is_url_ = true;
      }
      request_filename_ = current_;
      filename_pending_ = false;
      changed = true;
    } else if (rule.qsd) {
      has_query_ = false;
      query_.clear();
    }
    if (rule.end) ended_ = true;
    if (rule.redirect) {
      std::string url = current_;
      if (!current_is_url_) {
        const std::string base = directory_url(*rules_owner_, rules_base_);
        if (base.empty()) {
          respond(500, {}, "RewriteRule at " + rule.where.str() + " redirects relative to " + rules_owner_->path +
                               ", which is not below DocumentRoot or an Alias: set RewriteBase");
          return Pass::Responded;
        }
        url = base + current_.substr(prefix.size());
      }
      redirect(rule, rule.status, std::move(url));
      return Pass::Responded;
    }
    if (rule.last) break;
    i += static_cast<size_t>(rule.skip);
  }
  return changed ? Pass::Changed : Pass::Unchanged;
}

}  // namespace

RewriteOutcome Engine::run(const std::string& path) {
  const VirtualHost& vh = req_.vhost;
  std::string url = path;
  const std::string query_in = query_;
  const bool has_query_in = has_query_;
  // The vhost's rules, on the URL path.
  if (vh.rewrite.engine.value_or(false) && !vh.rewrite.rules.empty()) {
    std::vector<const RewriteRuleSpec*> rules;
    for (const RewriteRuleSpec& r : vh.rewrite.rules) rules.push_back(&r);
    uri_ = url;
    current_ = request_filename_ = url;
    filename_pending_ = false;
    current_is_url_ = true;
    Pass pass = run_rules(rules, "");
    if (pass == Pass::Responded) return std::move(out_);
    if (pass == Pass::Changed && !remove_dot_segments(current_, url)) {
      respond(400, {}, "rewritten URL path " + current_ + " climbs above the root");
      return std::move(out_);
    }
  }
  // The rules of the <Directory> the URL maps into; each rewrite is an internal redirect.
  for (int round = 0; !ended_; ++round) {
    UrlMapping mapping = map_url(vh, url, query_, has_query_, req_.scheme, req_.authority);
    if (mapping.redirect_status != 0) break;
    std::string relative = mapping.relative;
    while (!relative.empty() && relative.back() == '/') relative.pop_back();
    std::string fs = mapping.base + (relative.empty() ? "" : "/" + relative);
    const VirtualHost* dir_vhost = &vh;
    if (req_.views) {
      DirectoryView view = req_.views(fs);
      if (view.error_status) {
        respond(view.error_status, {}, view.error_reason);
        return std::move(out_);
      }
      if (view.vhost) {
        dir_vhost = view.vhost.get();
        views_held_.push_back(std::move(view.vhost));  // rules_owner_ points into it
      }
    }
    DirRules dir = rules_for(*dir_vhost, fs);
    if (dir.rules.empty()) break;
    if (round == kMaxRounds) {
      respond(500, {}, "request exceeded the limit of " + std::to_string(kMaxRounds) +
                           " internal redirects: the RewriteRule lines of <Directory " + dir.owner->path +
                           "> (" + dir.owner->where.str() + ") keep rewriting " + path + ", now " + url);
      return std::move(out_);
    }
    uri_ = url;
    current_ = request_filename_ = fs;
    filename_pending_ = true;  // PATH_INFO is cut off only if a rule asks for REQUEST_FILENAME
    current_is_url_ = false;
    rules_owner_ = dir.owner;
    rules_base_ = dir.base;
    const std::string prefix = dir.owner->path == "/" ? "/" : dir.owner->path + "/";
    const std::string query_before = query_;
    const bool has_query_before = has_query_;
    Pass pass = run_rules(dir.rules, prefix);
    if (pass == Pass::Responded) return std::move(out_);
    if (pass == Pass::Unchanged) break;
    std::string next = current_;
    if (!current_is_url_) {
      std::string base = directory_url(*dir.owner, dir.base);
      if (base.empty()) {
        respond(500, {}, "the RewriteRule lines of <Directory " + dir.owner->path + "> (" + dir.owner->where.str() +
                             ") rewrite relative to a directory that is not below DocumentRoot or an Alias: set RewriteBase");
        return std::move(out_);
      }
      next = base + (current_.starts_with(prefix) ? current_.substr(prefix.size()) : std::string());
    }
    std::string normalized;
    if (!remove_dot_segments(next, normalized)) {
      respond(400, {}, "rewritten URL path " + next + " climbs above the root");
      return std::move(out_);
    }
    // Apache: a rewrite to the same URL is no redirect (it would loop).
    if (normalized == url && query_ == query_before && has_query_ == has_query_before) break;
    url = std::move(normalized);
    redirected_ = true;
    out_.internal_redirect = true;
    // What the rules set before an internal redirect reaches scripts as REDIRECT_<name>.
    for (auto& e : out_.env) e.first = "REDIRECT_" + e.first;
  }
  if (url != path || query_ != query_in || has_query_ != has_query_in) {
    out_.kind = RewriteOutcome::Kind::Rewritten;
    out_.path = std::move(url);
    out_.query = query_;
    out_.has_query = has_query_;
  }
  return std::move(out_);
}

AccessVerdict judge_url_access(const VirtualHost& vhost, const std::string& path, const http::RequestHead& head,
                               const ClientAddresses& client) {
  EffectiveAccess access;
  UrlMapping mapping = map_url(vhost, path, head.query, head.has_query, "http", {});
  if (mapping.redirect_status == 0) {
    std::string relative = mapping.relative;
    while (!relative.empty() && relative.back() == '/') relative.pop_back();
    std::string fs = mapping.base + (relative.empty() ? "" : "/" + relative);
    std::string dir = fs;
    struct stat st {};
    if (::stat(fs.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      dir = fs.substr(0, fs.rfind('/'));
      if (dir.empty()) dir = "/";
    }
    access = access_for_file(vhost, fs, settings_for_directory(vhost, dir).access);
  }
  apply_locations(vhost, path, access);
  if (access.unrestricted()) return {};
  return judge_access(access, client, head, path);
}

RewriteOutcome apply_rewrite_rules(const RewriteRequest& request, const std::string& path, std::string_view query,
                                   bool has_query) {
  Engine engine(request, query, has_query);
  return engine.run(path);
}

}  // namespace itkd
