#include "tls/ssl_protocol.h"

#include <gtest/gtest.h>

namespace itkd::tls {
namespace {

TEST(SslProtocol, Table) {
  struct Row {
    const char* value;
    uint16_t min, max;
  };
  for (const Row& row : {Row{"", kTls12, kTls13},
                         Row{"  ", kTls12, kTls13},
                         Row{"all", kTls12, kTls13},
                         Row{"All -SSLv3", kTls12, kTls13},
                         Row{"all -SSLv3 -TLSv1 -TLSv1.1", kTls12, kTls13},
                         Row{"-all +TLSv1.3", kTls13, kTls13},
                         Row{"TLSv1.2", kTls12, kTls12},
                         Row{"+TLSv1.2", kTls12, kTls12},
                         Row{"tlsv1.3", kTls13, kTls13},
                         Row{"TLSv1.2 +TLSv1.3", kTls12, kTls13},
                         Row{"TLSv1.2 TLSv1.3", kTls13, kTls13},  // bare token replaces
                         Row{"all -TLSv1.2", kTls13, kTls13},
                         Row{"all\t-TLSv1.3", kTls12, kTls12}}) {
    auto r = parse_ssl_protocol(row.value);
    ASSERT_TRUE(r.ok()) << row.value << ": " << r.error().message;
    EXPECT_EQ(r->min_version, row.min) << row.value;
    EXPECT_EQ(r->max_version, row.max) << row.value;
  }
}

TEST(SslProtocol, Errors) {
  struct Row {
    const char* value;
    const char* message_part;
  };
  for (const Row& row : {Row{"TLSv1", "TLSv1.0/1.1 are not supported"},
                         Row{"all +TLSv1.1", "TLSv1.0/1.1 are not supported"},
                         Row{"+SSLv3", "TLSv1.0/1.1 are not supported"},
                         Row{"SSLv2", "not supported"},
                         Row{"TLSv1.4", "unknown protocol 'TLSv1.4'"},
                         Row{"+", "unknown protocol '+'"},
                         Row{"all,-SSLv3", "unknown protocol"},
                         Row{"-TLSv1", "enables no protocol"},
                         Row{"all -all", "enables no protocol"},
                         Row{"TLSv1.2 -TLSv1.2", "enables no protocol"}}) {
    auto r = parse_ssl_protocol(row.value);
    ASSERT_FALSE(r.ok()) << row.value;
    EXPECT_NE(r.error().message.find(row.message_part), std::string::npos)
        << row.value << " -> " << r.error().message;
  }
}

}  // namespace
}  // namespace itkd::tls
