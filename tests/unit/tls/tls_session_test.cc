#include "tls/tls_session.h"

#include <openssl/err.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <csignal>
#include <fstream>
#include <random>
#include <tuple>

#include "test_pki.h"

namespace itkd::tls {
namespace {

using testing::client_context;
using testing::client_ssl;
using testing::CtxPtr;
using testing::peer_common_name;
using testing::Pki;
using testing::SocketPair;
using testing::SslPtr;

struct HandshakeOutcome {
  IoStatus server = IoStatus::WantRead;
  bool client_ok = false;
};

// Drives both ends of a non-blocking handshake until each finished or failed.
HandshakeOutcome run_handshake(TlsSession& server, SSL* client) {
  HandshakeOutcome out;
  bool client_failed = false;
  for (int i = 0; i < 200; ++i) {
    if (out.server != IoStatus::Ok && out.server != IoStatus::Error) out.server = server.handshake();
    if (!out.client_ok && !client_failed) {
      ERR_clear_error();
      const int r = SSL_do_handshake(client);
      if (r == 1) {
        out.client_ok = true;
      } else {
        const int e = SSL_get_error(client, r);
        client_failed = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
      }
    }
    const bool server_settled = out.server == IoStatus::Ok || out.server == IoStatus::Error;
    if (server_settled && (out.client_ok || client_failed)) break;
  }
  ERR_clear_error();
  return out;
}

// Reads what the client can get right now (also processes TLS 1.3 session tickets).
std::string client_drain(SSL* client) {
  std::string out;
  char buf[8192];
  size_t n = 0;
  while (SSL_read_ex(client, buf, sizeof(buf), &n) == 1) out.append(buf, n);
  ERR_clear_error();
  return out;
}

class TlsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    set_ = make_set();
    ASSERT_NE(set_, nullptr);
  }

  // A pool's ticket keys, drawn as the master draws them (one set per pool).
  static TlsContextSet::TicketKeys random_keys() {
    TlsContextSet::TicketKeys keys{};
    std::random_device rd;
    for (auto& b : keys) b = static_cast<unsigned char>(rd());
    return keys;
  }

  std::unique_ptr<TlsContextSet> make_set(const std::string& protocols = "", bool tickets = true,
                                          const TlsContextSet::TicketKeys& keys = random_keys()) {
    auto set = TlsContextSet::create([this](std::string_view sni, size_t default_vhost, int fd) -> long {
      resolver_calls_.push_back({std::string(sni), default_vhost, fd});
      if (sni == "alice.test") return 0;
      if (sni == "bob.test") return 1;
      return -1;
    }, keys);
    if (!set.ok()) return nullptr;
    TlsSettings alice{"alice.test", pki_.alice_cert, pki_.alice_key, "", protocols, "", "", false, tickets};
    TlsSettings bob{"bob.test", pki_.bob_cert, pki_.bob_key, "", protocols, "", "", false, tickets};
    if (!(*set)->add(0, alice).ok() || !(*set)->add(1, bob).ok()) return nullptr;
    return std::move(set).value();
  }

  std::unique_ptr<TlsSession> accept(const TlsContextSet& set, const SocketPair& pair,
                                     size_t vhost = 0) {
    auto session = TlsSession::accept(set, vhost, pair.server.get());
    EXPECT_TRUE(session.ok()) << session.error().message;
    return session.ok() ? std::move(session).value() : nullptr;
  }

  struct ResolverCall {
    std::string sni;
    size_t default_vhost;
    int fd;
  };
  std::vector<ResolverCall> resolver_calls_;
  Pki pki_;
  std::unique_ptr<TlsContextSet> set_;
};

TEST_F(TlsSessionTest, HandshakeAlpnAndData) {
  SocketPair pair;
  auto server = accept(*set_, pair);
  CtxPtr cctx = client_context(pki_.ca_file);
  SslPtr client = client_ssl(cctx.get(), pair.client.get(), "alice.test", {"h2", "http/1.1"});
  const HandshakeOutcome h = run_handshake(*server, client.get());
  ASSERT_EQ(h.server, IoStatus::Ok) << server->last_error();
  ASSERT_TRUE(h.client_ok);
  EXPECT_TRUE(server->handshake_done());
  EXPECT_EQ(SSL_get_verify_result(client.get()), X509_V_OK);
  EXPECT_EQ(server->alpn(), "http/1.1");
  EXPECT_EQ(server->protocol(), "TLSv1.3");
  EXPECT_FALSE(server->cipher().empty());
  EXPECT_EQ(server->sni(), "alice.test");
  EXPECT_EQ(server->vhost(), 0u);
  EXPECT_FALSE(server->session_reused());

  const std::string request = "GET / HTTP/1.1\r\nHost: alice.test\r\n\r\n";
  size_t n = 0;
  ASSERT_EQ(SSL_write_ex(client.get(), request.data(), request.size(), &n), 1);
  char buf[256];
  ASSERT_EQ(server->read(buf, sizeof(buf), &n), IoStatus::Ok) << server->last_error();
  EXPECT_EQ(std::string(buf, n), request);
  EXPECT_EQ(server->read(buf, sizeof(buf), &n), IoStatus::WantRead);

  ASSERT_EQ(server->write("HTTP/1.1 200 OK\r\n\r\n", 19, &n), IoStatus::Ok);
  EXPECT_EQ(n, 19u);
  EXPECT_EQ(client_drain(client.get()), "HTTP/1.1 200 OK\r\n\r\n");

  // close_notify both ways.
  EXPECT_EQ(server->shutdown(), IoStatus::Ok);
  EXPECT_EQ(SSL_read_ex(client.get(), buf, sizeof(buf), &n), 0);
  EXPECT_EQ(SSL_get_error(client.get(), 0), SSL_ERROR_ZERO_RETURN);
  SSL_shutdown(client.get());
  EXPECT_EQ(server->read(buf, sizeof(buf), &n), IoStatus::Closed);
}

TEST_F(TlsSessionTest, NoAlpnAndAbruptClose) {
  SocketPair pair;
  auto server = accept(*set_, pair);
  CtxPtr cctx = client_context(pki_.ca_file);
  SslPtr client = client_ssl(cctx.get(), pair.client.get(), "alice.test");
  ASSERT_EQ(run_handshake(*server, client.get()).server, IoStatus::Ok);
  EXPECT_EQ(server->alpn(), "");
  pair.client.reset();  // EOF without close_notify
  char buf[16];
  size_t n = 0;
  EXPECT_EQ(server->read(buf, sizeof(buf), &n), IoStatus::Closed) << server->last_error();
}

TEST_F(TlsSessionTest, AlpnWithoutHttp11IsRefused) {
  SocketPair pair;
  auto server = accept(*set_, pair);
  CtxPtr cctx = client_context(pki_.ca_file);
  SslPtr client = client_ssl(cctx.get(), pair.client.get(), "alice.test", {"h2"});
  const HandshakeOutcome h = run_handshake(*server, client.get());
  EXPECT_EQ(h.server, IoStatus::Error);
  EXPECT_FALSE(h.client_ok);
  EXPECT_NE(server->last_error().find("application protocol"), std::string::npos)
      << server->last_error();
}

TEST_F(TlsSessionTest, SniSelectsTheVhostsCertificate) {
  struct Case {
    std::string sni;
    size_t default_vhost;
    size_t vhost;
    std::string cn;
  };
  for (const Case& c : {Case{"bob.test", 0, 1, "bob.test"}, Case{"BOB.test", 0, 1, "bob.test"},
                        Case{"alice.test", 1, 0, "alice.test"}, Case{"", 0, 0, "alice.test"},
                        Case{"", 1, 1, "bob.test"}, Case{"carol.test", 0, 0, "alice.test"}}) {
    SocketPair pair;
    auto server = accept(*set_, pair, c.default_vhost);
    CtxPtr cctx = client_context("");  // names may not match here; the CN is checked below
    SslPtr client = client_ssl(cctx.get(), pair.client.get(), c.sni);
    ASSERT_EQ(run_handshake(*server, client.get()).server, IoStatus::Ok) << server->last_error();
    EXPECT_EQ(server->vhost(), c.vhost) << c.sni;
    EXPECT_EQ(peer_common_name(client.get()), c.cn) << c.sni;
    if (c.sni.empty()) {
      EXPECT_TRUE(resolver_calls_.empty());
    } else {
      ASSERT_EQ(resolver_calls_.size(), 1u);
      EXPECT_EQ(resolver_calls_[0].sni, c.sni == "BOB.test" ? "bob.test" : c.sni);
      EXPECT_EQ(resolver_calls_[0].default_vhost, c.default_vhost);
      EXPECT_EQ(resolver_calls_[0].fd, pair.server.get());
    }
    resolver_calls_.clear();
  }
}

TEST_F(TlsSessionTest, VerifiedSniToSecondVhost) {
  SocketPair pair;
  auto server = accept(*set_, pair, 0);
  CtxPtr cctx = client_context(pki_.ca_file);
  SslPtr client = client_ssl(cctx.get(), pair.client.get(), "bob.test", {"http/1.1"});
  const HandshakeOutcome h = run_handshake(*server, client.get());
  ASSERT_EQ(h.server, IoStatus::Ok) << server->last_error();
  ASSERT_TRUE(h.client_ok);
  EXPECT_EQ(SSL_get_verify_result(client.get()), X509_V_OK);
  EXPECT_EQ(server->sni(), "bob.test");
}

TEST_F(TlsSessionTest, OldProtocolsAreRefused) {
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    SocketPair pair;
    auto server = accept(*set_, pair);
    CtxPtr cctx = client_context("");
    // Let the client even try: OpenSSL's own client refuses TLS < 1.2 at level 1 and up.
    SSL_CTX_set_security_level(cctx.get(), 0);
    SSL_CTX_set_cipher_list(cctx.get(), "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(cctx.get(), version);
    SSL_CTX_set_max_proto_version(cctx.get(), version);
    SslPtr client = client_ssl(cctx.get(), pair.client.get(), "alice.test");
    const HandshakeOutcome h = run_handshake(*server, client.get());
    EXPECT_EQ(h.server, IoStatus::Error);
    EXPECT_FALSE(h.client_ok);
    EXPECT_NE(server->last_error().find("unsupported protocol"), std::string::npos)
        << server->last_error();
  }
}

TEST_F(TlsSessionTest, Tls12OnlyPolicy) {
  auto set = make_set("TLSv1.2");
  ASSERT_NE(set, nullptr);
  SocketPair pair;
  auto server = accept(*set, pair);
  CtxPtr cctx = client_context(pki_.ca_file);
  SslPtr client = client_ssl(cctx.get(), pair.client.get(), "alice.test");
  ASSERT_EQ(run_handshake(*server, client.get()).server, IoStatus::Ok) << server->last_error();
  EXPECT_EQ(server->protocol(), "TLSv1.2");
}

TEST_F(TlsSessionTest, WriteFileIsByteExactUnderBackpressure) {
  testing::TempDir dir;
  std::string content(100 * 1024, '\0');
  std::mt19937 rng(42);
  for (char& c : content) c = static_cast<char>(rng());
  const std::string path = dir.file("body.bin");
  std::ofstream(path, std::ios::binary) << content;
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file.valid());

  SocketPair pair;
  const int small = 4096;
  setsockopt(pair.server.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  auto server = accept(*set_, pair);
  CtxPtr cctx = client_context(pki_.ca_file);
  SslPtr client = client_ssl(cctx.get(), pair.client.get(), "alice.test");
  ASSERT_EQ(run_handshake(*server, client.get()).server, IoStatus::Ok);

  // Send a slice that doesn't start at 0 to check offsets, then the rest.
  std::string received;
  int want_writes = 0;
  for (auto [start, length] : {std::pair<uint64_t, uint64_t>{0, 1000},
                               std::pair<uint64_t, uint64_t>{1000, content.size() - 1000}}) {
    uint64_t offset = start, remaining = length;
    for (int i = 0; i < 10000; ++i) {
      const IoStatus st = server->write_file(file.get(), &offset, &remaining);
      if (st == IoStatus::Ok) break;
      ASSERT_EQ(st, IoStatus::WantWrite) << server->last_error();
      ++want_writes;
      received += client_drain(client.get());
    }
    EXPECT_EQ(remaining, 0u);
    EXPECT_EQ(offset, start + length);
  }
  received += client_drain(client.get());
  EXPECT_GT(want_writes, 0);
  ASSERT_EQ(received.size(), content.size());
  EXPECT_TRUE(received == content);

  // A file shorter than promised is an error, not a hang.
  uint64_t offset = content.size() - 10, remaining = 100;
  EXPECT_EQ(server->write_file(file.get(), &offset, &remaining), IoStatus::Error);
  EXPECT_NE(server->last_error().find("ended early"), std::string::npos);
}

TEST_F(TlsSessionTest, UnknownVhostIsAnError) {
  SocketPair pair;
  auto session = TlsSession::accept(*set_, 7, pair.server.get());
  ASSERT_FALSE(session.ok());
  EXPECT_NE(session.error().message.find("vhost 7"), std::string::npos);
}

// Session resumption: tickets from one set resume in that set and in sets made with the
// same keys (the workers of one pool), never in another (another owner's pool has other
// keys).
// Parameters: the client's highest version, and SSLSessionTickets (off: the per-process
// session cache does the resuming).
class ResumptionTest : public TlsSessionTest,
                       public ::testing::WithParamInterface<std::tuple<int, bool>> {
 protected:
  // Full handshake; returns the client's session once the server sent its ticket.
  SSL_SESSION* first_session(const TlsContextSet& set, const std::string& sni, size_t vhost) {
    SocketPair pair;
    auto server = accept(set, pair, vhost);
    SslPtr client = client_ssl(cctx_.get(), pair.client.get(), sni);
    EXPECT_EQ(run_handshake(*server, client.get()).server, IoStatus::Ok);
    EXPECT_FALSE(server->session_reused());
    size_t n = 0;
    EXPECT_EQ(server->write("hi", 2, &n), IoStatus::Ok);
    EXPECT_EQ(client_drain(client.get()), "hi");
    SSL_SESSION* session = SSL_get1_session(client.get());
    EXPECT_EQ(SSL_SESSION_is_resumable(session), 1);
    // OpenSSL marks a session unresumable when its connection is freed without close_notify.
    SSL_shutdown(client.get());
    EXPECT_EQ(server->shutdown(), IoStatus::Ok);
    return session;
  }

  bool resumed(const TlsContextSet& set, const std::string& sni, size_t vhost,
               SSL_SESSION* session) {
    SocketPair pair;
    auto server = accept(set, pair, vhost);
    SslPtr client = client_ssl(cctx_.get(), pair.client.get(), sni);
    SSL_set_session(client.get(), session);
    const HandshakeOutcome h = run_handshake(*server, client.get());
    EXPECT_EQ(h.server, IoStatus::Ok) << server->last_error();
    EXPECT_TRUE(h.client_ok);
    EXPECT_EQ(peer_common_name(client.get()), sni);
    EXPECT_EQ(SSL_session_reused(client.get()), server->session_reused());
    return server->session_reused();
  }

  void SetUp() override {
    TlsSessionTest::SetUp();
    tickets_ = std::get<1>(GetParam());
    set_ = make_set("", tickets_);
    ASSERT_NE(set_, nullptr);
    cctx_ = client_context(pki_.ca_file);
    SSL_CTX_set_max_proto_version(cctx_.get(), std::get<0>(GetParam()));
  }

  CtxPtr cctx_;
  bool tickets_ = true;
};

TEST_P(ResumptionTest, WithinOneSetOnly) {
  SSL_SESSION* alice = first_session(*set_, "alice.test", 0);
  EXPECT_TRUE(resumed(*set_, "alice.test", 0, alice));
  // A session for alice.test doesn't skip the certificate choice for bob.test.
  EXPECT_FALSE(resumed(*set_, "bob.test", 0, alice));
  // Same certificates, another owner's process: its ticket keys differ.
  auto other = make_set("", tickets_);
  ASSERT_NE(other, nullptr);
  EXPECT_FALSE(resumed(*other, "alice.test", 0, alice));
  SSL_SESSION_free(alice);

  // Another worker of the same pool: same keys, so a ticket resumes there (the session
  // cache used without tickets is per process, so that one doesn't).
  const auto pool_keys = random_keys();
  auto first_worker = make_set("", tickets_, pool_keys);
  auto second_worker = make_set("", tickets_, pool_keys);
  ASSERT_NE(first_worker, nullptr);
  ASSERT_NE(second_worker, nullptr);
  SSL_SESSION* carol = first_session(*first_worker, "alice.test", 0);
  EXPECT_EQ(resumed(*second_worker, "alice.test", 0, carol), tickets_);
  SSL_SESSION_free(carol);

  // The SNI-switched vhost resumes too (tickets are decrypted with the first context's keys).
  SSL_SESSION* bob = first_session(*set_, "bob.test", 0);
  EXPECT_TRUE(resumed(*set_, "bob.test", 0, bob));
  SSL_SESSION_free(bob);
}

INSTANTIATE_TEST_SUITE_P(
    Versions, ResumptionTest,
    ::testing::Combine(::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION), ::testing::Bool()),
    [](const auto& info) {
      return std::string(std::get<0>(info.param) == TLS1_2_VERSION ? "TLS12" : "TLS13") +
             (std::get<1>(info.param) ? "Tickets" : "Cache");
    });

}  // namespace
}  // namespace itkd::tls
