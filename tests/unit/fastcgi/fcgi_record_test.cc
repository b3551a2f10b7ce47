#include "worker/fastcgi/fcgi_record.h"

#include <gtest/gtest.h>

namespace itkd::fcgi {
namespace {

std::vector<Record> decode_all(const std::string& bytes, size_t piece = 0) {
  RecordDecoder d;
  std::vector<Record> out;
  auto drain = [&] {
    Record r;
    while (d.next(r) == RecordDecoder::Status::Record) out.push_back(r);
  };
  if (piece == 0) {
    d.append(bytes);
    drain();
  } else {
    for (size_t i = 0; i < bytes.size(); i += piece) {
      d.append(std::string_view(bytes).substr(i, piece));
      drain();
    }
  }
  EXPECT_EQ(d.buffered(), 0u);
  return out;
}

TEST(FcgiRecord, HeaderRoundTrip) {
  RecordHeader h{1, kStdout, 0x1234, 0xfedc, 4};
  unsigned char b[8];
  encode_header(h, b);
  EXPECT_EQ(b[2], 0x12);
  EXPECT_EQ(b[5], 0xdc);
  RecordHeader back = decode_header(b);
  EXPECT_EQ(back.type, kStdout);
  EXPECT_EQ(back.request_id, 0x1234);
  EXPECT_EQ(back.content_length, 0xfedc);
  EXPECT_EQ(back.padding_length, 4);
}

TEST(FcgiRecord, RecordsArePaddedToEight) {
  std::string out;
  append_record(out, kStdout, 1, "hello");
  EXPECT_EQ(out.size(), 16u);
  EXPECT_EQ(out[6], 3);  // padding
  auto recs = decode_all(out);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].content, "hello");
}

TEST(FcgiRecord, BeginAndEndRequest) {
  std::string out;
  append_begin_request(out, 1, kRoleResponder, true);
  append_end_request(out, 1, 0x01020304, kOverloaded);
  auto recs = decode_all(out, 3);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].type, kBeginRequest);
  EXPECT_EQ(recs[0].content, std::string("\0\1\1\0\0\0\0\0", 8));
  auto end = decode_end_request(recs[1].content);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end->app_status, 0x01020304u);
  EXPECT_EQ(end->protocol_status, kOverloaded);
  EXPECT_EQ(protocol_status_text(kOverloaded), "overloaded");
  EXPECT_FALSE(decode_end_request("short").ok());
}

TEST(FcgiRecord, StreamsSplitAndEnd) {
  std::string big(200000, 'z');
  std::string out;
  append_stream(out, kStdin, 7, big);
  append_stream(out, kStdin, 7, {});
  auto recs = decode_all(out, 4096);
  ASSERT_EQ(recs.size(), 5u);  // 4 data records + the empty end
  std::string joined;
  for (const auto& r : recs) {
    EXPECT_EQ(r.type, kStdin);
    EXPECT_EQ(r.request_id, 7);
    EXPECT_LE(r.content.size(), kMaxContentLength);
    joined += r.content;
  }
  EXPECT_EQ(joined, big);
  EXPECT_TRUE(recs.back().content.empty());
}

TEST(FcgiRecord, NameValueRoundTrip) {
  NameValues pairs{{"SCRIPT_FILENAME", "/srv/a/index.php"},
                   {"EMPTY", ""},
                   {std::string(127, 'n'), std::string(128, 'v')},
                   {std::string(300, 'N'), std::string(70000, 'V')}};
  std::string enc = encode_name_values(pairs);
  // 127 takes one length byte, 128 four (with the high bit).
  size_t third = 2 + 15 + 16 + 2 + 5;
  EXPECT_EQ(static_cast<unsigned char>(enc[third]), 127);
  EXPECT_EQ(static_cast<unsigned char>(enc[third + 1]), 0x80);
  auto back = decode_name_values(enc);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, pairs);
}

TEST(FcgiRecord, MalformedNameValues) {
  EXPECT_FALSE(decode_name_values(std::string("\x05", 1)).ok());                 // no value length
  EXPECT_FALSE(decode_name_values(std::string("\x05\x01" "ab", 4)).ok());        // short data
  EXPECT_FALSE(decode_name_values(std::string("\x80\x00", 2)).ok());             // truncated 4-byte length
  EXPECT_FALSE(decode_name_values(std::string("\xff\xff\xff\xff\x00", 5)).ok()); // huge length
  std::string many;
  for (int i = 0; i < 20; ++i) append_name_value(many, "a", "b");
  EXPECT_FALSE(decode_name_values(many, 10).ok());
  EXPECT_TRUE(decode_name_values("").ok());
}

TEST(FcgiRecord, DecoderRejectsBadVersionAndWaitsForPadding) {
  RecordDecoder d;
  d.append(std::string("\2\6\0\1\0\0\0\0", 8));
  Record r;
  EXPECT_EQ(d.next(r), RecordDecoder::Status::Error);
  EXPECT_NE(d.error().find("version 2"), std::string::npos);
  EXPECT_EQ(d.next(r), RecordDecoder::Status::Error);

  RecordDecoder p;
  p.append(std::string("\1\6\0\1\0\2\6\0ab", 10));  // 2 bytes content + 6 padding, padding missing
  EXPECT_EQ(p.next(r), RecordDecoder::Status::NeedMore);
  p.append(std::string(6, '\0'));
  EXPECT_EQ(p.next(r), RecordDecoder::Status::Record);
  EXPECT_EQ(r.content, "ab");
  EXPECT_EQ(p.next(r), RecordDecoder::Status::NeedMore);
}

}  // namespace
}  // namespace itkd::fcgi
