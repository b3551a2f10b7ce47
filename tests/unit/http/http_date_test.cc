// HTTP dates: the preferred format both ways and the two obsolete ones when reading.
#include <gtest/gtest.h>

#include "http/response_head.h"

namespace itkd::http {
namespace {

constexpr time_t kRfcExample = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(http_date(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(http_date(253402300799), "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(http_date(253402300800), "Sat, 01 Jan 10000 00:00:00 GMT");  // past the fast path
}

TEST(HttpDate, ParsesAllThreeFormats) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sun Nov 16 08:49:37 1994"), kRfcExample + 10 * 86400);
}

TEST(HttpDate, RoundTrip) {
  for (time_t t : {time_t{0}, kRfcExample, time_t{951782400} /* 29 Feb 2000 */,
                   time_t{1700000000}, time_t{4102444799} /* 31 Dec 2099 */}) {
    EXPECT_EQ(parse_http_date(http_date(t)), t) << http_date(t);
  }
}

TEST(HttpDate, RejectsMalformed) {
  const char* bad[] = {"",
                       "Sun, 06 Nov 1994 08:49:37 UTC",
                       "Sun, 6 Nov 1994 08:49:37 GMT",
                       "Sun, 06 nov 1994 08:49:37 GMT",
                       "Sun, 06 Nov 1994 08:49:37 GMT ",
                       "Sun, 06 Nov 1994 24:00:00 GMT",
                       "Sun, 06 Nov 1994 08:60:00 GMT",
                       "Sun, 32 Nov 1994 08:49:37 GMT",
                       "Sun, 31 Nov 1994 08:49:37 GMT",
                       "Sun, 29 Feb 1995 08:49:37 GMT",
                       "Xyz, 06 Nov 1994 08:49:37 GMT",
                       "Sunday, 06-Nov-1994 08:49:37 GMT",
                       "Sun Nov 6 08:49:37 1994",
                       "1994-11-06T08:49:37Z"};
  for (const char* text : bad) EXPECT_EQ(parse_http_date(text), -1) << text;
}

TEST(HttpDate, NowIsWellFormedAndCurrent) {
  const std::string_view now = http_date_now();
  ASSERT_EQ(now.size(), 29u);
  const time_t parsed = parse_http_date(now);
  EXPECT_LE(std::abs(parsed - std::time(nullptr)), 2);
}

}  // namespace
}  // namespace itkd::http
