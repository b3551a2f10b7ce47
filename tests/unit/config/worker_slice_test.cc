// ParseOptions::full_vhosts_of: a worker parses its own owner's vhosts in full and only
// the routing part of everyone else's, with the same vhost and pool numbering as the
// master's full parse (handoffs and shared counters are indexed by them).
#include <gtest/gtest.h>

#include "config/config_parser.h"

namespace itkd {
namespace {

ParseOptions as_worker(uint32_t uid, uint32_t gid) {
  ParseOptions o;
  o.resolve_identities = false;
  o.full_vhosts_of = ParseOptions::Identity{uid, gid};
  return o;
}

ParseOptions as_master() {
  ParseOptions o;
  o.resolve_identities = false;
  return o;
}

const char* kTwoOwners =
    "Listen 80\n"
    "Listen 443\n"
    "DocumentRoot /srv/main\n"
    "Timeout 17\n"
    "<VirtualHost *:80>\n"
    "  ServerName a.test\n"
    "  ServerAlias www.a.test *.a.example\n"
    "  DocumentRoot /srv/a\n"
    "  AssignUserID #61001 #61001\n"
    "  <Directory /srv/a>\n    Options -Indexes\n  </Directory>\n"
    "  AddHandler cgi-script .cgi\n"
    "</VirtualHost>\n"
    "<VirtualHost *:80>\n"
    "  DocumentRoot /srv/b\n"
    "  ServerName B.test:80\n"
    "  <FilesMatch \\.php$>\n    SetHandler \"proxy:unix:/run/b.sock|fcgi://localhost\"\n  </FilesMatch>\n"
    "  AssignUserID #61002 #61002\n"
    "  MaxClientsVHost 3\n"
    "</VirtualHost>\n"
    "<VirtualHost *:443>\n"
    "  ServerName b.test\n"
    "  AssignUserID #61002 #61002\n"
    "  SSLEngine on\n"
    "  SSLCertificateFile /etc/b/cert.pem\n"
    "  DocumentRoot /srv/b\n"
    "</VirtualHost>\n"
    "<VirtualHost *:443>\n"
    "  ServerName a.test\n"
    "  SSLEngine on\n"
    "  SSLCertificateFile /etc/a/cert.pem\n"
    "  DocumentRoot /srv/a\n"
    "  AssignUserID #61001 #61001\n"
    "</VirtualHost>\n";

TEST(WorkerSlice, OwnVhostsAreParsedInFullOthersKeepOnlyRouting) {
  auto full = parse_config_text(kTwoOwners, "t.conf", as_master());
  ASSERT_TRUE(full.ok()) << full.error().message;
  auto alice = parse_config_text(kTwoOwners, "t.conf", as_worker(61001, 61001));
  ASSERT_TRUE(alice.ok()) << alice.error().message;

  ASSERT_EQ(alice->vhosts.size(), full->vhosts.size());
  ASSERT_EQ(alice->pools.size(), full->pools.size());
  for (size_t p = 0; p < full->pools.size(); ++p) {
    EXPECT_EQ(alice->pools[p].user, full->pools[p].user);
    EXPECT_EQ(alice->pools[p].vhosts, full->pools[p].vhosts);
  }
  for (size_t i = 0; i < full->vhosts.size(); ++i) {
    const VirtualHost& f = full->vhosts[i];
    const VirtualHost& w = alice->vhosts[i];
    // What routing needs is the same for every vhost.
    EXPECT_EQ(w.pool, f.pool) << i;
    EXPECT_EQ(w.server_name, f.server_name) << i;
    EXPECT_EQ(w.server_aliases, f.server_aliases) << i;
    ASSERT_EQ(w.addresses.size(), f.addresses.size()) << i;
    for (size_t a = 0; a < f.addresses.size(); ++a) EXPECT_EQ(w.addresses[a].port, f.addresses[a].port) << i;
    EXPECT_EQ(w.tls.enabled, f.tls.enabled) << i;
    EXPECT_EQ(w.assign_user, f.assign_user) << i;
  }
  EXPECT_EQ(alice->listeners[0].tls, false);
  EXPECT_EQ(alice->listeners[1].tls, true);

  // Alice's own vhosts are complete, with the globals merged in.
  const VirtualHost& a80 = alice->vhosts[1];
  EXPECT_EQ(a80.document_root, "/srv/a");
  EXPECT_EQ(a80.limits.timeout_s, 17u);
  EXPECT_EQ(a80.server_aliases.size(), 2u);
  EXPECT_EQ(a80.add_handlers.count(".cgi"), 1u);
  EXPECT_FALSE(a80.directories.empty());
  EXPECT_EQ(alice->vhosts[4].tls.certificate_file, "/etc/a/cert.pem");
  EXPECT_EQ(alice->vhosts[4].tls.certificate_key_file, "/etc/a/cert.pem");

  // Bob's are only what routing needs: none of his paths, handlers or limits.
  const VirtualHost& b80 = alice->vhosts[2];
  EXPECT_EQ(b80.server_name, "b.test");
  EXPECT_TRUE(b80.document_root.empty());
  EXPECT_TRUE(b80.files_blocks.empty());
  EXPECT_EQ(b80.max_clients, 0u);
  EXPECT_EQ(full->vhosts[2].max_clients, 3u);
  EXPECT_TRUE(alice->vhosts[3].tls.certificate_file.empty());

  // And the other way round.
  auto bob = parse_config_text(kTwoOwners, "t.conf", as_worker(61002, 61002));
  ASSERT_TRUE(bob.ok()) << bob.error().message;
  EXPECT_EQ(bob->vhosts[2].document_root, "/srv/b");
  EXPECT_EQ(bob->vhosts[2].max_clients, 3u);
  EXPECT_FALSE(bob->vhosts[2].files_blocks.empty());
  EXPECT_TRUE(bob->vhosts[1].document_root.empty());
  EXPECT_TRUE(bob->vhosts[1].add_handlers.empty());
}

TEST(WorkerSlice, SslEngineAndServerNameInheritedFromServerLevelStillRoute) {
  const char* text =
      "Listen 443\nDocumentRoot /srv\nServerName main.test\nSSLEngine on\n"
      "SSLCertificateFile /etc/c.pem\n"
      "<VirtualHost *:443>\n  AssignUserID #61002 #61002\n</VirtualHost>\n"
      "<VirtualHost *:443>\n  ServerName a.test\n  AssignUserID #61001 #61001\n</VirtualHost>\n";
  auto alice = parse_config_text(text, "t.conf", as_worker(61001, 61001));
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  EXPECT_TRUE(alice->vhosts[1].tls.enabled);
  EXPECT_EQ(alice->vhosts[1].server_name, "main.test");
  EXPECT_TRUE(alice->listeners[0].tls);
  EXPECT_EQ(alice->vhosts[2].tls.certificate_file, "/etc/c.pem");
}

TEST(WorkerSlice, UnusualBlocksAreParsedInFull) {
  // AssignUserID inside a condition, an Include or a Define in another owner's block:
  // the skim can't be sure, so the block is parsed as the master parses it.
  const char* text =
      "Listen 80\nDocumentRoot /srv\n"
      "<VirtualHost *:80>\n  ServerName b.test\n  DocumentRoot /srv/b\n"
      "  <IfModule mod_ssl.c>\n    AssignUserID #61002 #61002\n  </IfModule>\n</VirtualHost>\n"
      "<VirtualHost *:80>\n  ServerName c.test\n  DocumentRoot /srv/c\n  Define X 1\n"
      "  AssignUserID #61003 #61003\n</VirtualHost>\n"
      "<VirtualHost *:80>\n  ServerName d.test\n  DocumentRoot /srv/d\n"
      "  AssignUserID #61004 #61004\n</VirtualHost>\n";
  auto alice = parse_config_text(text, "t.conf", as_worker(61001, 61001));
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  EXPECT_EQ(alice->vhosts[1].document_root, "/srv/b");
  EXPECT_EQ(alice->vhosts[2].document_root, "/srv/c");
  EXPECT_TRUE(alice->vhosts[3].document_root.empty());
  EXPECT_EQ(alice->pools.size(), 4u);
}

TEST(WorkerSlice, VhostWithoutAssignUserIdBelongsToTheGlobalUserAndIsParsedInFull) {
  const char* text =
      "Listen 80\nDocumentRoot /srv\nUser #61001\nGroup #61001\n"
      "<VirtualHost *:80>\n  ServerName a.test\n  DocumentRoot /srv/a\n</VirtualHost>\n";
  auto alice = parse_config_text(text, "t.conf", as_worker(61001, 61001));
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  EXPECT_EQ(alice->vhosts[1].document_root, "/srv/a");
}

}  // namespace
}  // namespace itkd
