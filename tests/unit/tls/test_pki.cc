#include "test_pki.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace itkd::tls::testing {
namespace {

PkeyPtr make_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("EVP_EC_gen failed");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) throw std::runtime_error("X509V3_EXT_conf_nid failed");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509Ptr make_cert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                  bool ca, long serial) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * 30);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer == nullptr ? cert.get() : issuer;
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), signer, NID_basic_constraints, "CA:FALSE");
    add_ext(cert.get(), signer, NID_subject_alt_name, ("DNS:" + cn).c_str());
  }
  if (X509_sign(cert.get(), issuer_key == nullptr ? key : issuer_key, EVP_sha256()) == 0) {
    throw std::runtime_error("X509_sign failed");
  }
  return cert;
}

void write_cert(const std::string& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
}

void write_key(const std::string& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

}  // namespace

TempDir::TempDir() {
  char templ[] = "/tmp/itkd-tls-test-XXXXXX";
  if (mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Pki::Pki() {
  PkeyPtr ca_key = make_key();
  X509Ptr ca = make_cert("itkd test CA", ca_key.get(), nullptr, nullptr, true, 1);
  ca_file = dir.file("ca.pem");
  write_cert(ca_file, ca.get());
  long serial = 2;
  for (const char* who : {"alice", "bob"}) {
    PkeyPtr key = make_key();
    X509Ptr leaf = make_cert(std::string(who) + ".test", key.get(), ca.get(), ca_key.get(),
                             false, serial++);
    write_cert(dir.file(std::string(who) + ".pem"), leaf.get());
    write_key(dir.file(std::string(who) + ".key"), key.get());
  }
  alice_cert = dir.file("alice.pem");
  alice_key = dir.file("alice.key");
  bob_cert = dir.file("bob.pem");
  bob_key = dir.file("bob.key");
}

SocketPair::SocketPair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::runtime_error("socketpair failed");
  }
  server.reset(fds[0]);
  client.reset(fds[1]);
}

CtxPtr client_context(const std::string& ca_file) {
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ca_file.empty()) {
    SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

SslPtr client_ssl(SSL_CTX* ctx, int fd, const std::string& sni,
                  const std::vector<std::string>& alpn) {
  SslPtr ssl(SSL_new(ctx));
  SSL_set_fd(ssl.get(), fd);
  SSL_set_connect_state(ssl.get());
  if (!sni.empty()) {
    SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
    SSL_set1_host(ssl.get(), sni.c_str());
  }
  if (!alpn.empty()) {
    std::string wire;
    for (const auto& p : alpn) {
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
    }
    SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  return ssl;
}

std::string capture_client_hello(const std::string& sni, const std::vector<std::string>& alpn) {
  SocketPair pair;
  CtxPtr ctx = client_context("");
  SslPtr ssl = client_ssl(ctx.get(), pair.client.get(), sni, alpn);
  SSL_connect(ssl.get());  // writes the ClientHello, then wants to read
  ERR_clear_error();
  std::string bytes;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pair.server.get(), buf, sizeof(buf))) > 0) bytes.append(buf, n);
  return bytes;
}

std::string peer_common_name(SSL* client) {
  X509* cert = SSL_get1_peer_certificate(client);
  if (cert == nullptr) return {};
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  X509_free(cert);
  return cn;
}

}  // namespace itkd::tls::testing
