// Patterns that would make glibc's regcomp build an exponential tree are refused before
// it sees them; everyday patterns from Apache configs pass.
#include "config/regex_cost.h"

#include <gtest/gtest.h>

#include <string>

#include "config/config_parser.h"

namespace itkd {
namespace {

TEST(RegexCost, EverydayPatternsPass) {
  for (const char* p : {"\\.php$", "^/(.*\\.php(/.*)?)$", "\\.(sql|bak|swp)$", "^(.*)$", "[[:alpha:]]+[]a-]*",
                        "^/wp-(admin|includes)/", "a{2,5}b{3}", "(a{100}){100}", "[^]x]+", "x)y*", "{1}a", ""}) {
    EXPECT_TRUE(check_regex_cost(p).ok()) << p << ": " << check_regex_cost(p).error().message;
  }
}

TEST(RegexCost, AdjacentRepetitionsRefused) {
  for (const char* p : {"c++", ".*?", "a+*", "(ab)*{2}", "x?+"}) {
    auto r = check_regex_cost(p);
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_NE(r.error().message.find("right after another repetition"), std::string::npos) << p;
  }
}

TEST(RegexCost, ExpansionBounded) {
  EXPECT_FALSE(check_regex_cost("(a{200}){200}").ok());
  EXPECT_FALSE(check_regex_cost("a{30000}").ok());
  EXPECT_FALSE(check_regex_cost("((((((((((((((((a*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*").ok());
  std::string deep(100, '(');
  deep += "a" + std::string(100, ')');
  EXPECT_FALSE(check_regex_cost(deep).ok());
  // Side by side, not nested: the costs add up.
  EXPECT_TRUE(check_regex_cost("a{1000}b{1000}c{1000}").ok());
}

TEST(RegexCost, EveryConfigRegexIsChecked) {
  ParseOptions o;
  o.resolve_identities = false;
  const std::string base = "Listen 80\nDocumentRoot /srv/main\n";
  for (const char* line : {"<FilesMatch \"c+++++\">\n</FilesMatch>\n", "<LocationMatch \"(a{200}){200}\">\n</LocationMatch>\n",
                           "<DirectoryMatch \"x*?\">\n</DirectoryMatch>\n",
                           "ProxyPassMatch \"^/(.*?)$\" fcgi://127.0.0.1:9000/srv/$1\n",
                           "Header edit X \"a+++\" b\n"}) {
    auto c = parse_config_text(base + line, "t.conf", o);
    ASSERT_FALSE(c.ok()) << line;
    EXPECT_NE(c.error().message.find("t.conf:3:"), std::string::npos) << c.error().message;
  }
}

}  // namespace
}  // namespace itkd
