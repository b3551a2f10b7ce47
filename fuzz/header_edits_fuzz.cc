// libFuzzer target: a Header / RequestHeader rule (first line, words split on blanks) run
// over arbitrary response field lines (the rest). Parsing may refuse; an accepted rule
// must never crash, loop, or produce a field line with a CR or LF inside it, which would
// let a response value start a header of its own.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/header_rules.h"
#include "http/request_head.h"
#include "worker/header_edits.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t eol = text.find('\n');
  std::string rule_line = text.substr(0, eol);
  std::string fields = eol == std::string::npos ? "" : text.substr(eol + 1);
  bool for_request = !rule_line.empty() && rule_line[0] == 'R';
  if (for_request) rule_line.erase(0, 1);
  std::vector<std::string> args;
  std::string word;
  for (char c : rule_line) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) args.push_back(std::move(word)), word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) args.push_back(word);
  auto rule = itkd::parse_header_rule(args, for_request);
  if (!rule.ok()) return 0;

  static const std::string kRequest = "GET / HTTP/1.1\r\nHost: a\r\nX-Trace-Id: 1\r\nCookie: a=b\r\n\r\n";
  itkd::http::RequestHead head;
  (void)itkd::http::parse_request_head(kRequest, itkd::http::ParseLimits{}, head);
  itkd::HeaderRuleContext context;
  context.success = true;
  context.request = &head;
  context.request_start_us = 1;
  context.now_us = 2;
  std::vector<const itkd::HeaderRule*> rules{&*rule, &*rule};  // twice: a rule on its own output
  std::string out = itkd::apply_header_rules(fields, rules, context);
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find("\r\n", start);
    if (end == std::string::npos) __builtin_trap();  // every line ends in CRLF
    for (size_t i = start; i < end; ++i)
      if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0') __builtin_trap();
    start = end + 2;
  }
  std::vector<itkd::http::HeaderField> views{{"Cookie", fields}, {"X-A", "b"}};
  itkd::HeaderStore store;
  itkd::apply_header_rules(views, store, rules, context);
  return 0;
}
