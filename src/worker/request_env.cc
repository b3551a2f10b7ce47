#include "worker/request_env.h"

#include <regex.h>

#include <algorithm>
#include <array>
#include <optional>

namespace itkd {

namespace {

std::optional<std::string_view> attribute_of(const SetEnvIfRule& rule, const RequestAttributes& r,
                                             const ScriptEnv& env) {
  using A = SetEnvIfRule::Attribute;
  switch (rule.attribute) {
    case A::RemoteAddr: return r.remote_ip;
    case A::ServerAddr: return r.server_ip;
    case A::RequestMethod: return r.head.method_text;
    case A::RequestProtocol: return r.head.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
    case A::RequestUri: return r.url_path;
    case A::Header: break;
  }
  if (const http::HeaderField* f = r.head.find(rule.name)) return f->value;
  // No such header: a variable an earlier rule set, as mod_setenvif falls back to.
  for (auto it = env.rbegin(); it != env.rend(); ++it)
    if (it->first == rule.name) return std::string_view(it->second);
  return std::nullopt;
}

// "$1" and friends in a value, from the match over `subject`.
std::string expand(std::string_view value, std::string_view subject, const std::array<regmatch_t, 10>& m) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '$' && i + 1 < value.size() && value[i + 1] >= '0' && value[i + 1] <= '9') {
      const regmatch_t& g = m[value[++i] - '0'];
      if (g.rm_so >= 0) out.append(subject.substr(g.rm_so, g.rm_eo - g.rm_so));
    } else {
      out += value[i];
    }
  }
  std::erase_if(out, [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
  return out;
}

}  // namespace

bool env_has(const ScriptEnv& env, std::string_view name) {
  return std::any_of(env.begin(), env.end(), [&](const auto& e) { return e.first == name; });
}

void apply_setenvif(const std::vector<SetEnvIfRule>& rules, const RequestAttributes& request, ScriptEnv& env) {
  for (const SetEnvIfRule& rule : rules) {
    std::optional<std::string_view> value = attribute_of(rule, request, env);
    if (!value) continue;
    // A copy: the value may be a variable this rule is about to replace.
    std::string subject(*value);
    std::array<regmatch_t, 10> m{};
    if (regexec(rule.regex.get(), subject.c_str(), m.size(), m.data(), 0) != 0) continue;
    for (const auto& set : rule.sets) {
      const std::string& name = set.first;
      std::erase_if(env, [&](const auto& e) { return e.first == name; });
      if (set.second) env.emplace_back(name, expand(*set.second, subject, m));
    }
  }
}

}  // namespace itkd
