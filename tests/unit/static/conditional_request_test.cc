#include "worker/static/conditional_request.h"

#include <gtest/gtest.h>

#include "http/response_head.h"

namespace itkd {
namespace {

struct Head {
  std::vector<std::pair<std::string, std::string>> fields;
  http::Method method = http::Method::Get;
  http::RequestHead build() const {
    http::RequestHead h;
    h.method = method;
    for (const auto& [n, v] : fields) h.fields.push_back({n, v});
    return h;
  }
};

constexpr time_t kMtime = 1700000000;
constexpr time_t kNow = 1800000000;
const std::string kTag = "\"400-5f0\"";

TEST(ETag, ApacheDefaultFormat) {
  struct stat st {};
  st.st_size = 1024;
  st.st_mtim.tv_sec = 1;
  st.st_mtim.tv_nsec = 500000000;
  EXPECT_EQ(make_etag(st), "\"400-16e360\"");  // 1.5 s = 1500000 us
  struct stat empty {};
  EXPECT_EQ(make_etag(empty), "\"0-0\"");
  empty.st_size = 0x7fffffffffffffff;
  empty.st_mtim.tv_sec = 1800000000;
  EXPECT_EQ(make_etag(empty), "\"7fffffffffffffff-6651728988000\"");
}

TEST(ETag, FileETagParts) {
  struct stat st {};
  st.st_ino = 0xabc;
  st.st_size = 1024;
  st.st_mtim.tv_sec = 1;
  EXPECT_EQ(make_etag(st, kETagINode | kETagMTime | kETagSize), "\"abc-400-f4240\"");
  EXPECT_EQ(make_etag(st, kETagMTime), "\"f4240\"");
  EXPECT_EQ(make_etag(st, kETagSize), "\"400\"");
  EXPECT_EQ(make_etag(st, 0), "");  // FileETag None
}

TEST(ETagList, WeakAndStrongComparison) {
  EXPECT_TRUE(etag_list_matches("*", kTag, false));
  EXPECT_TRUE(etag_list_matches("\"x\", \"400-5f0\"", kTag, false));
  EXPECT_TRUE(etag_list_matches("W/\"400-5f0\"", kTag, true));
  EXPECT_FALSE(etag_list_matches("W/\"400-5f0\"", kTag, false));
  EXPECT_FALSE(etag_list_matches("\"400-5f1\"", kTag, true));
  EXPECT_FALSE(etag_list_matches("", kTag, true));
}

TEST(Preconditions, OrderOfRfc9110) {
  std::string date = http::http_date(kMtime);
  std::string older = http::http_date(kMtime - 10);
  auto eval = [&](Head h) { return evaluate_preconditions(h.build(), kTag, kMtime, kNow); };
  EXPECT_EQ(eval({{{"If-Match", "\"nope\""}}}), Precondition::Failed);
  EXPECT_EQ(eval({{{"If-Match", kTag}}}), Precondition::Proceed);
  EXPECT_EQ(eval({{{"If-Unmodified-Since", older}}}), Precondition::Failed);
  EXPECT_EQ(eval({{{"If-Unmodified-Since", date}}}), Precondition::Proceed);
  EXPECT_EQ(eval({{{"If-Unmodified-Since", "garbage"}}}), Precondition::Proceed);
  EXPECT_EQ(eval({{{"If-None-Match", kTag}}}), Precondition::NotModified);
  EXPECT_EQ(eval({{{"If-Modified-Since", date}}}), Precondition::NotModified);
  EXPECT_EQ(eval({{{"If-Modified-Since", older}}}), Precondition::Proceed);
  // If-None-Match present: If-Modified-Since is not looked at.
  EXPECT_EQ(eval({{{"If-None-Match", "\"other\""}, {"If-Modified-Since", date}}}),
            Precondition::Proceed);
  // A date in the future is ignored.
  EXPECT_EQ(eval({{{"If-Modified-Since", http::http_date(kNow + 100)}}}), Precondition::Proceed);
  Head post{{{"If-None-Match", kTag}}, http::Method::Post};
  EXPECT_EQ(eval(post), Precondition::Failed);
}

TEST(RangeParse, Table) {
  struct Case {
    const char* range;
    RangeDecision::Kind kind;
    uint64_t first;
    uint64_t length;
  };
  using K = RangeDecision::Kind;
  const Case cases[] = {
      {"bytes=0-3", K::Partial, 0, 4},     {"bytes=2-", K::Partial, 2, 8},
      {"bytes=-3", K::Partial, 7, 3},      {"bytes=5-100", K::Partial, 5, 5},
      {"bytes=0-0", K::Partial, 0, 1},     {"bytes=-100", K::Partial, 0, 10},
      {"Bytes = 1-1", K::Partial, 1, 1},   {"bytes=10-", K::Unsatisfiable, 0, 0},
      {"bytes=-0", K::Unsatisfiable, 0, 0}, {"bytes=0-1,3-4", K::Full, 0, 0},
      {"bytes=a-b", K::Full, 0, 0},        {"bytes=5-2", K::Full, 0, 0},
      {"items=0-1", K::Full, 0, 0},        {"bytes=", K::Full, 0, 0},
      {"bytes=-", K::Full, 0, 0},          {"bytes=99999999999999999999-", K::Full, 0, 0},
      {"bytes=+1-2", K::Full, 0, 0},
  };
  for (const Case& c : cases) {
    Head h{{{"Range", c.range}}};
    RangeDecision d = evaluate_range(h.build(), 10, kTag, kMtime);
    EXPECT_EQ(d.kind, c.kind) << c.range;
    if (c.kind == K::Partial) {
      EXPECT_EQ(d.first, c.first) << c.range;
      EXPECT_EQ(d.length, c.length) << c.range;
    }
  }
}

TEST(RangeParse, EmptyRepresentationIsUnsatisfiable) {
  Head h{{{"Range", "bytes=-5"}}};
  EXPECT_EQ(evaluate_range(h.build(), 0, kTag, kMtime).kind, RangeDecision::Kind::Unsatisfiable);
}

TEST(RangeParse, IfRange) {
  using K = RangeDecision::Kind;
  auto kind = [&](std::string if_range) {
    Head h{{{"Range", "bytes=0-1"}, {"If-Range", if_range}}};
    return evaluate_range(h.build(), 10, kTag, kMtime).kind;
  };
  EXPECT_EQ(kind(kTag), K::Partial);
  EXPECT_EQ(kind("\"other\""), K::Full);
  EXPECT_EQ(kind("W/" + kTag), K::Full);
  EXPECT_EQ(kind(http::http_date(kMtime)), K::Partial);
  EXPECT_EQ(kind(http::http_date(kMtime + 1)), K::Full);
  EXPECT_EQ(kind("not a date"), K::Full);
}

TEST(RangeParse, OnlyForGet) {
  Head h{{{"Range", "bytes=0-1"}}, http::Method::Head};
  EXPECT_EQ(evaluate_range(h.build(), 10, kTag, kMtime).kind, RangeDecision::Kind::Full);
}

}  // namespace
}  // namespace itkd
