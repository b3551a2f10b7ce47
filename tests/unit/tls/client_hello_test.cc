#include "tls/client_hello.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "test_pki.h"

namespace itkd::tls {
namespace {

using testing::capture_client_hello;

std::string u16(size_t v) { return {static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)}; }
std::string u24(size_t v) {
  return {static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}

std::string extension(uint16_t type, const std::string& data) { return u16(type) + u16(data.size()) + data; }

std::string sni_ext(const std::string& name, char type = 0) {
  const std::string entry = std::string(1, type) + u16(name.size()) + name;
  return extension(0, u16(entry.size()) + entry);
}

std::string alpn_ext(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += std::string(1, static_cast<char>(n.size())) + n;
  return extension(16, u16(list.size()) + list);
}

// A ClientHello handshake message (header included) around the given extensions block.
std::string hello_message(const std::string& extensions, bool with_extensions = true) {
  std::string body = "\x03\x03" + std::string(32, 'r');
  body += std::string(1, '\0');                      // empty legacy_session_id
  body += u16(2) + std::string("\x13\x01", 2);       // one cipher suite
  body += std::string("\x01\x00", 2);                // compression: null
  if (with_extensions) body += u16(extensions.size()) + extensions;
  return "\x01" + u24(body.size()) + body;
}

// Wraps a handshake message into records, splitting it at the given offsets.
std::string records(const std::string& message, std::vector<size_t> cuts = {}) {
  cuts.push_back(message.size());
  std::string out;
  size_t start = 0;
  for (size_t cut : cuts) {
    const std::string part = message.substr(start, cut - start);
    out += "\x16\x03\x01" + u16(part.size()) + part;
    start = cut;
  }
  return out;
}

// Splits the (single-record) captured bytes' handshake message at the given offsets.
std::string resplit(const std::string& captured, std::vector<size_t> cuts) {
  return records(captured.substr(5), std::move(cuts));
}

TEST(ClientHello, RealOpenSslHelloWithSniAndAlpn) {
  const std::string hello = capture_client_hello("Alice.Test", {"h2", "http/1.1"});
  ASSERT_GT(hello.size(), 100u);
  const ClientHelloResult r = read_client_hello(hello);
  ASSERT_EQ(r.status, ClientHelloStatus::Complete) << r.reason;
  EXPECT_EQ(r.needed, hello.size());
  ASSERT_TRUE(r.sni.has_value());
  EXPECT_EQ(*r.sni, "alice.test");
  EXPECT_EQ(r.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(r.legacy_version, 0x0303);
  EXPECT_NE(std::find(r.supported_versions.begin(), r.supported_versions.end(), 0x0304),
            r.supported_versions.end());
}

TEST(ClientHello, RealOpenSslHelloWithoutSni) {
  const std::string hello = capture_client_hello("", {});
  const ClientHelloResult r = read_client_hello(hello);
  ASSERT_EQ(r.status, ClientHelloStatus::Complete) << r.reason;
  EXPECT_FALSE(r.sni.has_value());
  EXPECT_TRUE(r.alpn.empty());
}

TEST(ClientHello, OneByteAtATime) {
  const std::string hello = capture_client_hello("alice.test", {"http/1.1"});
  for (size_t i = 0; i < hello.size(); ++i) {
    const ClientHelloResult r = read_client_hello(std::string_view(hello).substr(0, i));
    ASSERT_EQ(r.status, ClientHelloStatus::Incomplete) << "at " << i;
    ASSERT_GT(r.needed, i);
    ASSERT_LE(r.needed, hello.size());
  }
  EXPECT_EQ(read_client_hello(hello).status, ClientHelloStatus::Complete);
}

TEST(ClientHello, SplitAcrossRecords) {
  const std::string hello = capture_client_hello("bob.test", {"http/1.1"});
  const size_t len = hello.size() - 5;
  for (std::vector<size_t> cuts : std::vector<std::vector<size_t>>{
           {1}, {3}, {4}, {10}, {len / 2}, {len - 1}, {2, 40, 41, len - 3}}) {
    const std::string split = resplit(hello, cuts);
    const ClientHelloResult r = read_client_hello(split);
    ASSERT_EQ(r.status, ClientHelloStatus::Complete) << r.reason << " cut " << cuts[0];
    EXPECT_EQ(r.needed, split.size());
    EXPECT_EQ(r.sni, "bob.test");
    EXPECT_EQ(r.alpn, std::vector<std::string>{"http/1.1"});
    // And dribbled: every prefix is Incomplete.
    for (size_t i = 0; i < split.size(); ++i) {
      ASSERT_EQ(read_client_hello(std::string_view(split).substr(0, i)).status,
                ClientHelloStatus::Incomplete);
    }
  }
}

TEST(ClientHello, BytesAfterTheHelloAreNotOurs) {
  const std::string hello = capture_client_hello("alice.test", {});
  const ClientHelloResult r = read_client_hello(hello + "\x14\x03\x03\x00\x01\x01");
  ASSERT_EQ(r.status, ClientHelloStatus::Complete);
  EXPECT_EQ(r.needed, hello.size());
}

TEST(ClientHello, TooManyRecordsIsMalformed) {
  const std::string hello = capture_client_hello("alice.test", {});
  std::vector<size_t> cuts;
  for (size_t i = 1; i < hello.size() - 5; ++i) cuts.push_back(i);  // 1-byte records
  const ClientHelloResult r = read_client_hello(resplit(hello, cuts));
  EXPECT_EQ(r.status, ClientHelloStatus::Malformed);
}

TEST(ClientHello, NotTls) {
  for (const std::string& input :
       {std::string("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), std::string("G"),
        std::string("\x80\x2e\x01\x00\x02", 5), std::string("\x16\x01", 2),
        std::string("\x16\x02\x00\x00\x10", 5), std::string("\x17\x03\x03\x00\x05hello")}) {
    const ClientHelloResult r = read_client_hello(input);
    EXPECT_EQ(r.status, ClientHelloStatus::NotTls) << input;
    EXPECT_FALSE(r.reason.empty());
  }
}

TEST(ClientHello, IncompleteStarts) {
  EXPECT_EQ(read_client_hello("").status, ClientHelloStatus::Incomplete);
  EXPECT_EQ(read_client_hello("").needed, 5u);
  EXPECT_EQ(read_client_hello("\x16").status, ClientHelloStatus::Incomplete);
  EXPECT_EQ(read_client_hello(std::string("\x16\x03\x01\x00", 4)).needed, 5u);
  const ClientHelloResult r = read_client_hello(std::string("\x16\x03\x01\x00\x30", 5));
  EXPECT_EQ(r.status, ClientHelloStatus::Incomplete);
  EXPECT_EQ(r.needed, 5u + 0x30);
}

TEST(ClientHello, SyntheticHelloParses) {
  const std::string msg = hello_message(sni_ext("www.Example.ORG.") + alpn_ext({"http/1.1"}));
  const ClientHelloResult r = read_client_hello(records(msg));
  ASSERT_EQ(r.status, ClientHelloStatus::Complete) << r.reason;
  EXPECT_EQ(r.sni, "www.example.org");
  // TLS 1.2 clients may omit the extensions block entirely.
  const ClientHelloResult bare = read_client_hello(records(hello_message("", false)));
  ASSERT_EQ(bare.status, ClientHelloStatus::Complete) << bare.reason;
  EXPECT_FALSE(bare.sni.has_value());
}

TEST(ClientHello, MalformedShapes) {
  const std::string good_ext = sni_ext("a.test");
  std::string msg = hello_message(good_ext);
  struct Case {
    const char* what;
    std::string input;
  };
  std::vector<Case> cases;
  {
    std::string m = msg;
    m[4 + 2 + 32] = 33;  // session id length beyond 32
    cases.push_back({"session id", records(m)});
  }
  {
    std::string m = msg;
    m[0] = 0x02;  // ServerHello
    cases.push_back({"handshake type", records(m)});
  }
  {
    std::string m = msg;
    m.back() = static_cast<char>(0xff);
    m.resize(m.size() - 1);  // extensions shorter than their length says
    const std::string body = m.substr(4);
    cases.push_back({"short extensions", records("\x01" + u24(body.size()) + body)});
  }
  cases.push_back({"trailing junk in message", records(msg + "x")});
  cases.push_back({"duplicate extension", records(hello_message(good_ext + good_ext))});
  cases.push_back({"sni name type", records(hello_message(sni_ext("a.test", 1)))});
  cases.push_back({"sni empty", records(hello_message(sni_ext("")))});
  cases.push_back({"alpn empty name", records(hello_message(alpn_ext({"http/1.1", ""})))});
  cases.push_back({"alpn empty list", records(hello_message(extension(16, u16(0))))});
  cases.push_back({"sni list overrun", records(hello_message(extension(0, u16(50) + "\x00")))});
  cases.push_back({"zero-length record", std::string("\x16\x03\x01\x00\x00", 5)});
  cases.push_back({"record too long", std::string("\x16\x03\x01\x40\x01", 5)});
  cases.push_back({"handshake too long", records("\x01" + u24(20000) + std::string(100, 'x'))});
  cases.push_back({"alert inside", records(msg.substr(0, 10)) + "\x15\x03\x03\x00\x02\x02\x28"});
  {
    const std::string body = "\x03\x03" + std::string(32, 'r') + std::string("\x00\x00\x00\x01\x00", 5);
    cases.push_back({"no cipher suites", records("\x01" + u24(body.size()) + body)});
  }
  for (const Case& c : cases) {
    const ClientHelloResult r = read_client_hello(c.input);
    EXPECT_EQ(r.status, ClientHelloStatus::Malformed) << c.what;
    EXPECT_FALSE(r.reason.empty()) << c.what;
  }
}

TEST(ClientHello, TruncatedLengthsNeverComplete) {
  const std::string input = records(hello_message(sni_ext("a.test") + alpn_ext({"http/1.1"})));
  // Shrink the handshake length by one: the body is then one byte short of its own fields.
  for (size_t shrink = 1; shrink < 20; ++shrink) {
    std::string msg = input.substr(5);
    const size_t body = msg.size() - 4 - shrink;
    msg = "\x01" + u24(body) + msg.substr(4, body);
    const ClientHelloResult r = read_client_hello(records(msg));
    EXPECT_EQ(r.status, ClientHelloStatus::Malformed) << shrink;
  }
}

TEST(ClientHello, SizeCap) {
  // Padding (extension 21) pushes the message past 16 KiB: refused even split over records.
  const std::string big = hello_message(sni_ext("a.test") + extension(21, std::string(16400, '\0')));
  ASSERT_GT(big.size(), kMaxHandshakeMessage);
  EXPECT_EQ(read_client_hello(records(big, {10000})).status, ClientHelloStatus::Malformed);
  // Just under the cap, over two records, is fine.
  const size_t room = kMaxHandshakeMessage - hello_message(sni_ext("a.test") + extension(21, "")).size();
  const std::string max = hello_message(sni_ext("a.test") + extension(21, std::string(room, '\0')));
  ASSERT_EQ(max.size(), kMaxHandshakeMessage);
  const std::string input = records(max, {16000});
  const ClientHelloResult r = read_client_hello(input);
  ASSERT_EQ(r.status, ClientHelloStatus::Complete) << r.reason;
  EXPECT_EQ(r.needed, input.size());
  EXPECT_LE(input.size(), kMaxClientHelloBytes);
}

TEST(ClientHello, InvalidHostNameIsIgnoredWithANote) {
  for (const char* name : {"1.2.3.4", "a..b", "-a.test", "a_b.test\x01", "a b.test"}) {
    const ClientHelloResult r = read_client_hello(records(hello_message(sni_ext(name))));
    ASSERT_EQ(r.status, ClientHelloStatus::Complete) << name;
    EXPECT_FALSE(r.sni.has_value()) << name;
    EXPECT_FALSE(r.reason.empty()) << name;
  }
}

TEST(ClientHello, DecodeErrorAlertIsAFatalAlertRecord) {
  ASSERT_EQ(kDecodeErrorAlert.size(), 7u);
  EXPECT_EQ(kDecodeErrorAlert[0], 0x15);  // alert
  EXPECT_EQ(kDecodeErrorAlert[5], 2);     // fatal
  EXPECT_EQ(kDecodeErrorAlert[6], 50);    // decode_error
}

TEST(ClientHello, ValidSniHosts) {
  EXPECT_TRUE(is_valid_sni_host("a.test"));
  EXPECT_TRUE(is_valid_sni_host("localhost"));
  EXPECT_TRUE(is_valid_sni_host("xn--bcher-kva.example"));
  EXPECT_TRUE(is_valid_sni_host("_acme.a-b.example"));
  EXPECT_TRUE(is_valid_sni_host("1.2.3.example"));
  EXPECT_FALSE(is_valid_sni_host(""));
  EXPECT_FALSE(is_valid_sni_host("a.test."));
  EXPECT_FALSE(is_valid_sni_host("10.0.0.1"));
  EXPECT_FALSE(is_valid_sni_host("[::1]"));
  EXPECT_FALSE(is_valid_sni_host("a-.test"));
  EXPECT_FALSE(is_valid_sni_host(std::string(64, 'a') + ".test"));
  EXPECT_FALSE(is_valid_sni_host(std::string(250, 'a') + ".test"));
}

}  // namespace
}  // namespace itkd::tls
