// The shortcut must say what regexec says, whenever it says anything: checked on the
// patterns rewrite rule sets use, over subjects around their literals.
#include "config/regex_shortcut.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/pcre_compat.h"

namespace itkd {
namespace {

TEST(RegexShortcut, AgreesWithRegexec) {
  const std::vector<std::string> patterns = {
      "^index\\.php$", ".", "^", ".*", "^.*$", "^/wp-config\\.php", "^/post/(\\d+)/?$", "^/feed/?$",
      "^/old/(.*)$", "^/retired/", "^www\\.(.+)$", "^/a{2}b", "^/x*", "^/cat|^/dog", "^\\.ht", "^/a\\b",
      "^/Admin$", "\\.(sql|bak)$", "^$", "^/b+c", "^/tmp/[a-z]+$"};
  const std::vector<std::string> subjects = {
      "", "index.php", "index.phpx", "xindex.php", "INDEX.PHP", "/wp-config.php", "/wp-config.php.bak",
      "/post/12", "/post/12/", "/post/", "/posts/1", "/feed", "/feed/", "/fee", "/old/a/b", "/retired/x",
      "/retired", "www.example.com", "WWW.example.com", "www.", "/aab", "/ab", "/aaab", "/x", "/", "/cat",
      "/dog", ".htaccess", "/a", "/a b", "/admin", "/Admin", "dump.sql", "/bbc", "/c", "/tmp/abc", "/tmp/"};
  int decided = 0;
  for (bool nocase : {false, true}) {
    for (const std::string& p : patterns) {
      auto ere = pcre_to_ere(p);
      ASSERT_TRUE(ere.ok()) << p;
      regex_t re;
      ASSERT_EQ(regcomp(&re, ere->c_str(), REG_EXTENDED | (nocase ? REG_ICASE : 0)), 0) << p;
      RegexShortcut s = RegexShortcut::of(*ere, nocase);
      for (const std::string& subject : subjects) {
        regmatch_t want[10], got[10];
        bool matched = regexec(&re, subject.c_str(), 10, want, 0) == 0;
        for (regmatch_t& g : got) g.rm_so = g.rm_eo = -1;
        RegexShortcut::Verdict v = s.check(subject, got);
        if (v == RegexShortcut::Verdict::Unknown) continue;
        ++decided;
        EXPECT_EQ(v == RegexShortcut::Verdict::Match, matched) << p << " on '" << subject << "' nocase " << nocase;
        if (matched && v == RegexShortcut::Verdict::Match) {
          EXPECT_EQ(got[0].rm_so, want[0].rm_so) << p << " on '" << subject << "'";
          EXPECT_EQ(got[0].rm_eo, want[0].rm_eo) << p << " on '" << subject << "'";
          EXPECT_EQ(want[1].rm_so, -1) << p << ": a decided match has no groups to fill";
        }
      }
      regfree(&re);
    }
  }
  EXPECT_GT(decided, 500);  // most of these are decided without regexec
}

TEST(RegexShortcut, LeavesWhatItCannotDecideToRegexec) {
  regmatch_t m[10];
  EXPECT_EQ(RegexShortcut::of("\\.(sql|bak)$", false).check("a.sql", m), RegexShortcut::Verdict::Unknown);
  EXPECT_EQ(RegexShortcut::of("^/cat|^/dog", false).check("/dog", m), RegexShortcut::Verdict::Unknown);
  EXPECT_EQ(RegexShortcut::of("^/post/([0-9]+)$", false).check("/post/1", m), RegexShortcut::Verdict::Unknown);
  EXPECT_EQ(RegexShortcut::of("^/post/([0-9]+)$", false).check("/page/1", m), RegexShortcut::Verdict::NoMatch);
}

}  // namespace
}  // namespace itkd
