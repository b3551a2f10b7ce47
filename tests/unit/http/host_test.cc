// normalize_host: the table a vhost router relies on (case, port, trailing dot, IPv6).
#include <gtest/gtest.h>

#include <string>

#include "http/request_head.h"

namespace itkd::http {
namespace {

struct HostCase {
  const char* input;
  bool valid;
  const char* normalized;
};

void PrintTo(const HostCase& c, std::ostream* os) { *os << '"' << c.input << '"'; }

class HostNormalization : public ::testing::TestWithParam<HostCase> {};

TEST_P(HostNormalization, Table) {
  const HostCase& c = GetParam();
  std::string out = "garbage";
  EXPECT_EQ(normalize_host(c.input, out), c.valid) << c.input;
  if (c.valid) {
    EXPECT_EQ(out, c.normalized) << c.input;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, HostNormalization,
    ::testing::Values(HostCase{"example.com", true, "example.com"},
                      HostCase{"EXAMPLE.Com", true, "example.com"},
                      HostCase{"example.com:8080", true, "example.com"},
                      HostCase{"example.com:", true, "example.com"},
                      HostCase{"example.com.", true, "example.com"},
                      HostCase{"Example.COM.:80", true, "example.com"},
                      HostCase{"my_host-1.example", true, "my_host-1.example"},
                      HostCase{"127.0.0.1", true, "127.0.0.1"},
                      HostCase{"127.0.0.1:80", true, "127.0.0.1"},
                      HostCase{"[::1]", true, "[::1]"},
                      HostCase{"[::1]:8080", true, "[::1]"},
                      HostCase{"[2001:DB8::A]", true, "[2001:db8::a]"},
                      HostCase{"[::ffff:1.2.3.4]", true, "[::ffff:1.2.3.4]"},
                      HostCase{"", true, ""},
                      HostCase{"a b", false, ""},
                      HostCase{"a/b", false, ""},
                      HostCase{"a\\b", false, ""},
                      HostCase{"a@b", false, ""},
                      HostCase{"a?b", false, ""},
                      HostCase{"a%2fb", false, ""},
                      HostCase{"example.com..", false, ""},
                      HostCase{"a..b", false, ""},
                      HostCase{".example.com", false, ""},
                      HostCase{".", false, ""},
                      HostCase{":80", false, ""},
                      HostCase{"a:80:80", false, ""},
                      HostCase{"a:http", false, ""},
                      HostCase{"a:65536", false, ""},
                      HostCase{"a:123456", false, ""},
                      HostCase{"::1", false, ""},
                      HostCase{"[::1", false, ""},
                      HostCase{"[::1]x", false, ""},
                      HostCase{"[::1]:x", false, ""},
                      HostCase{"[]", false, ""},
                      HostCase{"[fe80::1%25eth0]", false, ""},
                      HostCase{"[v1.fe]", false, ""}));

}  // namespace
}  // namespace itkd::http
