#include "worker/header_edits.h"

#include <algorithm>

#include "http/char_class.h"
#include "worker/static/access_check.h"
#include "worker/section_walk.h"

namespace itkd {

std::vector<const HeaderRule*> header_rules_for(const VirtualHost& vhost, std::string_view fs_path,
                                                std::string_view url_path) {
  std::vector<const HeaderRule*> out;
  out.reserve(vhost.header_rules.size() + 4);
  walk_sections(
      vhost, fs_path, url_path, [](const auto& block) { return !block.header_rules.empty(); },
      [&](const auto& section) {
        for (const HeaderRule& r : section.header_rules) out.push_back(&r);
      });
  return out;
}

namespace {

// env=NAME: HTTPS is mod_ssl's on a TLS connection; the rest are the request's variables.
bool env_is_set(const HeaderRuleContext& context, const std::string& name) {
  if (name == "HTTPS" && context.https) return true;
  if (!context.env) return false;
  for (const auto& e : *context.env)
    if (e.first == name) return true;
  return false;
}

using Field = http::HeaderField;

std::vector<Field> split_fields(std::string_view lines) {
  std::vector<Field> fields;
  fields.reserve(16);
  while (!lines.empty()) {
    size_t end = lines.find("\r\n");
    std::string_view line = lines.substr(0, end);
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    fields.push_back({line.substr(0, colon), value});
  }
  return fields;
}

// Values from the config and from edits of the response's own values can't hold CR or LF
// today; this keeps it so whatever changes upstream.
void append_clean(std::string& out, std::string_view text) {
  static constexpr std::string_view kBad("\r\n\0", 3);
  size_t size = out.size();
  out.append(text);
  for (size_t i = text.find_first_of(kBad); i != std::string_view::npos; i = text.find_first_of(kBad, i + 1))
    out[size + i] = ' ';
}

std::string_view keep(HeaderStore& store, std::string text) { return store.emplace_front(std::move(text)); }

std::string_view format_value(const std::vector<HeaderValuePart>& parts, const HeaderRuleContext& context,
                              HeaderStore& store) {
  if (parts.empty()) return {};
  if (parts.size() == 1 && parts[0].kind == HeaderValuePart::Kind::Text) return parts[0].text;
  std::string out;
  for (const HeaderValuePart& p : parts) {
    switch (p.kind) {
      case HeaderValuePart::Kind::Text: out += p.text; break;
      case HeaderValuePart::Kind::RequestTime: out += "t=" + std::to_string(context.request_start_us); break;
      case HeaderValuePart::Kind::Duration:
        out += "D=" + std::to_string(std::max<int64_t>(0, context.now_us - context.request_start_us));
        break;
    }
  }
  return keep(store, std::move(out));
}

// mod_headers' "merge": is `token` already one of the comma-separated values (quoted
// strings kept whole)?
bool has_token(std::string_view list, std::string_view token) {
  size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (list[i] == ' ' || list[i] == '\t')) ++i;
    size_t start = i;
    while (i < list.size() && list[i] != ',') {
      if (list[i++] == '"') {
        while (i < list.size() && list[i++] != '"') {
        }
      }
    }
    std::string_view item = list.substr(start, i - start);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == token) return true;
    if (i < list.size()) ++i;
  }
  return false;
}

// $0-$9 are the match and its groups; "\$" and "\\" stand for '$' and '\'.
void append_replacement(std::string& out, std::string_view replacement, std::string_view subject,
                        const regmatch_t* groups) {
  for (size_t i = 0; i < replacement.size(); ++i) {
    char c = replacement[i];
    if (c == '\\' && i + 1 < replacement.size() && (replacement[i + 1] == '$' || replacement[i + 1] == '\\')) {
      out += replacement[++i];
    } else if (c == '$' && i + 1 < replacement.size() && replacement[i + 1] >= '0' && replacement[i + 1] <= '9') {
      const regmatch_t& g = groups[replacement[++i] - '0'];
      if (g.rm_so >= 0) out.append(subject.substr(static_cast<size_t>(g.rm_so), static_cast<size_t>(g.rm_eo - g.rm_so)));
    } else {
      out += c;
    }
  }
}

// regexec needs a NUL-terminated subject: `value` is copied once into `subject`.
std::string_view edit_value(std::string_view view, const HeaderRule& rule, bool all, HeaderStore& store) {
  const std::string value(view);
  std::string out;
  size_t pos = 0;
  bool edited = false;
  bool after_match = false;  // no empty match right where a match ended (as sed's s///g)
  while (pos <= value.size()) {
    regmatch_t groups[10];
    int flags = pos > 0 ? REG_NOTBOL : 0;
    if (regexec(rule.regex.get(), value.c_str() + pos, 10, groups, flags) != 0) break;
    std::string_view rest(value.c_str() + pos, value.size() - pos);
    size_t start = static_cast<size_t>(groups[0].rm_so);
    size_t end = static_cast<size_t>(groups[0].rm_eo);
    if (start == end && start == 0 && after_match) {
      // An empty match where the last one ended: keep the next character, look after it.
      if (pos < value.size()) out += value[pos];
      ++pos;
      after_match = false;
      continue;
    }
    out.append(rest.substr(0, start));
    append_replacement(out, rule.replacement, rest, groups);
    edited = true;
    pos += end;
    after_match = true;
    if (start == end) {
      if (pos < value.size()) out += value[pos];
      ++pos;
      after_match = false;
    }
    if (!all) break;
  }
  if (!edited) return view;
  if (pos < value.size()) out.append(value, pos, std::string::npos);
  return keep(store, std::move(out));
}

void apply_rule(std::vector<Field>& fields, HeaderStore& store, const HeaderRule& rule,
                const HeaderRuleContext& context) {
  auto same = [&](const Field& f) { return http::chars::iequals(f.name, rule.name); };
  auto first = std::find_if(fields.begin(), fields.end(), same);
  using A = HeaderRule::Action;
  switch (rule.action) {
    case A::Set: {
      std::string_view value = format_value(rule.value, context, store);
      if (first == fields.end()) {
        fields.push_back({rule.name, value});
      } else {
        first->value = value;
        fields.erase(std::remove_if(first + 1, fields.end(), same), fields.end());
      }
      break;
    }
    case A::SetIfEmpty:
      if (first == fields.end()) fields.push_back({rule.name, format_value(rule.value, context, store)});
      break;
    case A::Add:
      fields.push_back({rule.name, format_value(rule.value, context, store)});
      break;
    case A::Append:
    case A::Merge: {
      std::string_view value = format_value(rule.value, context, store);
      if (first == fields.end()) {
        fields.push_back({rule.name, value});
      } else if (first->value.empty()) {
        first->value = value;
      } else if (rule.action == A::Append || !has_token(first->value, value)) {
        first->value = keep(store, std::string(first->value) + ", " + std::string(value));
      }
      break;
    }
    case A::Unset:
      fields.erase(std::remove_if(fields.begin(), fields.end(), same), fields.end());
      break;
    case A::Edit:
    case A::EditAll:
      for (Field& f : fields)
        if (same(f)) f.value = edit_value(f.value, rule, rule.action == A::EditAll, store);
      break;
    case A::Echo:
      if (!context.request) break;
      for (const http::HeaderField& h : context.request->fields) {
        if (header_is_server_owned(h.name)) continue;
        std::string name(h.name);
        if (regexec(rule.regex.get(), name.c_str(), 0, nullptr, 0) == 0) fields.push_back(h);
      }
      break;
  }
}

}  // namespace

void apply_header_rules(std::vector<http::HeaderField>& fields, HeaderStore& store,
                        const std::vector<const HeaderRule*>& rules, const HeaderRuleContext& context) {
  for (const HeaderRule* rule : rules) {
    if (!rule->always && !context.success) continue;
    if (rule->condition != HeaderRule::Condition::None &&
        env_is_set(context, rule->condition_env) != (rule->condition == HeaderRule::Condition::Set))
      continue;
    apply_rule(fields, store, *rule, context);
  }
}

std::vector<const HeaderRule*> request_header_rules_for(const VirtualHost& vhost, std::string_view url_path) {
  std::vector<const HeaderRule*> out;
  for (const HeaderRule& r : vhost.request_header_rules) out.push_back(&r);
  for (const LocationBlock& l : vhost.locations) {
    if (l.request_header_rules.empty() || !location_matches(l, url_path)) continue;
    for (const HeaderRule& r : l.request_header_rules) out.push_back(&r);
  }
  return out;
}

std::string apply_header_rules(std::string_view field_lines, const std::vector<const HeaderRule*>& rules,
                               const HeaderRuleContext& context) {
  std::vector<Field> fields = split_fields(field_lines);
  HeaderStore store;
  apply_header_rules(fields, store, rules, context);
  std::string out;
  out.reserve(field_lines.size() + 128);
  for (const Field& f : fields) {
    append_clean(out, f.name);
    out += ": ";
    append_clean(out, f.value);
    out += "\r\n";
  }
  return out;
}

}  // namespace itkd
