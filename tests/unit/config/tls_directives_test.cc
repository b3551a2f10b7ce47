// mod_ssl's directives: parsing, server-level defaults, per-listener agreement on TLS and
// the `itkd -t` key file checks (stat only).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "config/config_parser.h"

namespace itkd {
namespace {

ParseOptions no_ids() {
  ParseOptions o;
  o.resolve_identities = false;
  return o;
}

Result<ServerConfig> parse(const std::string& text, const ParseOptions& o = no_ids()) {
  return parse_config_text(text, "t.conf", o);
}

ServerConfig parse_ok(const std::string& text, const ParseOptions& o = no_ids()) {
  auto r = parse(text, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : ServerConfig{};
}

std::string parse_err(const std::string& text) {
  auto r = parse(text);
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
  return r.ok() ? "" : r.error().message;
}

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const std::string kBase = "Listen 80\nListen 443\nDocumentRoot /srv/main\n";

const std::string kTwoSites = kBase + R"(SSLProtocol all -SSLv3
SSLCipherSuite HIGH:!aNULL
<VirtualHost *:443>
  ServerName alice.example
  DocumentRoot /srv/alice
  SSLEngine on
  SSLCertificateFile /etc/ssl/alice/cert.pem
  SSLCertificateKeyFile /etc/ssl/alice/key.pem
  SSLCertificateChainFile /etc/ssl/alice/chain.pem
  SSLHonorCipherOrder on
</VirtualHost>
<VirtualHost *:443>
  ServerName bob.example
  DocumentRoot /srv/bob
  SSLEngine on
  SSLCertificateFile /etc/ssl/bob/both.pem
  SSLProtocol TLSv1.3
  SSLCipherSuite TLSv1.3 TLS_AES_256_GCM_SHA384
  SSLSessionTickets off
</VirtualHost>
<VirtualHost *:80>
  ServerName alice.example
  DocumentRoot /srv/alice
</VirtualHost>
)";

TEST(TlsDirectives, TwoSniVhostsOnOnePort) {
  auto c = parse_ok(kTwoSites);
  ASSERT_EQ(c.vhosts.size(), 4u);
  const TlsConfig& a = c.vhosts[1].tls;
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.certificate_file, "/etc/ssl/alice/cert.pem");
  EXPECT_EQ(a.certificate_key_file, "/etc/ssl/alice/key.pem");
  EXPECT_EQ(a.certificate_chain_file, "/etc/ssl/alice/chain.pem");
  EXPECT_TRUE(a.honor_cipher_order);
  EXPECT_TRUE(a.session_tickets);
  EXPECT_EQ(a.where.str(), "t.conf:9");
  const TlsConfig& b = c.vhosts[2].tls;
  EXPECT_TRUE(b.enabled);
  // No SSLCertificateKeyFile: the key is in the certificate file, as mod_ssl reads it.
  EXPECT_EQ(b.certificate_key_file, "/etc/ssl/bob/both.pem");
  EXPECT_EQ(b.protocol, "TLSv1.3");
  EXPECT_EQ(b.cipher_suite_tls13, "TLS_AES_256_GCM_SHA384");
  EXPECT_FALSE(b.honor_cipher_order);
  EXPECT_FALSE(b.session_tickets);
  EXPECT_FALSE(c.vhosts[3].tls.enabled);
  EXPECT_FALSE(c.vhosts[0].tls.enabled);

  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_FALSE(c.listeners[0].tls);
  EXPECT_EQ(c.listeners[0].protocol, "http");
  EXPECT_TRUE(c.listeners[1].tls);
  EXPECT_EQ(c.listeners[1].protocol, "https");

  std::string d = describe_config(c);
  EXPECT_TRUE(has(d, "Listen *:443 (https)")) << d;
  EXPECT_TRUE(has(d, "vhost alice.example on *:443 docroot /srv/alice tls (cert "
                     "/etc/ssl/alice/cert.pem key /etc/ssl/alice/key.pem chain "
                     "/etc/ssl/alice/chain.pem, SSLProtocol all -SSLv3)")) << d;
  EXPECT_TRUE(has(d, "vhost alice.example on *:80 docroot /srv/alice -> pool")) << d;
}

TEST(TlsDirectives, ServerLevelValuesAreInherited) {
  auto c = parse_ok(kTwoSites);
  // Set at server level only: inherited by both TLS vhosts unless they set their own.
  EXPECT_EQ(c.vhosts[1].tls.protocol, "all -SSLv3");
  EXPECT_EQ(c.vhosts[1].tls.cipher_suite, "HIGH:!aNULL");
  EXPECT_EQ(c.vhosts[2].tls.cipher_suite, "HIGH:!aNULL");
  EXPECT_EQ(c.vhosts[2].tls.protocol, "TLSv1.3");

  // Defaults when nothing is said.
  TlsConfig def;
  EXPECT_EQ(def.protocol, "all");
  EXPECT_TRUE(def.cipher_suite.empty());
  EXPECT_TRUE(def.session_tickets);
  EXPECT_FALSE(def.honor_cipher_order);

  // Certificate and key at server level, SSLEngine per vhost (a wildcard certificate).
  auto w = parse_ok("Listen 443\nDocumentRoot /srv\nSSLCertificateFile certs/wild.pem\n"
                    "SSLCertificateKeyFile /k/wild.key\nSSLSessionTickets off\n"
                    "<VirtualHost *:443>\nServerName a.example\nSSLEngine on\n</VirtualHost>\n");
  EXPECT_EQ(w.vhosts[1].tls.certificate_file, "/etc/itkd/certs/wild.pem");
  EXPECT_EQ(w.vhosts[1].tls.certificate_key_file, "/k/wild.key");
  EXPECT_FALSE(w.vhosts[1].tls.session_tickets);

  // SSLEngine on at server level applies to the main server and, as mod_ssl merges it,
  // to every vhost that does not say off.
  auto g = parse_ok("Listen 443\nDocumentRoot /srv\nSSLEngine on\nSSLCertificateFile /c.pem\n"
                    "<VirtualHost *:443>\nServerName a.example\n</VirtualHost>\n");
  EXPECT_TRUE(g.vhosts[0].tls.enabled);
  EXPECT_TRUE(g.vhosts[1].tls.enabled);
  EXPECT_EQ(g.vhosts[1].tls.where.str(), "t.conf:3");
  EXPECT_TRUE(g.listeners[0].tls);
}

TEST(TlsDirectives, SslProtocolErrorsHaveFileAndLine) {
  std::string e = parse_err(kBase + "<VirtualHost *:443>\nSSLProtocol all +TLSv1.1\n</VirtualHost>\n");
  EXPECT_TRUE(has(e, "t.conf:5: SSLProtocol +TLSv1.1")) << e;
  EXPECT_TRUE(has(e, "TLSv1.0/1.1 are not supported")) << e;
  e = parse_err(kBase + "SSLProtocol TLSv1.4\n");
  EXPECT_TRUE(has(e, "t.conf:4: SSLProtocol: unknown protocol 'TLSv1.4'")) << e;
  // Turning the old ones off is what Debian's ssl.conf does; that stays fine.
  auto c = parse_ok(kBase + "SSLProtocol all -SSLv3 -TLSv1 -TLSv1.1\n");
  EXPECT_EQ(c.vhosts[0].tls.protocol, "all -SSLv3 -TLSv1 -TLSv1.1");
  EXPECT_TRUE(has(parse_err(kBase + "SSLEngine optional\n"), "t.conf:4: SSLEngine optional"));
  EXPECT_TRUE(has(parse_err(kBase + "SSLCipherSuite TLSv1.2 HIGH\n"),
                  "t.conf:4: SSLCipherSuite TLSv1.2: the protocol must be SSL or TLSv1.3"));
}

TEST(TlsDirectives, MissingCertificateIsAnError) {
  std::string e = parse_err(kBase + "<VirtualHost *:443>\nServerName a.example\nSSLEngine on\n"
                                    "SSLCertificateKeyFile /k.pem\n</VirtualHost>\n");
  EXPECT_EQ(e, "t.conf:6: vhost a.example has SSLEngine on but no SSLCertificateFile (set it in "
               "the <VirtualHost> or at server level)");
}

TEST(TlsDirectives, MixedTlsAndPlainOnOnePortIsAnError) {
  std::string e = parse_err(kBase + R"(<VirtualHost *:443>
ServerName a.example
SSLEngine on
SSLCertificateFile /a.pem
</VirtualHost>
<VirtualHost *:443>
ServerName x
</VirtualHost>
)");
  EXPECT_EQ(e, "t.conf:9: vhost x on *:443 has SSLEngine off but shares the port with TLS vhosts "
               "(SSLEngine on at t.conf:6)");
  // A TLS vhost only on one address leaves the main server plain on the same socket.
  e = parse_err(kBase + "<VirtualHost 10.0.0.1:443>\nSSLEngine on\nSSLCertificateFile /a.pem\n"
                        "</VirtualHost>\n");
  EXPECT_TRUE(has(e, "t.conf:2: the main server on *:443 has SSLEngine off")) << e;
  // `Listen 443 https` with nothing TLS on it.
  e = parse_err("Listen 80\nListen 443 https\nDocumentRoot /srv\n");
  EXPECT_EQ(e, "t.conf:2: Listen *:443 https has no <VirtualHost> with SSLEngine on (add one, or "
               "drop 'https')");
  // A TLS vhost must name its port.
  e = parse_err(kBase + "<VirtualHost *>\nSSLEngine on\nSSLCertificateFile /a.pem\n</VirtualHost>\n");
  EXPECT_TRUE(has(e, "has SSLEngine on but an address without a port")) << e;
}

TEST(TlsDirectives, ClientCertificatesRefusedIgnoredDirectivesWarn) {
  EXPECT_TRUE(has(parse_err(kBase + "SSLVerifyClient require\n"),
                  "t.conf:4: SSLVerifyClient require: client certificates are not supported"));
  EXPECT_TRUE(has(parse_err(kBase + "SSLCACertificateFile /ca.pem\n"),
                  "t.conf:4: SSLCACertificateFile: client certificates are not supported"));
  auto c = parse_ok(kBase + R"(SSLVerifyClient none
SSLRandomSeed startup builtin
SSLPassPhraseDialog exec:/usr/share/apache2/ask-for-passphrase
SSLSessionCache shmcb:/var/run/apache2/ssl_scache(512000)
SSLSessionCacheTimeout 300
SSLCompression off
SSLUseStapling on
SSLStaplingCache shmcb:/var/run/ocsp(128000)
<Directory /srv/main>
  SSLOptions +StdEnvVars
</Directory>
)");
  ASSERT_EQ(c.warnings.size(), 8u);
  EXPECT_TRUE(has(c.warnings[0], "t.conf:5: SSLRandomSeed ignored")) << c.warnings[0];
  EXPECT_TRUE(has(c.warnings[7], "t.conf:13: SSLOptions ignored")) << c.warnings[7];
}

TEST(TlsDirectives, IfModuleModSslIsTaken) {
  auto c = parse_ok(R"(Listen 80
DocumentRoot /srv
<IfModule mod_ssl.c>
  Listen 443
</IfModule>
<IfModule ssl_module>
  <VirtualHost _default_:443>
    SSLEngine on
    SSLCertificateFile /etc/ssl/certs/ssl-cert-snakeoil.pem
    SSLCertificateKeyFile /etc/ssl/private/ssl-cert-snakeoil.key
  </VirtualHost>
</IfModule>
<IfModule !mod_ssl.c>
  Frobnicate
</IfModule>
)");
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_TRUE(c.listeners[1].tls);
  ASSERT_EQ(c.vhosts.size(), 2u);
  EXPECT_TRUE(c.vhosts[1].tls.enabled);
}

// Key files are only stat()ed: a temp key with mode 644 is flagged, 600 is not.
class KeyFileWarnings : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/itkd-tls-conf-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const auto& f : files_) ::unlink(f.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string make(const std::string& name, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << "not a real key\n";
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    files_.push_back(path);
    return path;
  }
  std::string config(const std::string& cert, const std::string& key, const std::string& user) {
    return "Listen 443\nDocumentRoot /srv\nUser #2000\nGroup #2000\nFrontUser #65000\n"
           "FrontGroup #65000\n<VirtualHost *:443>\nServerName a.example\nAssignUserID " +
           user + " " + user + "\nSSLEngine on\nSSLCertificateFile " + cert +
           "\nSSLCertificateKeyFile " + key + "\n</VirtualHost>\n";
  }
  std::string dir_;
  std::vector<std::string> files_;
};

ParseOptions with_ids() {
  ParseOptions o;
  o.resolve_identities = true;
  return o;
}

std::string joined(const ServerConfig& c) {
  std::string all;
  for (const auto& w : c.warnings) all += w + "\n";
  return all;
}

TEST_F(KeyFileWarnings, GroupOrWorldReadableKeyIsFlagged) {
  std::string cert = make("cert.pem", 0644);
  std::string loose = make("loose.key", 0644);
  std::string tight = make("tight.key", 0600);
  // The pool runs as the files' owner (or root owns them), so only the mode matters here.
  std::string me = "#" + std::to_string(::getuid() == 0 ? 61001 : ::getuid());
  auto c = parse_ok(config(cert, loose, me), with_ids());
  EXPECT_TRUE(has(joined(c), "t.conf:10: key file " + loose +
                                 " is readable by group/others; chmod 600 it")) << joined(c);
  EXPECT_TRUE(has(describe_config(c), "warning: t.conf:10: key file " + loose));
  c = parse_ok(config(cert, tight, me), with_ids());
  EXPECT_TRUE(c.warnings.empty()) << joined(c);
  // Without identities (unit tests, fuzzing) nothing is stat()ed.
  c = parse_ok(config(cert, loose, me), no_ids());
  EXPECT_TRUE(c.warnings.empty()) << joined(c);
}

TEST_F(KeyFileWarnings, KeyOwnedBySomeoneElseAndMissingFiles) {
  std::string cert = make("cert.pem", 0644);
  std::string key = make("other.key", 0600);
  if (::getuid() == 0) {
    ASSERT_EQ(::chown(key.c_str(), 61005, 61005), 0);
  }
  uid_t owner = ::getuid() == 0 ? 61005 : ::getuid();
  auto c = parse_ok(config(cert, key, "#61002"), with_ids());
  EXPECT_TRUE(has(joined(c), "key file " + key + " is owned by uid " + std::to_string(owner) +
                                 ", neither root nor #61002 (uid 61002)")) << joined(c);
  c = parse_ok(config(cert, dir_ + "/missing.key", "#61002"), with_ids());
  EXPECT_TRUE(has(joined(c), "cannot stat key file " + dir_ + "/missing.key")) << joined(c);
}

}  // namespace
}  // namespace itkd
