// One vhost's server-side TLS configuration (certificate, key, protocol policy) and the set
// of them a worker pool serves. Created in the worker after the privilege drop, so the
// kernel decides which key files this owner can read; the front never links this.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace itkd::tls {

// Apache's mod_ssl directives for one vhost.
struct TlsSettings {
  std::string name;                // the vhost's ServerName: messages + session id context
  std::string cert_file;           // SSLCertificateFile: leaf, optionally followed by chain
  std::string key_file;            // SSLCertificateKeyFile (empty: the key is in cert_file)
  std::string chain_file;          // SSLCertificateChainFile (optional)
  std::string protocols;           // SSLProtocol value; empty = TLSv1.2 + TLSv1.3
  std::string cipher_suite;        // SSLCipherSuite for TLS <= 1.2; empty = OpenSSL default
  std::string tls13_cipher_suites; // SSLCipherSuite TLSv1.3 ...; empty = OpenSSL default
  bool honor_cipher_order = false;  // SSLHonorCipherOrder (Apache default: off)
  bool session_tickets = true;      // SSLSessionTickets (Apache default: on)
};

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

// ALPN: the protocols itkd speaks, in preference order ("h2" is never claimed).
inline constexpr std::string_view kAlpnHttp11 = "http/1.1";

class TlsContext {
 public:
  // Loads and checks everything; errors name the file and OpenSSL's reason, e.g.
  // "cannot read key /srv/a/key.pem: Permission denied".
  static Result<TlsContext> create(const TlsSettings& settings);

  SSL_CTX* get() const { return ctx_.get(); }
  const std::string& name() const { return name_; }

 private:
  TlsContext(std::unique_ptr<SSL_CTX, SslCtxFree> ctx, std::string name)
      : ctx_(std::move(ctx)), name_(std::move(name)) {}
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
  std::string name_;
};

// The TLS vhosts one worker pool serves, keyed by vhost index. The SNI callback switches a
// handshake to the vhost the worker's resolver names, so one listener can carry many
// certificates. Session tickets are encrypted with the keys the set is created with: the
// master gives the same random keys to every worker of one pool and other keys to every
// other pool, so a ticket resumes in any worker of its owner's pool (any of its vhosts,
// subject to the per-vhost session id context), never in another owner's worker. The set
// must outlive the sessions created from it, and stays at one address (the SSL_CTX
// callbacks point at it).
class TlsContextSet {
 public:
  // OpenSSL's ticket key block: 16-byte name, 32-byte HMAC key, 32-byte AES key.
  using TicketKeys = std::array<unsigned char, 80>;

  // (sni lowercased without trailing dot, the vhost the front picked, the client socket)
  // -> vhost index among this pool's vhosts on the connection's local address (the fd
  // gives getsockname), or -1 to keep the front's vhost. Called once per handshake that
  // carries a server_name.
  using SniResolver = std::function<long(std::string_view sni, size_t default_vhost, int fd)>;

  static Result<std::unique_ptr<TlsContextSet>> create(SniResolver resolver, const TicketKeys& ticket_keys);
  struct Key {  // only create() can construct one
   private:
    friend class TlsContextSet;
    Key() = default;
  };
  explicit TlsContextSet(Key) {}
  TlsContextSet(const TlsContextSet&) = delete;
  TlsContextSet& operator=(const TlsContextSet&) = delete;

  // Creates the vhost's context; on error the set is unchanged (the worker logs the error
  // and keeps serving its other vhosts).
  Result<void> add(size_t vhost, const TlsSettings& settings);

  const TlsContext* find(size_t vhost) const;
  // The vhost whose SSL_CTX this is, or -1.
  long vhost_of(const SSL_CTX* ctx) const;
  bool empty() const { return contexts_.empty(); }
  size_t size() const { return contexts_.size(); }

 private:
  static int on_server_name(SSL* ssl, int* alert, void* arg);

  SniResolver resolver_;
  std::map<size_t, TlsContext> contexts_;
  TicketKeys ticket_keys_{};
};

// The first queued OpenSSL error as text ("Permission denied", "key values mismatch"), or
// `fallback`; clears the queue.
std::string openssl_error(std::string_view fallback = "unknown OpenSSL error");

}  // namespace itkd::tls
