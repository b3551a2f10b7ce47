#include "tls/tls_context.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "test_pki.h"

namespace itkd::tls {
namespace {

using testing::Pki;

TlsSettings settings_for(const Pki& pki) {
  TlsSettings s;
  s.name = "alice.test";
  s.cert_file = pki.alice_cert;
  s.key_file = pki.alice_key;
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(TlsContext, LoadsMatchingCertificateAndKey) {
  Pki pki;
  auto ctx = TlsContext::create(settings_for(pki));
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->get()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx->get()), TLS1_3_VERSION);
  EXPECT_EQ(SSL_CTX_get_options(ctx->get()) & SSL_OP_NO_TICKET, 0u);
  EXPECT_EQ(SSL_CTX_get_options(ctx->get()) & SSL_OP_CIPHER_SERVER_PREFERENCE, 0u);
}

TEST(TlsContext, AppliesPolicy) {
  Pki pki;
  TlsSettings s = settings_for(pki);
  s.protocols = "-all +TLSv1.3";
  s.honor_cipher_order = true;
  s.session_tickets = false;
  s.cipher_suite = "ECDHE+AESGCM";
  s.chain_file = pki.ca_file;
  auto ctx = TlsContext::create(s);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->get()), TLS1_3_VERSION);
  EXPECT_NE(SSL_CTX_get_options(ctx->get()) & SSL_OP_NO_TICKET, 0u);
  EXPECT_NE(SSL_CTX_get_options(ctx->get()) & SSL_OP_CIPHER_SERVER_PREFERENCE, 0u);
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx->get(), &chain);
  EXPECT_EQ(sk_X509_num(chain), 1);
}

TEST(TlsContext, MismatchedKeyNamesBothFiles) {
  Pki pki;
  TlsSettings s = settings_for(pki);
  s.key_file = pki.bob_key;
  auto ctx = TlsContext::create(s);
  ASSERT_FALSE(ctx.ok());
  EXPECT_TRUE(contains(ctx.error().message, pki.bob_key)) << ctx.error().message;
  EXPECT_TRUE(contains(ctx.error().message, pki.alice_cert)) << ctx.error().message;
  EXPECT_TRUE(contains(ctx.error().message, "does not match")) << ctx.error().message;
}

TEST(TlsContext, MissingKeyNamesFileAndReason) {
  Pki pki;
  TlsSettings s = settings_for(pki);
  s.key_file = pki.dir.file("nope.key");
  auto ctx = TlsContext::create(s);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().message,
            "cannot read key " + s.key_file + " (vhost alice.test): No such file or directory");
}

// The worker runs as the owner: the kernel's permission check is what keeps other tenants'
// keys out. As root, load it in a child that became nobody (root ignores file modes).
TEST(TlsContext, UnreadableKeyIsPermissionDenied) {
  Pki pki;
  ASSERT_EQ(chmod(pki.dir.path().c_str(), 0755), 0);
  ASSERT_EQ(chmod(pki.alice_cert.c_str(), 0644), 0);
  ASSERT_EQ(chmod(pki.alice_key.c_str(), geteuid() == 0 ? 0600 : 0), 0);
  const std::string expected =
      "cannot read key " + pki.alice_key + " (vhost alice.test): Permission denied";
  if (geteuid() != 0) {
    auto ctx = TlsContext::create(settings_for(pki));
    ASSERT_FALSE(ctx.ok());
    EXPECT_EQ(ctx.error().message, expected);
    return;
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    auto ctx = TlsContext::create(settings_for(pki));
    const std::string message = ctx.ok() ? "loaded" : ctx.error().message;
    _exit(write(fds[1], message.data(), message.size()) < 0 ? 3 : 0);
  }
  close(fds[1]);
  char buf[512];
  std::string message;
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) message.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(message, expected);
}

TEST(TlsContext, MissingOrBrokenCertificate) {
  Pki pki;
  TlsSettings s = settings_for(pki);
  s.cert_file = pki.dir.file("nope.pem");
  auto missing = TlsContext::create(s);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.error().message, "cannot read certificate " + s.cert_file));
  EXPECT_TRUE(contains(missing.error().message, "No such file or directory"));

  std::ofstream(pki.dir.file("junk.pem")) << "not a certificate\n";
  s.cert_file = pki.dir.file("junk.pem");
  auto junk = TlsContext::create(s);
  ASSERT_FALSE(junk.ok());
  EXPECT_TRUE(contains(junk.error().message, "cannot read certificate " + s.cert_file))
      << junk.error().message;

  s = settings_for(pki);
  s.chain_file = pki.dir.file("junk.pem");
  auto chain = TlsContext::create(s);
  ASSERT_FALSE(chain.ok());
  EXPECT_TRUE(contains(chain.error().message, "certificate chain " + s.chain_file))
      << chain.error().message;
}

TEST(TlsContext, PolicyErrors) {
  Pki pki;
  TlsSettings s = settings_for(pki);
  s.protocols = "all +TLSv1";
  auto proto = TlsContext::create(s);
  ASSERT_FALSE(proto.ok());
  EXPECT_TRUE(contains(proto.error().message, "TLSv1.0/1.1 are not supported"));

  s = settings_for(pki);
  s.cipher_suite = "NO-SUCH-CIPHER";
  auto cipher = TlsContext::create(s);
  ASSERT_FALSE(cipher.ok());
  EXPECT_TRUE(contains(cipher.error().message, "SSLCipherSuite 'NO-SUCH-CIPHER'"))
      << cipher.error().message;
}

TEST(TlsContextSet, KeysByVhostAndKeepsFailuresOut) {
  TlsContextSet::TicketKeys keys{};
  EXPECT_FALSE(TlsContextSet::create([](std::string_view, size_t, int) { return -1L; }, keys).ok())
      << "all-zero ticket keys are refused";
  keys.fill(7);
  auto set = TlsContextSet::create([](std::string_view, size_t, int) { return -1L; }, keys);
  ASSERT_TRUE(set.ok());
  Pki pki;
  ASSERT_TRUE((*set)->add(3, settings_for(pki)).ok());
  TlsSettings bad = settings_for(pki);
  bad.key_file = pki.bob_key;
  EXPECT_FALSE((*set)->add(5, bad).ok());
  EXPECT_EQ((*set)->size(), 1u);
  ASSERT_NE((*set)->find(3), nullptr);
  EXPECT_EQ((*set)->find(5), nullptr);
  EXPECT_EQ((*set)->vhost_of((*set)->find(3)->get()), 3);
}

}  // namespace
}  // namespace itkd::tls
