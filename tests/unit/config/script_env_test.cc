// mod_env: SetEnv / UnsetEnv scopes, merge order, and the names a config may not set.
#include <gtest/gtest.h>

#include "config/config_parser.h"
#include "config/parse_support.h"
#include "config/script_env.h"

namespace itkd {
namespace {

Result<ServerConfig> parse(const std::string& text) {
  return parse_config_text(test::kBaseConfig + text, "t.conf", test::no_ids());
}

TEST(ScriptEnv, OpsApplyInOrder) {
  ScriptEnv env;
  apply_script_env_ops(env, {{"A", "1"}, {"B", "2"}, {"A", "3"}, {"B", std::nullopt}, {"C", ""}});
  EXPECT_EQ(env, (ScriptEnv{{"A", "3"}, {"C", ""}}));
}

TEST(ScriptEnv, ScopesAndInheritance) {
  auto c = parse("SetEnv GLOBAL g\n<VirtualHost *:80>\nServerName a\nSetEnv APP_ENV production\nUnsetEnv GLOBAL\n"
                 "<Directory /srv/a/admin>\nSetEnv APP_DEBUG 1\n</Directory>\n"
                 "<Location /api>\nSetEnv API yes\n</Location>\n</VirtualHost>\n"
                 "<VirtualHost *:80>\nServerName b\n</VirtualHost>\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const VirtualHost& a = c->vhosts[1];
  ASSERT_EQ(a.env_ops.size(), 3u);  // the global SetEnv first, then the vhost's own
  EXPECT_EQ(a.env_ops[0].name, "GLOBAL");
  EXPECT_FALSE(a.env_ops[2].value.has_value());
  EXPECT_EQ(a.directories[0].env_ops[0].name, "APP_DEBUG");
  EXPECT_EQ(a.locations[0].env_ops[0].name, "API");
  EXPECT_TRUE(a.has_script_env);
  EXPECT_TRUE(c->vhosts[2].has_script_env);  // inherits SetEnv GLOBAL
  auto none = parse("<VirtualHost *:80>\nServerName a\n</VirtualHost>\n");
  EXPECT_FALSE(none->vhosts[1].has_script_env);
}

TEST(ScriptEnv, NamesFromTheRequestAreRefused) {
  for (const char* line : {"SetEnv REMOTE_ADDR 10.0.0.1\n", "SetEnv HTTP_HOST evil\n", "SetEnv SSL_CIPHER x\n",
                           "SetEnv PHP_VALUE \"auto_prepend_file=/tmp/x\"\n", "UnsetEnv SCRIPT_FILENAME\n",
                           "SetEnv BAD-NAME 1\n", "SetEnv 1X 1\n", "PassEnv LD_LIBRARY_PATH\n"}) {
    auto c = parse(line);
    ASSERT_FALSE(c.ok()) << line;
    EXPECT_NE(c.error().message.find("t.conf:3:"), std::string::npos) << c.error().message;
  }
  EXPECT_TRUE(parse("SetEnv HTTPS on\nSetEnv PATH /usr/bin\nSetEnv FLAG\n").ok());
}

}  // namespace
}  // namespace itkd
