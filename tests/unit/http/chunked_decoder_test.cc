// ChunkedDecoder: whole and byte-at-a-time input, extensions, trailers, and every way a
// chunked body can be malformed.
#include <gtest/gtest.h>

#include <string>

#include "http/request_head.h"

namespace itkd::http {
namespace {

struct Decoded {
  bool done = false;
  bool error = false;
  size_t consumed = 0;
  std::string body;
  std::string reason;
};

Decoded decode_whole(std::string_view input) {
  ChunkedDecoder decoder;
  Decoded d;
  const ChunkedDecoder::Step step = decoder.feed(input, d.body);
  d.done = step.done;
  d.error = step.error;
  d.consumed = step.consumed;
  d.reason = step.reason;
  return d;
}

Decoded decode_bytewise(std::string_view input) {
  ChunkedDecoder decoder;
  Decoded d;
  for (size_t i = 0; i < input.size() && !d.done && !d.error; ++i) {
    const ChunkedDecoder::Step step = decoder.feed(input.substr(i, 1), d.body);
    d.done = step.done;
    d.error = step.error;
    d.consumed += step.consumed;
    d.reason = step.reason;
  }
  return d;
}

TEST(ChunkedDecoder, DecodesSimpleBody) {
  const std::string input = "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
  const Decoded d = decode_whole(input);
  EXPECT_TRUE(d.done);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.body, "hello, world");
  EXPECT_EQ(d.consumed, input.size());
}

TEST(ChunkedDecoder, OneByteAtATimeGivesTheSameResult) {
  const std::string input =
      "1a;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\nA \t;x\r\n0123456789\r\n0;last\r\n"
      "Checksum: abc\r\nX-T:\r\n\r\n";
  const Decoded whole = decode_whole(input);
  const Decoded bytewise = decode_bytewise(input);
  ASSERT_TRUE(whole.done) << whole.reason;
  ASSERT_TRUE(bytewise.done) << bytewise.reason;
  EXPECT_EQ(whole.body, "abcdefghijklmnopqrstuvwxyz0123456789");
  EXPECT_EQ(bytewise.body, whole.body);
  EXPECT_EQ(bytewise.consumed, input.size());
}

TEST(ChunkedDecoder, StopsAtTheEndOfTheBody) {
  const std::string body = "3\r\nabc\r\n0\r\n\r\n";
  ChunkedDecoder decoder;
  std::string out;
  const ChunkedDecoder::Step step = decoder.feed(body + "GET / HTTP/1.1\r\n", out);
  EXPECT_TRUE(step.done);
  EXPECT_EQ(step.consumed, body.size());
  EXPECT_EQ(decoder.total_size(), 3u);
}

TEST(ChunkedDecoder, UppercaseHexAndLeadingZeros) {
  const Decoded d = decode_whole("000A\r\n0123456789\r\n00\r\n\r\n");
  EXPECT_TRUE(d.done) << d.reason;
  EXPECT_EQ(d.body.size(), 10u);
}

TEST(ChunkedDecoder, IncompleteIsNeitherDoneNorError) {
  ChunkedDecoder decoder;
  std::string out;
  ChunkedDecoder::Step step = decoder.feed("5\r\nhel", out);
  EXPECT_FALSE(step.done);
  EXPECT_FALSE(step.error);
  EXPECT_EQ(step.consumed, 6u);
  step = decoder.feed("lo\r\n0\r\n\r\n", out);
  EXPECT_TRUE(step.done);
  EXPECT_EQ(out, "hello");
}

TEST(ChunkedDecoder, SixteenDigitSizeIsAccepted) {
  ChunkedDecoder decoder;
  std::string out;
  const ChunkedDecoder::Step step = decoder.feed("000000000000000F\r\nabc", out);
  EXPECT_FALSE(step.error) << step.reason;
  EXPECT_EQ(out, "abc");
}

TEST(ChunkedDecoder, ErrorIsSticky) {
  ChunkedDecoder decoder;
  std::string out;
  EXPECT_TRUE(decoder.feed("x", out).error);
  EXPECT_TRUE(decoder.feed("5\r\nhello\r\n", out).error);
}

struct BadChunked {
  const char* name;
  std::string input;
};

void PrintTo(const BadChunked& c, std::ostream* os) { *os << c.name; }

class RejectedChunked : public ::testing::TestWithParam<BadChunked> {};

TEST_P(RejectedChunked, WholeAndBytewise) {
  const Decoded whole = decode_whole(GetParam().input);
  EXPECT_TRUE(whole.error) << GetParam().input;
  EXPECT_FALSE(whole.done);
  EXPECT_FALSE(whole.reason.empty());
  EXPECT_TRUE(decode_bytewise(GetParam().input).error);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RejectedChunked,
    ::testing::Values(
        BadChunked{"NoSize", "\r\nabc\r\n0\r\n\r\n"},
        BadChunked{"NonHexSize", "g\r\nabc\r\n0\r\n\r\n"},
        BadChunked{"SignedSize", "+3\r\nabc\r\n0\r\n\r\n"},
        BadChunked{"HexPrefix", "0x3\r\nabc\r\n0\r\n\r\n"},
        BadChunked{"SeventeenDigits", "00000000000000003\r\nabc\r\n0\r\n\r\n"},
        BadChunked{"Overflow", "10000000000000000\r\n"},
        BadChunked{"BareLfAfterSize", "3\nabc\r\n0\r\n\r\n"},
        BadChunked{"BareCrAfterSize", "3\rabc\r\n0\r\n\r\n"},
        BadChunked{"DataTooLong", "3\r\nabcd\r\n0\r\n\r\n"},
        BadChunked{"MissingCrlfAfterData", "3\r\nabc0\r\n\r\n"},
        BadChunked{"BareLfAfterData", "3\r\nabc\n0\r\n\r\n"},
        BadChunked{"SpaceWithoutExtension", "3 \r\nabc\r\n0\r\n\r\n"},
        BadChunked{"GarbageAfterSize", "3x\r\nabc\r\n0\r\n\r\n"},
        BadChunked{"CtlInExtension", "3;a=\x01\r\nabc\r\n0\r\n\r\n"},
        BadChunked{"BareLfInExtension", "3;a\nabc\r\n0\r\n\r\n"},
        BadChunked{"ExtensionTooLong", "3;" + std::string(5000, 'x') + "\r\nabc\r\n0\r\n\r\n"},
        BadChunked{"BareLfAtEnd", "0\r\n\n"},
        BadChunked{"BareCrAtEnd", "0\r\n\rX"},
        BadChunked{"TrailerWithoutColon", "0\r\nX-T\r\n\r\n"},
        BadChunked{"TrailerObsFold", "0\r\nX-T: a\r\n b\r\n\r\n"},
        BadChunked{"TrailerBareLf", "0\r\nX-T: a\n\r\n"},
        BadChunked{"TrailerCtl", "0\r\nX-T: a\x01\r\n\r\n"},
        BadChunked{"TrailerBadName", "0\r\nX T: a\r\n\r\n"},
        BadChunked{"TrailerTooLong", "0\r\nX: " + std::string(9000, 'v') + "\r\n\r\n"},
        BadChunked{"TrailerSectionTooLarge", "0\r\n" + [] {
                     std::string s;
                     for (int i = 0; i < 10; ++i) s += "X: " + std::string(4000, 'v') + "\r\n";
                     return s;
                   }() + "\r\n"}),
    [](const ::testing::TestParamInfo<BadChunked>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace itkd::http
