#include "config/config_parser.h"

#include <arpa/inet.h>
#include <regex.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "config/config_lexer.h"
#include "config/htaccess_parser.h"
#include "config/parse_state.h"
#include "config/pcre_compat.h"
#include "config/php_fpm_sharing.h"
#include "config/regex_cost.h"

namespace itkd {

namespace {

constexpr int kMaxIncludeDepth = 64;
constexpr int kMaxSectionDepth = 64;

// One file's logical lines and the read position; sections are parsed recursively
// over the same reader, so a section must close in the file that opened it (as Apache).
struct FileReader {
  std::string file;
  std::vector<LogicalLine> lines;
  size_t pos = 0;
};

struct OpenSection {
  std::string name;  // as written, for the closing-tag check
  SourceLocation where;
};

bool has_wildcard(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::string context_name(const ParseState& ps) {
  if (ps.context == kCtxServer) return "the main server config (outside <VirtualHost>)";
  if (ps.context == kCtxVhost) return "<VirtualHost>";
  return ps.section_name;
}

void parse_body(ParseState& ps, FileReader& r, const OpenSection* open);

// Skips a section whose condition is false, up to its matching close tag, without
// interpreting anything inside (Apache's ap_soak_end_container).
void skip_section(ParseState& ps, FileReader& r, const OpenSection& open) {
  int depth = 0;
  while (r.pos < r.lines.size()) {
    const std::string& t = r.lines[r.pos++].text;
    if (t.rfind("</", 0) == 0) {
      if (depth == 0) return;
      --depth;
    } else if (t[0] == '<') {
      ++depth;
    }
  }
  ps.error(open.where, "<" + open.name + "> is not closed before the end of " + r.file);
}

void handle_line(ParseState& ps, FileReader& r, const LogicalLine& line);

// "mod_php7.c", "php_module", "php8" -> true.
bool names_mod_php(std::string_view module) {
  std::string n = ascii_lower(module);
  if (n.starts_with("mod_")) n = n.substr(4);
  return n.starts_with("php");
}

// An <IfModule mod_php…> block is skipped (itkd has no mod_php), but the php_value & co.
// in it were the admin's settings for PHP, "php_admin_flag engine off" on an uploads
// directory among them: say which are not applied instead of dropping them silently.
void warn_skipped_php_settings(ParseState& ps, const FileReader& r, const OpenSection& open,
                               const std::string& module) {
  int depth = 0;
  for (size_t i = r.pos; i < r.lines.size(); ++i) {
    const std::string& t = r.lines[i].text;
    if (t.rfind("</", 0) == 0) {
      if (depth-- == 0) return;
      continue;
    }
    if (t[0] == '<') ++depth;
    std::string word = ascii_lower(t.substr(0, t.find_first_of(" \t")));
    if (word == "php_value" || word == "php_flag" || word == "php_admin_value" || word == "php_admin_flag") {
      ps.warn({r.file, r.lines[i].line},
              t + " is not applied: it is inside <" + open.name + " " + module + "> (line " +
                  std::to_string(open.where.line) + ") and itkd has no mod_php; outside that block itkd " +
                  "gives it to php-cgi and php-fpm");
    }
  }
}

// The directive name a line starts with, lowercased ("" for long or odd words).
std::string first_word_lower(const std::string& text) {
  size_t n = text.find_first_of(" \t");
  if (n == std::string::npos) n = text.size();
  return n > 16 ? std::string() : ascii_lower(text.substr(0, n));
}

// For ParseOptions::full_vhosts_of, at the start of a <VirtualHost> body: when the block
// belongs to another identity, applies only its routing directives and moves past its
// close tag (true). Anything unusual, e.g. those directives inside a nested section or an
// Include/Define in the block, returns false so the block is parsed in full, as always.
bool skim_foreign_vhost(ParseState& ps, FileReader& r) {
  std::vector<size_t> kept;
  std::optional<size_t> assign;
  int depth = 0;
  size_t end = r.pos;
  for (; end < r.lines.size(); ++end) {
    const std::string& t = r.lines[end].text;
    if (t.rfind("</", 0) == 0) {
      if (depth == 0) break;
      --depth;
      continue;
    }
    if (t[0] == '<') {
      ++depth;
      continue;
    }
    std::string word = first_word_lower(t);
    if (word == "include" || word == "includeoptional" || word == "define" || word == "undefine")
      return false;
    bool routing = word == "servername" || word == "serveralias" || word == "assignuserid" ||
                   word == "sslengine";
    if (!routing) continue;
    if (depth > 0) return false;
    kept.push_back(end);
    if (word == "assignuserid") assign = end;
  }
  if (end == r.lines.size() || !assign) return false;
  handle_line(ps, r, r.lines[*assign]);
  const VirtualHost& v = ps.vh().vhost;
  if (!ps.vh().assign_set) return false;
  auto id = ps.source.resolve(v.assign_user, v.assign_group);
  const auto& own = *ps.options.full_vhosts_of;
  if (!id || (id->uid == own.uid && id->gid == own.gid)) return false;
  for (size_t i : kept)
    if (i != *assign) handle_line(ps, r, r.lines[i]);
  ps.vh().skimmed = true;
  r.pos = end + 1;
  return true;
}

// "<Name args>" -> name and args; the '>' must end the line.
bool split_section_line(const std::string& text, std::string& name, std::string& args) {
  if (text.size() < 2 || text.back() != '>') return false;
  std::string inner = text.substr(1, text.size() - 2);
  size_t sp = inner.find_first_of(" \t");
  name = inner.substr(0, sp);
  args = sp == std::string::npos ? "" : inner.substr(sp + 1);
  return !name.empty();
}

Result<void> check_arg_count(const DirectiveSpec& spec, const std::string& name, size_t n) {
  int count = static_cast<int>(n);
  if (count >= spec.min_args && (spec.max_args < 0 || count <= spec.max_args)) return ok();
  std::string want;
  if (spec.max_args < 0) want = "at least " + std::to_string(spec.min_args);
  else if (spec.min_args == spec.max_args) want = "exactly " + std::to_string(spec.min_args);
  else want = std::to_string(spec.min_args) + " to " + std::to_string(spec.max_args);
  return Error{name + " takes " + want + " argument" + (want == "exactly 1" ? "" : "s") +
               ", got " + std::to_string(n)};
}

Result<VhostAddress> parse_vhost_address(const std::string& a) {
  VhostAddress addr;
  std::string host = a, port;
  if (!a.empty() && a[0] == '[') {
    size_t close = a.find(']');
    if (close == std::string::npos) return Error{"missing ']' in address '" + a + "'"};
    host = a.substr(1, close - 1);
    std::string rest = a.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return Error{"bad address '" + a + "'"};
      port = rest.substr(1);
    }
  } else if (size_t colon = a.rfind(':'); colon != std::string::npos) {
    if (a.find(':') != colon) {
      return Error{"IPv6 address '" + a + "' must be written in brackets, e.g. [::1]:80"};
    }
    host = a.substr(0, colon);
    port = a.substr(colon + 1);
  }
  if (host == "*" || host == "_default_") {
    addr.host = host;
  } else {
    char buf[INET6_ADDRSTRLEN];
    unsigned char bin[16];
    if (inet_pton(AF_INET, host.c_str(), bin) == 1) {
      addr.host = inet_ntop(AF_INET, bin, buf, sizeof buf);
    } else if (inet_pton(AF_INET6, host.c_str(), bin) == 1) {
      static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      addr.host = std::equal(mapped, mapped + 12, bin) ? inet_ntop(AF_INET, bin + 12, buf, sizeof buf)
                                                       : inet_ntop(AF_INET6, bin, buf, sizeof buf);
    } else {
      return Error{"<VirtualHost> address '" + host +
                   "' must be an IP address, * or _default_ (itkd does not resolve names here)"};
    }
  }
  if (!port.empty() && port != "*") {
    unsigned long v = 0;
    bool digits = port.find_first_not_of("0123456789") == std::string::npos && port.size() <= 5;
    if (digits) v = std::stoul(port);
    if (!digits || v < 1 || v > 65535) return Error{"bad port in <VirtualHost> address '" + a + "'"};
    addr.port = static_cast<uint16_t>(v);
  }
  return addr;
}

// Checks a section's pattern and replaces it by its POSIX form (Apache reads PCRE; the
// workers compile what is stored, with glibc).
bool regex_ok(std::string& pattern, std::string& why) {
  auto ere = pcre_to_ere(pattern);
  if (!ere) {
    why = ere.error().message;
    return false;
  }
  pattern = std::move(*ere);
  if (auto cost = check_regex_cost(pattern); !cost) {
    why = cost.error().message;
    return false;
  }
  regex_t re;
  int rc = regcomp(&re, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char buf[256];
    regerror(rc, &re, buf, sizeof buf);
    why = buf;
    return false;
  }
  regfree(&re);
  return true;
}

// A section's own Require lines are an implicit <RequireAny>: checked as mod_authz_core
// checks it when the section closes (containers are checked when they close).
void check_section_access(ParseState& ps, const SourceLocation& where) {
  AccessRules& rules = ps.access();
  if (!rules.require) return;
  if (auto c = check_require_tree(*rules.require, true); !c) ps.error(where, c.error().message);
}

void open_section(ParseState& ps, FileReader& r, const DirectiveSpec& spec, const Directive& d) {
  OpenSection open{d.name, d.where};
  switch (spec.section) {
    case SectionKind::IfModule:
    case SectionKind::IfDefine: {
      std::string arg = d.args[0];
      bool negate = !arg.empty() && arg[0] == '!';
      if (negate) arg = arg.substr(1);
      bool present = spec.section == SectionKind::IfModule ? module_is_loaded(arg)
                                                           : ps.defines.count(arg) > 0;
      if (present == negate) {
        if (spec.section == SectionKind::IfModule && !negate && names_mod_php(arg)) {
          warn_skipped_php_settings(ps, r, open, arg);
        }
        skip_section(ps, r, open);
        return;
      }
      // A true condition is transparent: the body belongs to the enclosing scope.
      parse_body(ps, r, &open);
      return;
    }
    case SectionKind::VirtualHost: {
      VhostState vs;
      vs.vhost.where = d.where;
      for (const auto& a : d.args) {
        auto addr = parse_vhost_address(a);
        if (!addr) ps.error(d.where, addr.error().message);
        else vs.vhost.addresses.push_back(*addr);
      }
      ps.vhosts.push_back(std::move(vs));
      ps.current_vhost = ps.vhosts.size() - 1;
      ps.context = kCtxVhost;
      if (!ps.options.full_vhosts_of || !skim_foreign_vhost(ps, r)) parse_body(ps, r, &open);
      ps.current_vhost = 0;
      ps.context = kCtxServer;
      return;
    }
    case SectionKind::Directory: {
      DirectoryBlock b;
      b.where = d.where;
      bool match = iequals(d.name, "DirectoryMatch");
      std::string path = d.args[0];
      if (!match && d.args.size() == 2) {
        if (d.args[0] != "~") {
          ps.error(d.where, "<Directory> takes one path, or '~' and a regular expression");
        }
        match = true;
        path = d.args[1];
      } else if (!match && path == "~") {
        ps.error(d.where, "<Directory ~> needs a regular expression");
      }
      if (match) {
        std::string why;
        if (!regex_ok(path, why)) ps.error(d.where, "bad regular expression '" + path + "': " + why);
        b.is_regex = true;
        b.path = path;
      } else {
        auto p = normalize_path(ps.server_relative(path));
        if (!p) ps.error(d.where, "<" + d.name + ">: " + p.error().message);
        else b.path = *p;
      }
      auto& dirs = ps.vh().vhost.directories;
      dirs.push_back(b);
      ps.current_directory = dirs.size() - 1;
      unsigned saved = ps.context;
      std::string saved_name = ps.section_name;
      ps.context = kCtxDirectory;
      ps.section_name = "<" + d.name + ">";
      parse_body(ps, r, &open);
      check_section_access(ps, d.where);
      ps.context = saved;
      ps.section_name = saved_name;
      return;
    }
    case SectionKind::Files: {
      // <Files>/<FilesMatch> are kept for SetHandler and access rules (matched against
      // the basename); <Location>/<LocationMatch> for access rules (against the URL path).
      bool files = iequals(d.name, "Files") || iequals(d.name, "FilesMatch");
      bool location = iequals(d.name, "Location") || iequals(d.name, "LocationMatch");
      std::optional<size_t> saved_files = ps.current_files;
      std::optional<size_t> saved_location = ps.current_location;
      bool tilde_ok = d.args.size() == 1 || (d.args.size() == 2 && d.args[0] == "~");
      if (!tilde_ok) {
        ps.error(d.where, "<" + d.name + "> takes one " + (files ? "name" : "URL path") +
                              ", or '~' and a regular expression");
      }
      bool is_regex = iequals(d.name, "FilesMatch") || iequals(d.name, "LocationMatch") || d.args.size() == 2;
      std::string pattern = d.args.size() == 2 ? d.args[1] : d.args[0];
      std::string why;
      if (is_regex && !regex_ok(pattern, why)) {
        ps.error(d.where, "bad regular expression '" + pattern + "': " + why);
      }
      if (files && ps.current_location) {
        ps.error(d.where, "<" + d.name + "> cannot occur within <Location>, as in Apache");
        skip_section(ps, r, open);
        return;
      }
      if (files && !ps.current_files) {
        FilesBlock b;
        b.where = d.where;
        b.is_regex = is_regex;
        b.pattern = pattern;
        if (ps.context == kCtxDirectory) {
          const DirectoryBlock& dir = ps.dir();
          if (dir.is_regex) {
            ps.error(d.where, "<" + d.name + "> inside <DirectoryMatch> is not supported yet; "
                              "nest it in a <Directory path> instead");
          } else {
            b.directory = dir.path;
          }
        }
        auto& blocks = ps.vh().vhost.files_blocks;
        blocks.push_back(b);
        ps.current_files = blocks.size() - 1;
      } else if (location) {
        LocationBlock b;
        b.where = d.where;
        b.is_regex = is_regex;
        b.pattern = pattern;
        if (!is_regex && (pattern.empty() || (pattern[0] != '/' && pattern != "*"))) {
          ps.error(d.where, "<" + d.name + "> takes a URL path starting with '/', not '" + pattern + "'");
        }
        auto& blocks = ps.vh().vhost.locations;
        blocks.push_back(b);
        ps.current_location = blocks.size() - 1;
      } else {
        ps.warn(d.where, "<" + d.name + "> nested in <Files> is not applied; directives inside it are ignored "
                         "(those that would change access are refused)");
        ps.current_files.reset();
      }
      unsigned saved = ps.context;
      std::string saved_name = ps.section_name;
      ps.context = kCtxFiles;
      ps.section_name = "<" + d.name + ">";
      parse_body(ps, r, &open);
      if (ps.current_files || ps.current_location) check_section_access(ps, d.where);
      ps.context = saved;
      ps.section_name = saved_name;
      ps.current_files = saved_files;
      ps.current_location = saved_location;
      return;
    }
    case SectionKind::Limit: {
      if (ps.context == kCtxFiles && !ps.current_files && !ps.current_location) {
        ps.error(d.where, "<" + d.name + "> inside " + ps.section_name + " is not supported yet; itkd would not apply it");
        skip_section(ps, r, open);
        return;
      }
      // (Nested in another <Limit> or in a <Require...> container it was refused already.)
      auto scope = parse_method_scope(d.args, iequals(d.name, "LimitExcept"));
      if (!scope) {
        ps.error(d.where, "<" + d.name + ">: " + scope.error().message);
        skip_section(ps, r, open);
        return;
      }
      // Its Require lines form a <RequireAny> that only speaks for these methods
      // (neutral for others), as mod_authz_core has it; its Allow/Deny lines carry the
      // methods too.
      AccessRules& rules = ps.access();
      bool made_root = !rules.require;
      if (made_root) rules.require = std::make_shared<RequireNode>();
      RequireNode node;
      node.scope = *scope;
      rules.require->children.push_back(std::move(node));
      ps.require_stack.push_back(&rules.require->children.back());
      ps.current_limit = *scope;
      ps.limit_stack_depth = ps.require_stack.size();
      parse_body(ps, r, &open);
      RequireNode* limited = ps.require_stack.back();
      ps.require_stack.pop_back();
      ps.current_limit.reset();
      ps.limit_stack_depth = 0;
      if (limited->children.empty()) {
        // Only Allow/Deny (or nothing) inside: no Require rule to keep.
        rules.require->children.pop_back();
        if (made_root) rules.require.reset();
      } else if (auto c = check_require_tree(*limited, false); !c) {
        ps.error(d.where, c.error().message);
      }
      return;
    }
    case SectionKind::RequireContainer: {
      if (ps.context == kCtxFiles && !ps.current_files && !ps.current_location) {
        // Inside a block itkd doesn't apply (<Files> nested in <Files>): refuse, as the
        // rule would not hold.
        ps.error(d.where, "<" + d.name + "> inside " + ps.section_name + " is not supported yet; itkd would not apply it");
        skip_section(ps, r, open);
        return;
      }
      RequireNode node;
      node.kind = iequals(d.name, "RequireAll")   ? RequireNode::Kind::All
                  : iequals(d.name, "RequireNone") ? RequireNode::Kind::None
                                                   : RequireNode::Kind::Any;
      RequireNode* parent = nullptr;
      if (!ps.require_stack.empty()) {
        parent = ps.require_stack.back();
      } else {
        AccessRules& rules = ps.access();
        if (!rules.require) rules.require = std::make_shared<RequireNode>();
        parent = rules.require.get();
      }
      parent->children.push_back(std::move(node));
      ps.require_stack.push_back(&parent->children.back());
      parse_body(ps, r, &open);
      if (auto c = check_require_tree(*ps.require_stack.back(), false); !c) ps.error(d.where, c.error().message);
      ps.require_stack.pop_back();
      return;
    }
    case SectionKind::Proxy: {
      if (auto res = begin_proxy_section(ps, d); !res) {
        ps.error(d.where, res.error().message);
        skip_section(ps, r, open);
        return;
      }
      unsigned saved = ps.context;
      std::string saved_name = ps.section_name;
      ps.context = kCtxProxy;
      ps.section_name = "<Proxy>";
      parse_body(ps, r, &open);
      ps.context = saved;
      ps.section_name = saved_name;
      return;
    }
    case SectionKind::None:
      return;
  }
}

std::string override_class_names(unsigned classes) {
  static const std::pair<unsigned, const char*> kNames[] = {{kOverrideAuthConfig, "AuthConfig"},
                                                            {kOverrideFileInfo, "FileInfo"},
                                                            {kOverrideIndexes, "Indexes"},
                                                            {kOverrideLimit, "Limit"},
                                                            {kOverrideOptions, "Options"}};
  std::string out;
  for (const auto& [bit, name] : kNames)
    if (classes & bit) out += (out.empty() ? "" : " or ") + std::string(name);
  return out;
}

// In a .htaccess file: is this line within what AllowOverride / AllowOverrideList grant?
// If not, it is an error (the request gets a 500, as in Apache), or with Nonfatal=Override
// a warning and the line (or section) is skipped.
bool htaccess_allows(ParseState& ps, FileReader& r, const DirectiveSpec& spec, const Directive& d) {
  bool section = spec.section != SectionKind::None;
  std::string shown = section ? "<" + d.name + ">" : d.name;
  auto skip = [&] {
    if (section) skip_section(ps, r, OpenSection{d.name, d.where});
    return false;
  };
  static const char* const kNever[] = {"include", "includeoptional", "define", "undefine"};
  std::string lower = ascii_lower(d.name);
  bool never = spec.section == SectionKind::VirtualHost || spec.section == SectionKind::Directory ||
               spec.section == SectionKind::Proxy || iequals(d.name, "Location") || iequals(d.name, "LocationMatch") ||
               std::find(std::begin(kNever), std::end(kNever), lower) != std::end(kNever);
  if (never) {
    ps.error(d.where, shown + " not allowed in .htaccess");
    return skip();
  }
  const OverrideRules& rules = *ps.htaccess;
  bool listed = ps.htaccess_list &&
                std::find(ps.htaccess_list->begin(), ps.htaccess_list->end(), lower) != ps.htaccess_list->end();
  if ((spec.overrides & rules.classes) || listed) return true;
  std::string why = spec.overrides == 0
                        ? shown + " not allowed in .htaccess"
                        : shown + " not allowed here: it needs AllowOverride " + override_class_names(spec.overrides) +
                              (rules.where.line ? ", and the AllowOverride at " + rules.where.str() + " does not grant it"
                                                : ", and this directory's AllowOverride does not grant it");
  if (rules.nonfatal_override) ps.warn(d.where, why + " (skipped: Nonfatal=Override)");
  else ps.error(d.where, why);
  return skip();
}

void handle_line(ParseState& ps, FileReader& r, const LogicalLine& line) {
  SourceLocation where{r.file, line.line};
  auto expanded = expand_variables(line.text, ps.defines);
  if (!expanded) {
    ps.error(where, expanded.error().message);
    // A section line still has to be matched to keep the structure; skip its body.
    if (line.text[0] == '<' && line.text.rfind("</", 0) != 0) {
      skip_section(ps, r, OpenSection{line.text, where});
    }
    return;
  }
  const std::string& text = *expanded;
  bool section = text[0] == '<';
  Directive d;
  d.where = where;
  if (section) {
    std::string args;
    if (!split_section_line(text, d.name, args)) {
      ps.error(where, "section line '" + text + "' must end with '>'");
      skip_section(ps, r, OpenSection{text, where});
      return;
    }
    d.raw_args = args;
  } else {
    size_t sp = text.find_first_of(" \t");
    d.name = text.substr(0, sp);
    d.raw_args = sp == std::string::npos ? "" : text.substr(sp + 1);
  }
  auto words = split_words(d.raw_args);
  if (!words && iequals(d.name, "ErrorDocument")) {
    // ErrorDocument takes its message raw (Apache's RAW_ARGS): an opening quote alone
    // is the documented way to write a text message.
    std::string escaped = d.raw_args;
    for (char& ch : escaped)
      if (ch == '"' || ch == '\'') ch = ' ';
    words = split_words(escaped);
  }
  if (!words) {
    ps.error(where, d.name + ": " + words.error().message);
    if (section) skip_section(ps, r, OpenSection{d.name, where});
    return;
  }
  d.args = std::move(*words);

  const DirectiveSpec* spec = find_directive(d.name);
  if (!spec || (section != (spec->section != SectionKind::None))) {
    if (ps.htaccess && ps.htaccess->nonfatal_unknown) {
      ps.warn(where, "unknown directive " + d.name + " skipped (AllowOverride Nonfatal=Unknown)");
      if (section) skip_section(ps, r, OpenSection{d.name, where});
      return;
    }
    ps.error(where, "unknown directive " + std::string(section ? "<" : "") + d.name +
                        (section ? ">" : "") +
                        " (perhaps a misspelling, or a module itkd does not provide)");
    if (section) skip_section(ps, r, OpenSection{d.name, where});
    return;
  }
  const std::string& name = d.name;
  if (!spec->ignored_note.empty()) {
    ps.warn(where, std::string(spec->name) + " ignored: " + std::string(spec->ignored_note));
    return;
  }
  if (ps.htaccess && !htaccess_allows(ps, r, *spec, d)) return;
  // Sections are parsed recursively: bound the depth so a hostile file can't exhaust the stack.
  if (section && ps.section_depth >= kMaxSectionDepth) {
    ps.error(where, "sections nested more than " + std::to_string(kMaxSectionDepth) + " deep");
    skip_section(ps, r, OpenSection{name, where});
    return;
  }
  auto refuse_section = [&](const std::string& msg) {
    ps.error(where, msg);
    if (section) skip_section(ps, r, OpenSection{name, where});
  };
  if (ps.context == kCtxDirectory && spec->directory_unsupported) {
    return refuse_section(std::string(spec->name) + " inside " + ps.section_name +
                          " is not supported yet; move it to the <VirtualHost> or server level");
  }
  if (!(spec->contexts & ps.context)) {
    std::string hint;
    if ((spec->contexts & kCtxServerVhost) == 0) hint = " (it belongs inside a <Directory> block)";
    else if (spec->contexts == kCtxVhost) hint = " (it belongs inside a <VirtualHost> block)";
    return refuse_section(std::string(spec->name) + " not allowed in " + context_name(ps) + hint);
  }
  if (auto c = check_arg_count(*spec, spec->section != SectionKind::None ? "<" + name + ">" : name,
                               d.args.size());
      !c) {
    return refuse_section(c.error().message);
  }
  bool directly_in_limit = ps.current_limit && ps.require_stack.size() == ps.limit_stack_depth;
  if (!ps.require_stack.empty() && !iequals(name, "Require") && spec->section != SectionKind::RequireContainer &&
      spec->section != SectionKind::IfModule && spec->section != SectionKind::IfDefine &&
      !iequals(name, "Include") && !iequals(name, "IncludeOptional") && !iequals(name, "Define") &&
      !iequals(name, "UnDefine") && !(directly_in_limit && spec->location_ok && spec->section == SectionKind::None)) {
    return refuse_section(std::string(spec->name) + " not allowed in " +
                          (directly_in_limit ? std::string("<Limit>/<LimitExcept> (only access directives)")
                                             : std::string("a <RequireAll|Any|None> container (only Require and "
                                                           "nested containers)")));
  }
  if (section) {
    ++ps.section_depth;
    open_section(ps, r, *spec, d);
    --ps.section_depth;
    return;
  }
  bool structural = iequals(name, "Define") || iequals(name, "UnDefine") ||
                    iequals(name, "Include") || iequals(name, "IncludeOptional");
  if (ps.context == kCtxFiles && !structural && !(spec->files_ok && ps.current_files) &&
      !(spec->location_ok && ps.current_location)) {
    // Not applied inside <Files>/<Location>; refusing what guards access is the safe side.
    if (spec->security) {
      ps.error(where, std::string(spec->name) + " inside " + ps.section_name +
                          " is not supported yet; itkd would not apply it");
    } else if (spec->contexts & kCtxFiles) {
      ps.warn(where, std::string(spec->name) + " inside " + ps.section_name + " is not applied yet");
    }
    return;
  }
  if (auto res = spec->handler(ps, d); !res) ps.error(where, res.error().message);
}

void parse_body(ParseState& ps, FileReader& r, const OpenSection* open) {
  while (r.pos < r.lines.size()) {
    const LogicalLine& line = r.lines[r.pos++];
    if (line.text.rfind("</", 0) == 0) {
      SourceLocation where{r.file, line.line};
      std::string name = line.text.substr(2);
      if (!name.empty() && name.back() == '>') name.pop_back();
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
      if (!open) {
        ps.error(where, "</" + name + "> without matching <" + name + "> section");
        continue;
      }
      if (!iequals(name, open->name)) {
        // Close the open section anyway, so one typo does not cascade.
        ps.error(where, "</" + name + "> does not match <" + open->name + "> opened at " +
                            open->where.str());
      }
      return;
    }
    handle_line(ps, r, line);
  }
  if (open) {
    ps.error(open->where, "<" + open->name + "> is not closed before the end of " + r.file);
  }
}

void parse_file(ParseState& ps, const std::string& path, const std::string& contents) {
  FileReader r{path, split_logical_lines(contents), 0};
  parse_body(ps, r, nullptr);
}

// Reads one include target; directories are read entry by entry, recursively.
void include_one(ParseState& ps, const std::string& path, const SourceLocation& where) {
  if (ps.source.is_directory(path)) {
    auto entries = ps.source.expand(path);
    if (!entries) return ps.error(where, entries.error().message);
    ++ps.include_depth;
    for (const auto& e : *entries) {
      if (ps.include_depth > kMaxIncludeDepth) break;
      include_one(ps, e, where);
    }
    --ps.include_depth;
    return;
  }
  auto contents = ps.source.read_file(path);
  if (!contents) return ps.error(where, "Include: " + contents.error().message);
  parse_file(ps, path, *contents);
}

}  // namespace

void include_config(ParseState& ps, const std::string& pattern, bool optional,
                    const SourceLocation& where) {
  if (ps.include_depth >= kMaxIncludeDepth) {
    return ps.error(where, "Include nested more than " + std::to_string(kMaxIncludeDepth) +
                               " deep (does a file include itself?)");
  }
  ++ps.include_depth;
  if (has_wildcard(pattern)) {
    auto paths = ps.source.expand(pattern);
    if (!paths) {
      ps.error(where, paths.error().message);
    } else if (paths->empty() && !optional) {
      ps.error(where, "Include " + pattern + " matches no file (use IncludeOptional if that is fine)");
    } else {
      for (const auto& p : *paths) include_one(ps, p, where);
    }
  } else if (optional && !ps.source.is_directory(pattern)) {
    // IncludeOptional of a missing plain path is silently nothing, as in Apache.
    if (auto contents = ps.source.read_file(pattern)) parse_file(ps, pattern, *contents);
  } else {
    include_one(ps, pattern, where);
  }
  --ps.include_depth;
}

}  // namespace itkd

namespace itkd {

namespace {

constexpr std::string_view kCommonFormat = "%h %l %u %t \"%r\" %>s %O";

void resolve_custom_logs(ParseState& ps) {
  for (const auto& pl : ps.custom_logs) {
    std::string format = pl.format_or_nickname;
    if (format.empty()) {
      format = ps.default_log_format.empty() ? std::string(kCommonFormat) : ps.default_log_format;
    } else if (auto it = ps.config.log_formats.find(format); it != ps.config.log_formats.end()) {
      // As mod_log_config: a known nickname wins, anything else is a format string.
      format = it->second;
    }
    ps.vhosts[pl.vhost].vhost.custom_logs.push_back({pl.path, format, pl.where, pl.env_condition, pl.env_negated});
  }
}

// mod_rewrite's server merge: a vhost runs its own rules only, unless it (RewriteOptions
// Inherit / InheritBefore) or the main server (InheritDown) asks for the main server's.
void merge_rewrite(RewriteSettings& v, const RewriteSettings& g) {
  if (!v.engine) v.engine = g.engine;
  if (v.inherit_before) v.rules.insert(v.rules.begin(), g.rules.begin(), g.rules.end());
  else if (v.inherit || g.inherit_down) v.rules.insert(v.rules.end(), g.rules.begin(), g.rules.end());
}

// Apache merges the main server's settings into every vhost after reading everything:
// what a vhost did not set itself it inherits.
void inherit_globals(ParseState& ps) {
  // A RewriteCond applies to the RewriteRule after it in its section; one left at the end
  // of a section applies to nothing (Apache drops it silently).
  auto warn_pending = [&](RewriteSettings& r) {
    for (const RewriteCondition& c : r.pending)
      ps.warn(c.where, "RewriteCond ignored: no RewriteRule follows it in its section");
    r.pending.clear();
  };
  for (VhostState& s : ps.vhosts) {
    warn_pending(s.vhost.rewrite);
    for (DirectoryBlock& d : s.vhost.directories) warn_pending(d.rewrite);
  }
  VhostState& g = ps.vhosts[0];
  if (!g.assign_set) {
    g.vhost.assign_user = ps.config.user;
    g.vhost.assign_group = ps.config.group;
    g.identity_where = ps.user_where;
  }
  const VirtualHost& gv = g.vhost;
  for (size_t i = 1; i < ps.vhosts.size(); ++i) {
    VhostState& s = ps.vhosts[i];
    VirtualHost& v = s.vhost;
    auto own = [&](const char* name) { return s.explicitly_set.count(name) > 0; };
    if (!own("servername")) v.server_name = gv.server_name;
    if (!s.assign_set) {
      v.assign_user = gv.assign_user;
      v.assign_group = gv.assign_group;
      s.identity_where = g.identity_where;
    }
    if (!own("sslengine")) v.tls.enabled = gv.tls.enabled, v.tls.where = gv.tls.where;
    if (s.skimmed) continue;
    if (!own("documentroot")) v.document_root = gv.document_root;
    if (!own("directoryindex")) v.directory_index = gv.directory_index;
    if (!own("fallbackresource")) v.fallback_resource = gv.fallback_resource;
    v.directories.insert(v.directories.begin(), gv.directories.begin(), gv.directories.end());
    v.aliases.insert(v.aliases.end(), gv.aliases.begin(), gv.aliases.end());
    v.redirects.insert(v.redirects.end(), gv.redirects.begin(), gv.redirects.end());
    for (const auto& e : gv.error_documents) {
      bool overridden = std::any_of(v.error_documents.begin(), v.error_documents.end(),
                                    [&](const ErrorDocumentRule& o) { return o.status == e.status; });
      if (!overridden) v.error_documents.push_back(e);
    }
    for (const auto& [ext, type] : gv.add_types) v.add_types.emplace(ext, type);
    if (!own("adddefaultcharset")) v.default_charset = gv.default_charset;
    if (!own("accessfilename")) v.access_file_names = gv.access_file_names;
    // A vhost with its own CustomLog does not get the main server's (Apache behaviour).
    if (!own("customlog")) v.custom_logs = gv.custom_logs;
    HttpLimits& l = v.limits;
    const HttpLimits& gl = gv.limits;
    if (!own("timeout")) l.timeout_s = gl.timeout_s;
    if (!own("keepalive")) l.keep_alive = gl.keep_alive;
    if (!own("keepalivetimeout")) l.keep_alive_timeout_s = gl.keep_alive_timeout_s;
    if (!own("maxkeepaliverequests")) l.max_keep_alive_requests = gl.max_keep_alive_requests;
    if (!own("limitrequestline")) l.limit_request_line = gl.limit_request_line;
    if (!own("limitrequestfieldsize")) l.limit_request_field_size = gl.limit_request_field_size;
    if (!own("limitrequestfields")) l.limit_request_fields = gl.limit_request_fields;
    if (!own("limitrequestbody")) l.limit_request_body = gl.limit_request_body;
    if (!own("requestreadtimeout")) l.request_header_timeout_s = gl.request_header_timeout_s;
    if (!own("maxclientsvhost")) v.max_clients = gv.max_clients;
    if (!own("nicevalue")) v.nice_value = gv.nice_value;
    if (!own("ownerconfinement"))
      v.owner_confinement = gv.owner_confinement, v.owner_confinement_where = gv.owner_confinement_where;
    if (!own("ownerprivatetmp"))
      v.owner_private_tmp = gv.owner_private_tmp, v.owner_private_tmp_where = gv.owner_private_tmp_where;
    v.owner_paths.insert(v.owner_paths.begin(), gv.owner_paths.begin(), gv.owner_paths.end());
    if (!own("remoteipheader")) v.remote_ip.header = gv.remote_ip.header, v.remote_ip.where = gv.remote_ip.where;
    if (!own("remoteipinternalproxy")) v.remote_ip.internal_proxies = gv.remote_ip.internal_proxies;
    if (!own("remoteiptrustedproxy")) v.remote_ip.trusted_proxies = gv.remote_ip.trusted_proxies;
    for (const auto& [ext, h] : gv.add_handlers) {
      bool removed = std::find(v.remove_handlers.begin(), v.remove_handlers.end(), ext) != v.remove_handlers.end();
      if (!removed) v.add_handlers.emplace(ext, h);
    }
    if (!own("sethandler")) v.set_handler = gv.set_handler;
    v.files_blocks.insert(v.files_blocks.begin(), gv.files_blocks.begin(), gv.files_blocks.end());
    v.header_rules.insert(v.header_rules.begin(), gv.header_rules.begin(), gv.header_rules.end());
    v.request_header_rules.insert(v.request_header_rules.begin(), gv.request_header_rules.begin(),
                                  gv.request_header_rules.end());
    v.env_ops.insert(v.env_ops.begin(), gv.env_ops.begin(), gv.env_ops.end());
    if (!own("fileetag")) v.file_etag = gv.file_etag;
    else if (!v.file_etag.parts) v.file_etag.parts = gv.file_etag.apply(kDefaultFileETag);  // +/- on the server's
    {
      ExpiresSettings own_expires = std::move(v.expires);
      v.expires = gv.expires;
      v.expires.merge(own_expires);
    }
    v.locations.insert(v.locations.begin(), gv.locations.begin(), gv.locations.end());
    merge_rewrite(v.rewrite, gv.rewrite);
    v.setenvif.insert(v.setenvif.begin(), gv.setenvif.begin(), gv.setenvif.end());
    v.proxy_pass_matches.insert(v.proxy_pass_matches.end(), gv.proxy_pass_matches.begin(),
                                gv.proxy_pass_matches.end());
    v.proxy_workers.insert(v.proxy_workers.end(), gv.proxy_workers.begin(), gv.proxy_workers.end());
    if (!own("proxytimeout")) v.proxy_timeout_s = gv.proxy_timeout_s;
    if (!own("rlimitcpu")) v.script_limits.cpu_s = gv.script_limits.cpu_s;
    if (!own("rlimitmem")) v.script_limits.mem_bytes = gv.script_limits.mem_bytes;
    if (!own("rlimitnproc")) v.script_limits.nproc = gv.script_limits.nproc;
    FcgidSettings& f = v.fcgid;
    const FcgidSettings& gf = gv.fcgid;
    for (const auto& [suffix, cmd] : gf.wrappers) f.wrappers.emplace(suffix, cmd);
    if (!own("fcgidmaxprocessesperclass")) f.max_processes_per_class = gf.max_processes_per_class;
    if (!own("fcgidminprocessesperclass")) f.min_processes_per_class = gf.min_processes_per_class;
    if (!own("fcgididletimeout")) f.idle_timeout_s = gf.idle_timeout_s;
    if (!own("fcgidmaxrequestsperprocess")) f.max_requests_per_process = gf.max_requests_per_process;
    if (!own("fcgidiotimeout")) f.io_timeout_s = gf.io_timeout_s;
    // The vhost's own FcgidInitialEnv values win over the global ones of the same name.
    for (const auto& e : gf.initial_env) {
      bool mine = std::any_of(f.initial_env.begin(), f.initial_env.end(),
                              [&](const auto& o) { return o.first == e.first; });
      if (!mine) f.initial_env.push_back(e);
    }
    // php_value & co.: the vhost's own over the global ones, as mod_php merges them.
    std::vector<PhpIniSetting> own_php = std::move(v.php_ini);
    v.php_ini = gv.php_ini;
    merge_php_ini(v.php_ini, own_php);
    // They reach php-cgi (as -d) and php-fpm; a FcgidWrapper that is another program gets
    // nothing, and that must not go unsaid.
    bool has_php_settings = !v.php_ini.empty() || std::any_of(v.directories.begin(), v.directories.end(),
                                                              [](const DirectoryBlock& b) { return !b.php_ini.empty(); });
    for (const auto& [suffix, command] : v.fcgid.wrappers) {
      if (has_php_settings && !is_php_cgi_command(command)) {
        ps.warn(v.where, "FcgidWrapper " + command + " is not php-cgi: the php_value, php_flag and php_admin_* "
                         "settings of this virtual host are not passed to it (itkd gives them to php-cgi as -d, "
                         "and to php-fpm)");
      }
    }
    TlsConfig& t = v.tls;
    const TlsConfig& gt = gv.tls;
    if (!own("sslcertificatefile")) t.certificate_file = gt.certificate_file;
    if (!own("sslcertificatekeyfile")) t.certificate_key_file = gt.certificate_key_file;
    if (!own("sslcertificatechainfile")) t.certificate_chain_file = gt.certificate_chain_file;
    if (!own("sslprotocol")) t.protocol = gt.protocol;
    if (!own("sslciphersuite")) t.cipher_suite = gt.cipher_suite;
    if (!own("sslciphersuite-tlsv1.3")) t.cipher_suite_tls13 = gt.cipher_suite_tls13;
    if (!own("sslhonorcipherorder")) t.honor_cipher_order = gt.honor_cipher_order;
    if (!own("sslsessiontickets")) t.session_tickets = gt.session_tickets;
  }
  for (VhostState& s : ps.vhosts) derive_section_flags(s.vhost);
}

std::string address_text(const VhostAddress& a) {
  std::string host = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  return a.port ? host + ":" + std::to_string(a.port) : host;
}

void validate_addresses(ParseState& ps, const std::string& main_file) {
  const auto& listeners = ps.config.listeners;
  if (listeners.empty()) {
    ps.error({main_file, 0}, "no Listen directive (add e.g. 'Listen 80')");
    return;
  }
  for (size_t i = 1; i < ps.vhosts.size(); ++i) {
    const VirtualHost& v = ps.vhosts[i].vhost;
    for (const auto& a : v.addresses) {
      if (a.port == 0) continue;
      bool wild = a.host == "*" || a.host == "_default_";
      bool found = std::any_of(listeners.begin(), listeners.end(), [&](const Listener& l) {
        return l.port == a.port && (l.host.empty() || wild || l.host == a.host);
      });
      if (!found) {
        ps.error(v.where, "<VirtualHost " + address_text(a) + "> has no matching Listen (add 'Listen " +
                              address_text(a) + "' or 'Listen " + std::to_string(a.port) + "')");
      }
    }
    if (v.document_root.empty() && !ps.vhosts[i].skimmed) {
      ps.error(v.where, "<VirtualHost> " + (v.server_name.empty() ? "" : v.server_name + " ") +
                            "has no DocumentRoot (set one in it or at server level)");
    }
  }
  // The main server answers only connections no <VirtualHost> address covers; it needs a
  // DocumentRoot only if some Listen can reach it that way.
  if (ps.vhosts[0].vhost.document_root.empty()) {
    for (const Listener& l : listeners) {
      bool covered = false;
      for (size_t i = 1; i < ps.vhosts.size() && !covered; ++i) {
        for (const auto& a : ps.vhosts[i].vhost.addresses) {
          if ((a.host == "*" || a.host == "_default_") && (a.port == 0 || a.port == l.port)) covered = true;
        }
      }
      if (!covered) {
        ps.error(l.where, "connections to Listen " + (l.host.empty() ? "" : l.host + ":") +
                              std::to_string(l.port) +
                              " that match no <VirtualHost> go to the main server, which has "
                              "no DocumentRoot (set one, or add a <VirtualHost *:" +
                              std::to_string(l.port) + ">)");
        break;
      }
    }
  }
}

std::string vhost_name(const VirtualHost& v, size_t index) {
  if (v.is_main_server) return "the main server";
  return "vhost " + (v.server_name.empty() ? "#" + std::to_string(index) : v.server_name);
}

std::string listener_text(const Listener& l) {
  std::string host = l.host.find(':') != std::string::npos ? "[" + l.host + "]" : l.host;
  return (host.empty() ? "*" : host) + ":" + std::to_string(l.port);
}

// Whether connections accepted on `l` can be routed to a vhost with address `a`.
bool address_on_listener(const VhostAddress& a, const Listener& l) {
  bool wild = a.host == "*" || a.host == "_default_";
  return (a.port == 0 || a.port == l.port) && (l.host.empty() || wild || a.host == l.host);
}

// mod_ssl's per-vhost checks, then each listener's protocol from its vhosts: the front
// must know before reading a byte whether a connection starts with a ClientHello, so
// every vhost reachable on one listening socket must agree on SSLEngine.
void validate_tls(ParseState& ps) {
  auto& vhosts = ps.vhosts;
  for (size_t i = 0; i < vhosts.size(); ++i) {
    VirtualHost& v = vhosts[i].vhost;
    TlsConfig& t = v.tls;
    if (!t.enabled || vhosts[i].skimmed) continue;
    if (t.certificate_file.empty()) {
      ps.error(t.where, vhost_name(v, i) + " has SSLEngine on but no SSLCertificateFile "
                        "(set it in the <VirtualHost> or at server level)");
    }
    // As mod_ssl: without SSLCertificateKeyFile the key is read from the certificate file.
    if (t.certificate_key_file.empty()) t.certificate_key_file = t.certificate_file;
    for (const auto& a : v.addresses) {
      if (a.port == 0) {
        ps.error(t.where, vhost_name(v, i) + " has SSLEngine on but an address without a "
                          "port; name the TLS port, e.g. <VirtualHost *:443>");
      }
    }
  }
  for (size_t li = 0; li < ps.config.listeners.size(); ++li) {
    Listener& l = ps.config.listeners[li];
    // The main server gets what matches no <VirtualHost> address on this socket.
    bool main_reachable = true;
    std::vector<size_t> on_it;
    for (size_t i = 1; i < vhosts.size(); ++i) {
      bool here = false;
      for (const auto& a : vhosts[i].vhost.addresses) {
        if (!address_on_listener(a, l)) continue;
        here = true;
        if (a.host == "*" || a.host == "_default_") main_reachable = false;
      }
      if (here) on_it.push_back(i);
    }
    if (main_reachable) on_it.insert(on_it.begin(), 0);
    // mod_remoteip: the PROXY header comes before anything else, so it is the listener's
    // property, on wherever the main server or a vhost on it asks for it.
    l.proxy_protocol = vhosts[0].vhost.proxy_protocol;
    l.proxy_protocol_exceptions = vhosts[0].vhost.proxy_protocol_exceptions;
    for (size_t i : on_it) {
      if (i == 0) continue;
      const VirtualHost& v = vhosts[i].vhost;
      l.proxy_protocol = l.proxy_protocol || v.proxy_protocol;
      l.proxy_protocol_exceptions.insert(l.proxy_protocol_exceptions.end(), v.proxy_protocol_exceptions.begin(),
                                         v.proxy_protocol_exceptions.end());
    }
    const VirtualHost* first_tls = nullptr;
    for (size_t i : on_it)
      if (vhosts[i].vhost.tls.enabled && !first_tls) first_tls = &vhosts[i].vhost;
    l.tls = first_tls != nullptr;
    l.protocol = l.tls ? "https" : "http";
    if (!l.tls) {
      if (ps.listen_https[li]) {
        ps.error(l.where, "Listen " + listener_text(l) + " https has no <VirtualHost> with "
                          "SSLEngine on (add one, or drop 'https')");
      }
      continue;
    }
    for (size_t i : on_it) {
      const VirtualHost& v = vhosts[i].vhost;
      if (v.tls.enabled) continue;
      std::string why = v.is_main_server
                            ? " (it answers connections that match no <VirtualHost>; add a "
                              "<VirtualHost *:" + std::to_string(l.port) + "> with SSLEngine on)"
                            : "";
      ps.error(i == 0 ? l.where : v.where,
               vhost_name(v, i) + " on " + listener_text(l) + " has SSLEngine off but shares "
               "the port with TLS vhosts (SSLEngine on at " + first_tls->tls.where.str() + ")" +
               why);
    }
  }
}

// `itkd -t` and the master: stat (never open: the master must not read keys) each TLS
// file, and warn about keys other users can read or that the pool's user does not own.
// Children re-parse from the snapshot and skip this; a chrooted front could not stat anyway.
void check_tls_files(ParseState& ps) {
  std::set<std::string> seen;
  for (size_t i = 0; i < ps.vhosts.size(); ++i) {
    const VirtualHost& v = ps.vhosts[i].vhost;
    const TlsConfig& t = v.tls;
    if (!t.enabled || v.pool >= ps.config.pools.size()) continue;
    const Pool& pool = ps.config.pools[v.pool];
    for (const std::string* path : {&t.certificate_file, &t.certificate_chain_file}) {
      struct stat st;
      if (path->empty() || !seen.insert("f" + *path).second) continue;
      if (::stat(path->c_str(), &st) != 0) {
        int err = errno;
        ps.warn(t.where, "cannot stat " + *path + " (" + vhost_name(v, i) + "): " +
                         std::strerror(err) + "; TLS for it will fail to start");
      }
    }
    struct stat st;
    const std::string& key = t.certificate_key_file;
    if (::stat(key.c_str(), &st) != 0) {
      int err = errno;
      if (seen.insert("f" + key).second) {
        ps.warn(t.where, "cannot stat key file " + key + " (" + vhost_name(v, i) + "): " +
                         std::strerror(err) + "; TLS for it will fail to start");
      }
      continue;
    }
    if ((st.st_mode & 077) != 0 && seen.insert("m" + key).second) {
      ps.warn(t.where, "key file " + key + " is readable by group/others; chmod 600 it");
    }
    if (st.st_uid != 0 && st.st_uid != pool.uid &&
        seen.insert("o" + key + "/" + std::to_string(pool.uid)).second) {
      ps.warn(t.where, "key file " + key + " is owned by uid " + std::to_string(st.st_uid) +
                       ", neither root nor " + pool.user + " (uid " + std::to_string(pool.uid) +
                       ") whose worker serves " + vhost_name(v, i) + "; chown it");
    }
  }
}

// "#61001" -> 61001; names -> nullopt.
std::optional<uint32_t> numeric_id(const std::string& s) {
  if (s.size() < 2 || s[0] != '#' || s.size() > 11) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  if (v >= 0xffffffffull) return std::nullopt;
  return static_cast<uint32_t>(v);
}

std::string range_text(uint32_t lo, uint32_t hi) { return std::to_string(lo) + "-" + std::to_string(hi); }

// One owner's vhosts share its processes: what is set per process (OwnerConfinement,
// OwnerPrivateTmp) can't differ between them. Reports the first difference at `v`.
bool owner_settings_agree(ParseState& ps, const VirtualHost& v, const VirtualHost& first) {
  struct Setting {
    const char* name;
    bool VirtualHost::*value;
    SourceLocation VirtualHost::*where;
  };
  static constexpr Setting kSettings[] = {
      {"OwnerConfinement", &VirtualHost::owner_confinement, &VirtualHost::owner_confinement_where},
      {"OwnerPrivateTmp", &VirtualHost::owner_private_tmp, &VirtualHost::owner_private_tmp_where},
  };
  for (const Setting& set : kSettings) {
    if (v.*set.value == first.*set.value) continue;
    auto said = [&](const VirtualHost& h) {
      const SourceLocation& w = h.*set.where;
      return std::string(h.*set.value ? "On" : "Off") + (w.line ? " (" + w.str() + ")" : " (the default)");
    };
    ps.error((v.*set.where).line ? v.*set.where : v.where,
             std::string(set.name) + " " + said(v) + " disagrees with " + said(first) + " for another vhost of " +
                 v.assign_user + ": an owner's vhosts share its processes, so they must agree");
    return false;
  }
  return true;
}

void build_pools(ParseState& ps) {
  const bool resolve = ps.options.resolve_identities;
  std::map<std::pair<std::string, std::string>, Result<Identity>> cache;
  std::map<std::pair<uint32_t, uint32_t>, size_t> by_id;
  std::map<std::pair<std::string, std::string>, size_t> by_name;
  std::vector<size_t> first_of_pool;  // per pool, its first vhost
  for (size_t i = 0; i < ps.vhosts.size(); ++i) {
    VhostState& s = ps.vhosts[i];
    VirtualHost& v = s.vhost;
    std::string directive = (i == 0 && !s.assign_set) ? "User/Group" : "AssignUserID";
    Identity id;
    bool ids_known = false;
    if (resolve) {
      auto key = std::pair{v.assign_user, v.assign_group};
      auto it = cache.find(key);
      if (it == cache.end()) it = cache.emplace(key, ps.source.resolve(key.first, key.second)).first;
      if (!it->second) {
        ps.error(s.identity_where, it->second.error().message + " in " + directive);
        continue;
      }
      id = it->second.value();
      ids_known = true;
    } else {
      auto u = numeric_id(v.assign_user);
      auto g = numeric_id(v.assign_group);
      if (u) id.uid = *u;
      if (g) id.gid = *g;
      ids_known = u && g;
      if (v.assign_user == "root" || v.assign_group == "root") id.uid = 0, ids_known = true;
    }
    if (ids_known && (id.uid == 0 || id.gid == 0)) {
      ps.error(s.identity_where, directive + " root is refused: tenant code never runs as root");
      continue;
    }
    if (ids_known && ps.config.limit_uid_range) {
      auto [lo, hi] = *ps.config.limit_uid_range;
      if (id.uid < lo || id.uid > hi) {
        ps.error(s.identity_where, "uid " + std::to_string(id.uid) + " of " + directive +
                                       " is outside LimitUIDRange " + range_text(lo, hi) +
                                       " (set at " + ps.limit_uid_where.str() + ")");
        continue;
      }
    }
    if (ids_known && ps.config.limit_gid_range) {
      auto [lo, hi] = *ps.config.limit_gid_range;
      if (id.gid < lo || id.gid > hi) {
        ps.error(s.identity_where, "gid " + std::to_string(id.gid) + " of " + directive +
                                       " is outside LimitGIDRange " + range_text(lo, hi) +
                                       " (set at " + ps.limit_gid_where.str() + ")");
        continue;
      }
    }
    size_t* slot;
    if (resolve) slot = &by_id.try_emplace({id.uid, id.gid}, SIZE_MAX).first->second;
    else slot = &by_name.try_emplace({v.assign_user, v.assign_group}, SIZE_MAX).first->second;
    if (*slot == SIZE_MAX) {
      *slot = ps.config.pools.size();
      Pool p;
      p.user = v.assign_user;
      p.group = v.assign_group;
      p.uid = id.uid;
      p.gid = id.gid;
      p.nice_value = v.nice_value;
      p.confined = v.owner_confinement;
      p.private_tmp = v.owner_private_tmp;
      p.home = id.home;
      p.groups = id.groups;
      ps.config.pools.push_back(std::move(p));
      first_of_pool.push_back(i);
    } else if (!s.skimmed && !owner_settings_agree(ps, v, ps.vhosts[first_of_pool[*slot]].vhost)) {
      continue;
    }
    ps.config.pools[*slot].vhosts.push_back(i);
    v.pool = *slot;
  }
}

// Apache's mod_remoteip trusts every peer when no proxy is listed, so any client could
// name any address in X-Forwarded-For and walk past `Require ip`. Here that is an error.
void check_remote_ip(ParseState& ps) {
  for (const auto& s : ps.vhosts) {
    const RemoteIpSettings& r = s.vhost.remote_ip;
    if (s.skimmed || r.header.empty() || !r.internal_proxies.empty() || !r.trusted_proxies.empty()) continue;
    ps.error(r.where, "RemoteIPHeader " + r.header + " needs RemoteIPInternalProxy or RemoteIPTrustedProxy: "
                      "without them any client could name any address in it");
  }
}

void check_front_user(ParseState& ps, const std::string& main_file) {
  SourceLocation where = ps.front_user_where.line ? ps.front_user_where : SourceLocation{main_file, 0};
  const ServerConfig& c = ps.config;
  if (ps.options.resolve_identities) {
    auto id = ps.source.resolve(c.front_user, c.front_group);
    if (!id) return ps.error(where, id.error().message + " in FrontUser/FrontGroup");
    if (id->uid == 0 || id->gid == 0) {
      return ps.error(where, "FrontUser/FrontGroup must not be root: the front reads client bytes");
    }
    ps.config.front_uid = id->uid;
    for (size_t p = 0; p < c.pools.size(); ++p) {
      if (c.pools[p].uid == id->uid) {
        return ps.error(where, "FrontUser " + c.front_user + " (uid " + std::to_string(id->uid) +
                                   ") is also the identity of pool " + std::to_string(p) +
                                   "; the front must be a user no tenant runs as");
      }
    }
    return;
  }
  auto front = numeric_id(c.front_user);
  for (size_t p = 0; p < c.pools.size(); ++p) {
    auto pool = numeric_id(c.pools[p].user);
    bool same = front && pool ? *front == *pool : c.pools[p].user == c.front_user;
    if (same) {
      return ps.error(where, "FrontUser " + c.front_user + " is also the identity of pool " +
                                 std::to_string(p) + "; the front must be a user no tenant runs as");
    }
  }
  if (c.front_user == "root" || c.front_user == "#0") {
    ps.error(where, "FrontUser must not be root: the front reads client bytes");
  }
}

// <Proxy>/ProxySet settings reach the backends SetHandler and AddHandler name, as mod_proxy
// matches a handler's "proxy:unix:/path|fcgi://localhost" to the worker "fcgi://localhost".
// A block naming the socket too wins over one naming only the URL; the vhost's over the
// main server's. A block that matches no handler is most likely a typo: say so.
void apply_proxy_workers(ParseState& ps) {
  std::set<std::string> used;
  auto apply = [&](const VirtualHost& v, HandlerSpec& h) {
    if (h.kind != HandlerSpec::Kind::ProxyFcgi) return;
    FcgiBackend& b = h.backend;
    const ProxyWorkerSettings* best = nullptr;
    for (const auto& w : v.proxy_workers) {
      if (w.worker_url != b.worker_url || (!w.unix_path.empty() && w.unix_path != b.unix_path)) continue;
      if (!best || (best->unix_path.empty() && !w.unix_path.empty())) best = &w;
    }
    if (!best) return;
    used.insert(best->where.str());
    if (best->reuse) b.reuse = *best->reuse;
    if (best->max_idle) b.max_idle = *best->max_idle;
  };
  for (auto& s : ps.vhosts) {
    if (s.skimmed) continue;
    VirtualHost& v = s.vhost;
    if (v.set_handler) apply(v, *v.set_handler);
    for (auto& [ext, h] : v.add_handlers) apply(v, h);
    for (auto& f : v.files_blocks)
      if (f.set_handler) apply(v, *f.set_handler);
    for (auto& d : v.directories) {
      if (d.set_handler) apply(v, *d.set_handler);
      for (auto& [ext, h] : d.add_handlers) apply(v, h);
    }
  }
  std::set<std::string> warned;
  for (const auto& s : ps.vhosts) {
    if (s.skimmed) continue;
    for (const auto& w : s.vhost.proxy_workers) {
      std::string where = w.where.str();
      if (used.count(where) || !warned.insert(where).second) continue;
      ps.warn(w.where, "<Proxy>/ProxySet for " + (w.unix_path.empty() ? "" : "unix:" + w.unix_path + "|") +
                           w.worker_url + " matches no SetHandler or AddHandler \"proxy:...\" backend");
    }
  }
}

Result<ServerConfig> finish(ParseState& ps, const std::string& main_file) {
  // Checks that need the whole configuration run only on one that parsed cleanly, so
  // their messages are not echoes of a syntax error.
  if (ps.errors.empty()) {
    resolve_custom_logs(ps);
    inherit_globals(ps);
    check_remote_ip(ps);
    apply_proxy_workers(ps);
    {
      std::vector<const VirtualHost*> merged;
      for (const auto& s : ps.vhosts) merged.push_back(&s.vhost);
      for (const auto& clash : find_php_fpm_settings_clashes(merged)) ps.warn(clash.where, clash.message);
    }
    validate_addresses(ps, main_file);
    if (ps.errors.empty()) validate_tls(ps);
    if (ps.errors.empty()) {
      build_pools(ps);
      if (ps.errors.empty()) check_front_user(ps, main_file);
      if (ps.errors.empty() && ps.options.resolve_identities &&
          !dynamic_cast<SnapshotSource*>(&ps.source)) {
        check_tls_files(ps);
      }
    }
  }
  if (!ps.errors.empty()) {
    // The same inherited mistake can surface once per vhost; say it once.
    std::vector<std::string> unique;
    for (auto& e : ps.errors)
      if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
    std::string joined;
    for (const auto& e : unique) joined += (joined.empty() ? "" : "\n") + e;
    return Error{joined};
  }
  ps.config.vhosts.reserve(ps.vhosts.size());
  for (auto& s : ps.vhosts) ps.config.vhosts.push_back(std::move(s.vhost));
  return std::move(ps.config);
}

}  // namespace

Result<HtaccessBlocks> parse_htaccess(const std::string& text, const std::string& file_name,
                                      const std::string& directory, const HtaccessPermissions& allowed,
                                      const std::string& server_root) {
  // A .htaccess file includes nothing (refused above), so nothing is ever read through it.
  class NoFiles : public ConfigSource {
   public:
    Result<std::string> read_file(const std::string& path) override { return Error{path + ": not read"}; }
    Result<std::vector<std::string>> expand(const std::string& p) override { return Error{p + ": not read"}; }
    bool is_directory(const std::string&) override { return false; }
  } no_files;
  const ParseOptions options{{}, false, std::nullopt};
  ParseState ps(no_files, options);
  ps.config.server_root = server_root;
  ps.htaccess = &allowed.rules;
  ps.htaccess_list = &allowed.list;
  DirectoryBlock block;
  block.path = directory;
  block.from_htaccess = true;
  block.where = SourceLocation{file_name, 0};
  ps.vh().vhost.directories.push_back(std::move(block));
  ps.current_directory = 0;
  ps.context = kCtxDirectory;
  ps.section_name = ".htaccess";
  parse_file(ps, file_name, text);
  HtaccessBlocks out;
  DirectoryBlock& dir = ps.dir();
  for (const RewriteCondition& c : dir.rewrite.pending)
    ps.warn(c.where, "RewriteCond ignored: no RewriteRule follows it in its section");
  dir.rewrite.pending.clear();
  check_section_access(ps, SourceLocation{file_name, 0});
  if (!ps.errors.empty()) {
    std::string joined;
    for (const auto& e : ps.errors) joined += (joined.empty() ? "" : "\n") + e;
    return Error{joined};
  }
  out.directory = std::move(dir);
  out.files_blocks = std::move(ps.vh().vhost.files_blocks);
  out.warnings = std::move(ps.config.warnings);
  return out;
}

void derive_section_flags(VirtualHost& v) {
  auto has = [](const auto& blocks) {
    return std::any_of(blocks.begin(), blocks.end(), [](const auto& b) { return !b.header_rules.empty(); });
  };
  v.has_header_rules = !v.header_rules.empty() || has(v.directories) || has(v.files_blocks) || has(v.locations);
  v.has_request_header_rules =
      !v.request_header_rules.empty() || std::any_of(v.locations.begin(), v.locations.end(), [](const LocationBlock& l) {
        return !l.request_header_rules.empty();
      });
  auto turns_on = [](const auto& blocks) {
    return std::any_of(blocks.begin(), blocks.end(), [](const auto& b) { return b.expires.active.value_or(false); });
  };
  v.has_expires =
      v.expires.active.value_or(false) || turns_on(v.directories) || turns_on(v.files_blocks) || turns_on(v.locations);
  auto has_env = [](const auto& blocks) {
    return std::any_of(blocks.begin(), blocks.end(), [](const auto& b) { return !b.env_ops.empty(); });
  };
  v.has_script_env = !v.env_ops.empty() || has_env(v.directories) || has_env(v.files_blocks) || has_env(v.locations);
  v.has_rewrite = (v.rewrite.engine.value_or(false) && !v.rewrite.rules.empty()) ||
                  std::any_of(v.directories.begin(), v.directories.end(),
                              [](const DirectoryBlock& d) { return !d.rewrite.rules.empty(); });
  v.has_directory_redirects = std::any_of(v.directories.begin(), v.directories.end(),
                                          [](const DirectoryBlock& d) { return !d.redirects.empty(); });
  v.has_directory_error_documents = std::any_of(v.directories.begin(), v.directories.end(),
                                                [](const DirectoryBlock& d) { return !d.error_documents.empty(); });
  v.has_directory_types = std::any_of(v.directories.begin(), v.directories.end(), [](const DirectoryBlock& d) {
    return !d.add_types.empty() || d.default_charset.has_value();
  });
  v.has_directory_setenvif = std::any_of(v.directories.begin(), v.directories.end(),
                                         [](const DirectoryBlock& d) { return !d.setenvif.empty(); });
  v.reads_htaccess = std::any_of(v.directories.begin(), v.directories.end(), [](const DirectoryBlock& d) {
    return (d.allow_override && d.allow_override->classes) || (d.allow_override_list && !d.allow_override_list->empty());
  });
}

Result<ServerConfig> parse_config(ConfigSource& source, const std::string& main_file,
                                  const ParseOptions& options) {
  std::string path = main_file;
  if (path.empty()) return Error{"no configuration file given"};
  if (path[0] != '/') {
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) return Error{errno_message("getcwd")};
    path = std::string(cwd) + "/" + path;
  }
  if (auto* disk = dynamic_cast<DiskSource*>(&source)) {
    disk->recorded().main_file = path;
    disk->recorded().defines = options.defines;
  }
  ParseState ps(source, options);
  auto contents = source.read_file(path);
  if (!contents) return Error{contents.error().message};
  parse_file(ps, path, *contents);
  return finish(ps, path);
}

Result<ServerConfig> parse_config_text(const std::string& text, const std::string& file_name,
                                       const ParseOptions& options) {
  // Only the one file exists; identities are looked up live (ConfigSource's default).
  class TextSource : public ConfigSource {
   public:
    TextSource(const std::string& name, const std::string& text) : name_(name), text_(text) {}
    Result<std::string> read_file(const std::string& path) override {
      if (path == name_) return text_;
      return Error{"cannot open " + path + ": only " + name_ + " is available here"};
    }
    Result<std::vector<std::string>> expand(const std::string& pattern) override {
      return Error{"cannot expand " + pattern + ": only " + name_ + " is available here"};
    }
    bool is_directory(const std::string&) override { return false; }

   private:
    const std::string& name_;
    const std::string& text_;
  };
  TextSource source(file_name, text);
  ParseState ps(source, options);
  parse_file(ps, file_name, text);
  return finish(ps, file_name);
}

}  // namespace itkd
