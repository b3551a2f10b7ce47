// Parsing configuration text in unit tests: numeric identities are not resolved, and a
// failure says which text it was about.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "config/config_parser.h"

namespace itkd::test {

inline const std::string kBaseConfig = "Listen 80\nDocumentRoot /srv/main\n";

inline ParseOptions no_ids() {
  ParseOptions o;
  o.resolve_identities = false;
  return o;
}

inline ServerConfig parse_ok(const std::string& text) {
  auto r = parse_config_text(text, "t.conf", no_ids());
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : ServerConfig{};
}

// The error message ("t.conf:LINE: ..."), or "" (and a test failure) if it parsed.
inline std::string parse_err(const std::string& text) {
  auto r = parse_config_text(text, "t.conf", no_ids());
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
  return r.ok() ? "" : r.error().message;
}

// The vhost "a" (DocumentRoot /srv/a) with `inside` in its block, after kBaseConfig.
inline VirtualHost parse_vhost(const std::string& inside) {
  ServerConfig c = parse_ok(kBaseConfig + "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\n" + inside +
                            "</VirtualHost>\n");
  return c.vhosts.size() > 1 ? c.vhosts[1] : VirtualHost{};
}

}  // namespace itkd::test
