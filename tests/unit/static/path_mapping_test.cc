#include "worker/static/path_mapping.h"

#include <gtest/gtest.h>

#include "worker/static/static_handler.h"

namespace itkd {
namespace {

TEST(PercentDecode, DecodesTable) {
  const std::pair<std::string, std::string> cases[] = {
      {"/", "/"},
      {"/a%20b", "/a b"},
      {"/%41%42c", "/ABc"},
      {"/%c3%A9t%C3%a9", "/\xc3\xa9t\xc3\xa9"},
      {"/a+b", "/a+b"},
      {"/%25", "/%"},
      {"/%2e%2E/", "/../"},
  };
  for (const auto& [raw, want] : cases) {
    std::string out;
    EXPECT_TRUE(percent_decode_path(raw, out)) << raw;
    EXPECT_EQ(out, want) << raw;
  }
}

TEST(PercentDecode, RefusesNul) {
  std::string out;
  EXPECT_FALSE(percent_decode_path("/a%00b", out));
  EXPECT_EQ(percent_decode_path_checked("/a%00b", out), DecodeStatus::Nul);
  EXPECT_EQ(percent_decode_path_checked(std::string_view("/a\0b", 4), out), DecodeStatus::Nul);
}

TEST(PercentDecode, RefusesEncodedSlash) {
  std::string out;
  EXPECT_FALSE(percent_decode_path("/a%2Fb", out));
  EXPECT_EQ(percent_decode_path_checked("/a%2fb", out), DecodeStatus::EncodedSlash);
}

TEST(PercentDecode, RefusesBadEscapes) {
  for (const char* raw : {"/%", "/%4", "/%zz", "/%g0", "/a%2", "/%%41"}) {
    std::string out;
    EXPECT_EQ(percent_decode_path_checked(raw, out), DecodeStatus::Invalid) << raw;
  }
}

TEST(DotSegments, NormalizesTable) {
  const std::pair<std::string, std::string> cases[] = {
      {"/", "/"},
      {"/a/b", "/a/b"},
      {"/a/b/", "/a/b/"},
      {"/a/./b", "/a/b"},
      {"/a/b/..", "/a/"},
      {"/a/b/../", "/a/"},
      {"/a/b/../c", "/a/c"},
      {"//a//b", "/a/b"},
      {"/a/.", "/a/"},
      {"/./", "/"},
      {"/a/b/../../c", "/c"},
      {"/a/..", "/"},
      {"/.hidden", "/.hidden"},
      {"/a/...", "/a/..."},
      {"/a/..b/c", "/a/..b/c"},
  };
  for (const auto& [in, want] : cases) {
    std::string out;
    EXPECT_TRUE(remove_dot_segments(in, out)) << in;
    EXPECT_EQ(out, want) << in;
  }
}

TEST(DotSegments, ClimbingAboveRootFails) {
  for (const char* in : {"/..", "/../", "/a/../../b", "/../a", "/a/b/../../../", "//../x"}) {
    std::string out;
    EXPECT_FALSE(remove_dot_segments(in, out)) << in;
  }
}

TEST(DotSegments, RequiresLeadingSlash) {
  std::string out;
  EXPECT_FALSE(remove_dot_segments("", out));
  EXPECT_FALSE(remove_dot_segments("a/b", out));
  EXPECT_FALSE(remove_dot_segments("*", out));
}

TEST(DotSegments, DecodedDotDotClimbIsRefused) {
  std::string decoded;
  std::string out;
  ASSERT_TRUE(percent_decode_path("/%2e%2e/etc/passwd", decoded));
  EXPECT_FALSE(remove_dot_segments(decoded, out));
}

TEST(UrlPrefixMatch, SegmentBoundaries) {
  EXPECT_EQ(url_prefix_match("/icons/a.png", "/icons/"), 7u);
  EXPECT_EQ(url_prefix_match("/icons", "/icons/"), 0u);
  EXPECT_EQ(url_prefix_match("/icons", "/icons"), 6u);
  EXPECT_EQ(url_prefix_match("/icons/x", "/icons"), 6u);
  EXPECT_EQ(url_prefix_match("/iconsfoo", "/icons"), 0u);
  EXPECT_EQ(url_prefix_match("/anything", "/"), 1u);
  EXPECT_EQ(url_prefix_match("/other", "/icons"), 0u);
}

TEST(EscapeUrlPath, EscapesUnsafeBytes) {
  EXPECT_EQ(escape_url_path("/a b/<x>\"?#%"), "/a%20b/%3Cx%3E%22%3F%23%25");
  EXPECT_EQ(escape_url_path("/ok-._~!$&'()*+,;=:@"), "/ok-._~!$&'()*+,;=:@");
  EXPECT_EQ(escape_url_path("/\r\n\xc3\xa9"), "/%0D%0A%C3%A9");
}

TEST(MapUrl, DocumentRootAndAliasOrder) {
  VirtualHost v;
  v.server_name = "example.com";
  v.document_root = "/srv/www";
  v.aliases.push_back({"/static/", "/srv/assets/", false, {}});
  v.aliases.push_back({"/static/img", "/srv/never", false, {}});
  UrlMapping m = map_url(v, "/static/img/a.png", {}, false, "http", "example.com");
  EXPECT_EQ(m.base, "/srv/assets");
  EXPECT_EQ(m.relative, "img/a.png");
  m = map_url(v, "/x/y", {}, false, "http", "example.com");
  EXPECT_EQ(m.base, "/srv/www");
  EXPECT_EQ(m.relative, "x/y");
}

}  // namespace
}  // namespace itkd
