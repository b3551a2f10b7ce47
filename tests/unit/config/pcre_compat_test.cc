// PCRE patterns from Apache configs are rewritten to POSIX ERE with the same meaning, or
// refused with a message naming the construct, its offset and what to write instead.
#include "config/pcre_compat.h"

#include <gtest/gtest.h>
#include <regex.h>

#include <string>
#include <string_view>

#include "parse_support.h"

namespace itkd {
namespace {

std::string ere(std::string_view pcre) {
  auto r = pcre_to_ere(pcre);
  EXPECT_TRUE(r.ok()) << pcre << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : "<refused>";
}

std::string refusal(std::string_view pcre) {
  auto r = pcre_to_ere(pcre);
  EXPECT_FALSE(r.ok()) << pcre << " became " << (r.ok() ? *r : "");
  return r.ok() ? "" : r.error().message;
}

// A PCRE pattern translated and compiled the way itkd compiles config patterns.
class Compiled {
 public:
  explicit Compiled(std::string_view pcre) {
    auto r = pcre_to_ere(pcre);
    EXPECT_TRUE(r.ok()) << pcre << ": " << (r.ok() ? "" : r.error().message);
    if (!r) return;
    compiled_ = regcomp(&re_, r->c_str(), REG_EXTENDED) == 0;
    EXPECT_TRUE(compiled_) << pcre << " -> " << *r << " does not compile";
  }
  ~Compiled() {
    if (compiled_) regfree(&re_);
  }
  Compiled(const Compiled&) = delete;
  Compiled& operator=(const Compiled&) = delete;

  // Whether s matches; group1 gets $1 ("" when unset).
  bool matches(const std::string& s, std::string* group1 = nullptr) const {
    regmatch_t m[2];
    if (!compiled_ || regexec(&re_, s.c_str(), 2, m, 0) != 0) return false;
    if (group1) *group1 = m[1].rm_so < 0 ? "" : s.substr(size_t(m[1].rm_so), size_t(m[1].rm_eo - m[1].rm_so));
    return true;
  }

 private:
  regex_t re_{};
  bool compiled_ = false;
};

TEST(PcreCompat, NothingToTranslateComesBackByteIdentical) {
  for (const char* p : {"", "^(.*)$", "^/?$", "\\.(jpe?g|png|gif)$", "[^/]+", "^index\\.php$", "^www\\.(.+)$",
                        "a{2,5}b{3}c{1,}", "[[:alpha:]]+[]a-]*", "[^]x]+", "[-a]", "^/wp-(admin|includes)/", "a|b",
                        "x}", "\\bword\\B", "[a[b]", "\\$\\^\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\\\\\."}) {
    EXPECT_EQ(ere(p), p);
  }
}

TEST(PcreCompat, ClassEscapesOutsideBrackets) {
  EXPECT_EQ(ere("\\d"), "[0-9]");
  EXPECT_EQ(ere("\\D"), "[^0-9]");
  EXPECT_EQ(ere("\\w"), "[A-Za-z0-9_]");
  EXPECT_EQ(ere("\\W"), "[^A-Za-z0-9_]");
  EXPECT_EQ(ere("\\s"), "[[:space:]]");
  EXPECT_EQ(ere("\\S"), "[^[:space:]]");
  EXPECT_EQ(ere("^post/(\\d+)/?$"), "^post/([0-9]+)/?$");
}

TEST(PcreCompat, ControlEscapesBecomeTheCharacters) {
  EXPECT_EQ(ere("a\\tb"), "a[\t]b");
  EXPECT_EQ(ere("\\n"), "[\n]");
  EXPECT_EQ(ere("\\r"), "[\r]");
  EXPECT_EQ(ere("\\f"), "[\f]");
}

TEST(PcreCompat, EscapedPunctuation) {
  // Special in ERE: stays escaped.
  for (const char* p :
       {"\\.", "\\[", "\\]", "\\{", "\\}", "\\(", "\\)", "\\*", "\\+", "\\?", "\\|", "\\^", "\\$", "\\\\"}) {
    EXPECT_EQ(ere(p), p);
  }
  // Not special in ERE: the plain character, as glibc gives "\<", "\>", "\`", "\'" meanings.
  EXPECT_EQ(ere("\\/"), "/");
  EXPECT_EQ(ere("\\-"), "-");
  EXPECT_EQ(ere("\\#\\&\\~\\%\\=\\:\\!\\,\\'\\\"\\`\\@\\ "), "#&~%=:!,'\"`@ ");
  EXPECT_EQ(ere("\\<a\\>"), "<a>");
}

TEST(PcreCompat, WordBoundariesKept) {
  EXPECT_EQ(ere("\\bfoo\\B"), "\\bfoo\\B");
}

TEST(PcreCompat, BraceThatStartsNoRepetitionIsLiteral) {
  EXPECT_EQ(ere("a{"), "a\\{");
  EXPECT_EQ(ere("{foo}"), "\\{foo}");
  EXPECT_EQ(ere("a{1"), "a\\{1");
  EXPECT_EQ(ere("a{3}"), "a{3}");
  Compiled c("^x{y}$");
  EXPECT_TRUE(c.matches("x{y}"));
}

TEST(PcreCompat, BracketEscapes) {
  EXPECT_EQ(ere("[\\d]"), "[0-9]");
  EXPECT_EQ(ere("[\\w-]"), "[A-Za-z0-9_-]");
  EXPECT_EQ(ere("[\\w.-]+"), "[A-Za-z0-9_.-]+");
  EXPECT_EQ(ere("[\\s,]"), "[[:space:],]");
  EXPECT_EQ(ere("[\\t ]"), "[\t ]");
  EXPECT_EQ(ere("[\\]a]"), "[]a]");
  EXPECT_EQ(ere("[^\\]]"), "[^]]");
  EXPECT_EQ(ere("[a\\-z]"), "[az-]");
  EXPECT_EQ(ere("[\\\\a]"), "[a\\]");
  EXPECT_EQ(ere("[\\.]"), "[.]");
  EXPECT_EQ(ere("[\\^a]"), "[a^]");
  EXPECT_EQ(ere("[^\\^]"), "[^^]");
  EXPECT_EQ(ere("[\\^]"), "\\^");     // "[^]" would negate
  EXPECT_EQ(ere("[\\^\\-]"), "[-^]");
  // A hyphen next to a class is literal (Perl, PCRE1).
  EXPECT_EQ(ere("[\\d-z]"), "[0-9z-]");
  EXPECT_EQ(ere("[\\w-.]"), "[A-Za-z0-9_.-]");
  EXPECT_EQ(ere("[a-\\d]"), "[a0-9-]");
  EXPECT_EQ(ere("[a-[:digit:]]"), "[a[:digit:]-]");
}

TEST(PcreCompat, BracketsReorderedWherePositionChangesMeaning) {
  EXPECT_EQ(ere("[[:word:]]"), "[A-Za-z0-9_]");
  EXPECT_EQ(ere("[a-b-c]"), "[a-bc-]");  // glibc refuses "[a-b-c]"; PCRE's middle '-' is literal
  EXPECT_EQ(ere("[[.]"), "[.[]");        // "[[." would open a collating element in POSIX
}

TEST(PcreCompat, AnchorsWhereTheyCanOnlyMeanStartOrEnd) {
  for (const char* p : {"^a$", "(^|&)id=([0-9]+)", "\\.(php|html)$", "^/(a$|b/.*)$", "(\\.html$)?", "^^a$$",
                        "^a|^b$|c$", "((^a|b)c|^d)"}) {
    EXPECT_EQ(ere(p), p);
  }
  Compiled c("(^|&)id=(\\d+)(&|$)");
  EXPECT_TRUE(c.matches("x=1&id=42"));
  EXPECT_TRUE(c.matches("id=42&y"));
  EXPECT_FALSE(c.matches("xid=42"));
}

TEST(PcreCompat, RealWorldPatternsKeepPcreMeaning) {
  std::string g;
  {
    Compiled c("^post/(\\d+)/?$");
    EXPECT_TRUE(c.matches("post/12/", &g));
    EXPECT_EQ(g, "12");
    EXPECT_TRUE(c.matches("post/7"));
    EXPECT_FALSE(c.matches("post/d/"));
  }
  {
    Compiled c("^([a-z0-9\\-]+)\\.html$");
    EXPECT_TRUE(c.matches("my-page-2.html", &g));
    EXPECT_EQ(g, "my-page-2");
    EXPECT_FALSE(c.matches("my_page.html"));
    EXPECT_FALSE(c.matches("a\\b.html"));
    EXPECT_FALSE(c.matches("pagexhtml"));
  }
  {
    Compiled c("[^/]+");
    EXPECT_TRUE(c.matches("/abc"));
    EXPECT_FALSE(c.matches("//"));
  }
  {
    Compiled c("\\.(jpe?g|png|gif)$");
    for (const char* s : {"a.jpg", "a.jpeg", "b/c.png", "d.gif"}) EXPECT_TRUE(c.matches(s)) << s;
    for (const char* s : {"ajpg", "a.jpgx", "a.bmp"}) EXPECT_FALSE(c.matches(s)) << s;
  }
  {
    Compiled c("^/?$");
    EXPECT_TRUE(c.matches(""));
    EXPECT_TRUE(c.matches("/"));
    EXPECT_FALSE(c.matches("//"));
  }
  {
    Compiled c("^index\\.php$");
    EXPECT_TRUE(c.matches("index.php"));
    EXPECT_FALSE(c.matches("indexxphp"));
  }
  {
    Compiled c("^(.*)$");
    EXPECT_TRUE(c.matches("any/thing?x=1", &g));
    EXPECT_EQ(g, "any/thing?x=1");
  }
  {
    Compiled c("^[\\w-]+$");
    for (const char* s : {"a-b_c9", "w", "-"}) EXPECT_TRUE(c.matches(s)) << s;
    for (const char* s : {"a.b", "\\", "a b", ""}) EXPECT_FALSE(c.matches(s)) << s;
  }
  {
    Compiled c("^www\\.(.+)$");
    EXPECT_TRUE(c.matches("www.example.com", &g));
    EXPECT_EQ(g, "example.com");
    EXPECT_FALSE(c.matches("wwwxexample.com"));
  }
  {
    Compiled c("^[\\]a]+$");
    EXPECT_TRUE(c.matches("]a]"));
    EXPECT_FALSE(c.matches("\\"));
    EXPECT_FALSE(c.matches("b"));
  }
  {
    Compiled c("^[a\\-z]$");
    for (const char* s : {"-", "a", "z"}) EXPECT_TRUE(c.matches(s)) << s;
    for (const char* s : {"b", "\\", "y"}) EXPECT_FALSE(c.matches(s)) << s;
  }
  {
    Compiled c("^/archive/(\\d{4})/\\d{2}/?$");
    EXPECT_TRUE(c.matches("/archive/2024/05/", &g));
    EXPECT_EQ(g, "2024");
    EXPECT_FALSE(c.matches("/archive/dddd/05"));
  }
  {
    Compiled c("^(\\S+)\\s+\\W$");
    EXPECT_TRUE(c.matches("GET \t!", &g));
    EXPECT_EQ(g, "GET");
    EXPECT_FALSE(c.matches("GET x"));
  }
  {
    // PCRE: '[', ':', 'a', 'l', 'p', 'h' in brackets, then a literal ']'.
    Compiled c("^[\\[:alpha:]]$");
    EXPECT_TRUE(c.matches("[]"));
    EXPECT_TRUE(c.matches("h]"));
    EXPECT_FALSE(c.matches("b]"));
    EXPECT_FALSE(c.matches("a"));
  }
  {
    Compiled c("^[\\\\^\\-]+$");
    EXPECT_TRUE(c.matches("\\^-"));
    EXPECT_FALSE(c.matches("a"));
  }
}

TEST(PcreCompat, RefusalsNameTheConstructOffsetAndRemedy) {
  struct Case {
    const char* pattern;
    const char* says;
  };
  for (const Case& c : {
           Case{"(?i)x", "'(?i)' at offset 0 is a PCRE inline flag setting"},
           Case{"(?i)x", "[NC]"},
           Case{"^(?:a|b)", "'(?:' at offset 1 is a PCRE non-capturing group"},
           Case{"^(?:a|b)", "renumber the $N"},
           Case{"a*?", "'*?' at offset 1 is a PCRE lazy quantifier"},
           Case{"a+?", "lazy"},
           Case{"a??", "lazy"},
           Case{"a{2,3}?", "'{2,3}?' at offset 1 is a PCRE lazy quantifier"},
           Case{"a*+", "possessive"},
           Case{"a++", "'++' at offset 1 is a PCRE possessive quantifier"},
           Case{"a++", "write '+' instead"},
           Case{"\\Ax", "'\\A' at offset 0 is PCRE's start-of-subject anchor"},
           Case{"\\Ax", "write '^' instead"},
           Case{"x\\z", "write '$' instead"},
           Case{"x\\Z", "write '$' instead"},
           Case{"(a)\\1", "'\\1' at offset 3 is a PCRE backreference"},
           Case{"\\x41", "'\\x41' at offset 0 is a PCRE hexadecimal character code"},
           Case{"\\x41", "write the character itself: 'A'"},
           Case{"\\x2e", "'\\.'"},
           Case{"\\h", "[[:blank:]]"},
           Case{"\\v", "vertical-space class"},
           Case{"\\K", "match-start reset"},
           Case{"\\p{L}", "Unicode property"},
           Case{"\\Qa.b\\E", "\\Q...\\E"},
           Case{"\\y", "'\\y' at offset 0 is not a PCRE escape"},
           Case{"[\\D]", "'\\D' at offset 1 inside brackets has no POSIX equivalent"},
           Case{"[a\\W]", "inside brackets"},
           Case{"[\\S]", "inside brackets"},
           Case{"[a", "'[' at offset 0 is never closed"},
           Case{"x[^]", "'[' at offset 1 is never closed"},
           Case{"[a\\", "never closed"},
           Case{"[\\x00-\\x1f]", "hexadecimal"},
           Case{"[\\.-z]", "escaped end point"},
           Case{"[\\t-\\r]", "'\\t-\\r' at offset 1 has an escaped end point"},
           Case{"[z-a]", "'z-a' at offset 1 runs backwards"},
           Case{"[!--]", "as an end point"},
           Case{"[[:ascii:]]", "PCRE-only class"},
           Case{"[[:nope:]]", "not a known character class"},
           Case{"[[.a.]]", "'[.' at offset 1 opens a POSIX collating element"},
           Case{"[\\b]", "backspace"},
           Case{"(?=a)", "lookahead"},
           Case{"(?!a)", "negative lookahead"},
           Case{"(?<=a)b", "lookbehind"},
           Case{"(?<!a)b", "negative lookbehind"},
           Case{"(?<n>a)", "named group"},
           Case{"(?P<n>a)", "named group"},
           Case{"(?>a)", "atomic group"},
           Case{"(?#c)a", "comment"},
           Case{"(?1)", "recursion"},
           Case{"(?s:a)", "'(?s:' at offset 0 is a PCRE inline flag setting"},
           Case{"(*UTF)a", "control verb"},
           Case{"x{,3}", "write '{0,3}'"},
           Case{"(a", "'(' at offset 0 is never closed"},
           Case{"a)", "')' at offset 1 has no matching '('"},
           Case{"a\\", "ends the pattern"},
           Case{"*a", "'*' at offset 0 has nothing before it to repeat"},
           Case{"(+a)", "nothing before it to repeat"},
           Case{"a|?b", "nothing before it to repeat"},
           Case{"^*", "nothing before it to repeat"},
           Case{"a{2}{3}", "'{3}' at offset 4 has nothing before it to repeat"},
           Case{"[:alpha:]+", "'[:alpha:]' at offset 0 is POSIX class syntax outside brackets"},
           // glibc matches these anchors at a newline ("\s^" matches "\n"); PCRE never does.
           Case{"\\s^", "'^' at offset 2 is not where the pattern or one of its alternatives starts"},
           Case{"x(a|^b)", "'^' at offset 4"},
           Case{"a$\\s*", "'$' at offset 1 is followed by more pattern"},
           Case{"(a$|b)c", "'$' at offset 2"},
       }) {
    EXPECT_NE(refusal(c.pattern).find(c.says), std::string::npos) << c.pattern << ": " << refusal(c.pattern);
  }
  EXPECT_NE(refusal(std::string_view("a\0b", 3)).find("NUL byte at offset 1"), std::string::npos);
}

}  // namespace
}  // namespace itkd

namespace itkd {
namespace {

// Every config pattern is Apache's PCRE: sections and ProxyPassMatch store the POSIX
// form the workers compile, Header/RedirectMatch compile it; PCRE-only syntax is refused.
TEST(PcrePatternsInConfig, SectionsAndProxyPassMatchStoreThePosixForm) {
  VirtualHost v = test::parse_vhost("<FilesMatch \"^\\d+\\.txt$\">\nRequire all denied\n</FilesMatch>\n"
                                    "<FilesMatch \"\\.(jpe?g|png)$\">\nRequire all granted\n</FilesMatch>\n"
                                    "ProxyPassMatch ^/(\\w+\\.php)$ fcgi://127.0.0.1:9000/srv/a/$1\n");
  ASSERT_EQ(v.files_blocks.size(), 2u);
  EXPECT_EQ(v.files_blocks[0].pattern, "^[0-9]+\\.txt$");
  EXPECT_EQ(v.files_blocks[1].pattern, "\\.(jpe?g|png)$");  // nothing to translate: as written
  ASSERT_EQ(v.proxy_pass_matches.size(), 1u);
  EXPECT_EQ(v.proxy_pass_matches[0].regex, "^/([A-Za-z0-9_]+\\.php)$");
}

TEST(PcrePatternsInConfig, RedirectMatchAndHeaderEditReadPcre) {
  VirtualHost v = test::parse_vhost("RedirectMatch 301 ^/post/(\\d+)$ /p/$1\n"
                                    "Header edit Set-Cookie \"^(\\w+)=\" \"$1=\"\n");
  ASSERT_EQ(v.redirects.size(), 1u);
  EXPECT_EQ(regexec(v.redirects[0].regex.get(), "/post/12", 0, nullptr, 0), 0);
  EXPECT_NE(regexec(v.redirects[0].regex.get(), "/post/d", 0, nullptr, 0), 0);
}

TEST(PcrePatternsInConfig, PcreOnlySyntaxIsRefusedWithFileAndLine) {
  for (const std::string& inside : {std::string("<LocationMatch \"(?i)^/admin\">\nRequire all denied\n</LocationMatch>\n"),
                                    std::string("<FilesMatch \"(?:a|b)\">\nRequire all denied\n</FilesMatch>\n"),
                                    std::string("ProxyPassMatch ^/(.*?\\.php)$ fcgi://127.0.0.1:9000/srv/a/$1\n"),
                                    std::string("RedirectMatch ^/(?=x) /y\n")}) {
    std::string err = test::parse_err(test::kBaseConfig + "<VirtualHost *:80>\nServerName a\nDocumentRoot /srv/a\n" +
                                      inside + "</VirtualHost>\n");
    EXPECT_NE(err.find("t.conf:6:"), std::string::npos) << inside << " -> " << err;
    EXPECT_NE(err.find("PCRE"), std::string::npos) << inside << " -> " << err;
  }
}

}  // namespace
}  // namespace itkd
