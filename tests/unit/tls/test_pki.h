// Test-only PKI and TLS client helpers: a throwaway CA and leaf certificates written as PEM
// files into a temporary directory, and an OpenSSL client driven over a socketpair.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace itkd::tls::testing {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFreeT {
  void operator()(SSL* s) const { SSL_free(s); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFreeT>;

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A CA plus leaves "alice.test" and "bob.test" (CN and SAN), each signed by the CA:
// ca.pem, alice.pem, alice.key, bob.pem, bob.key in dir.
struct Pki {
  TempDir dir;
  std::string ca_file, alice_cert, alice_key, bob_cert, bob_key;
  Pki();
};

// Non-blocking AF_UNIX stream pair: [0] server side, [1] client side.
struct SocketPair {
  UniqueFd server, client;
  SocketPair();
};

// A client context trusting ca_file (empty: no verification).
CtxPtr client_context(const std::string& ca_file);
SslPtr client_ssl(SSL_CTX* ctx, int fd, const std::string& sni,
                  const std::vector<std::string>& alpn = {});

// The bytes an OpenSSL client sends first (its ClientHello records).
std::string capture_client_hello(const std::string& sni, const std::vector<std::string>& alpn);

// Common name of the certificate the server presented.
std::string peer_common_name(SSL* client);

}  // namespace itkd::tls::testing
