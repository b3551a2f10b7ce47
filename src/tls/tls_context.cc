#include "tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tls/ssl_protocol.h"

namespace itkd::tls {
namespace {

// ALPN wire format of what we accept, in our preference order. http/1.0 is accepted as
// nginx does; h2 is not offered until itkd speaks it.
constexpr long kSessionCacheSize = 4096;  // per vhost, only when tickets are off

constexpr unsigned char kAlpnServer[] = "\x08http/1.1\x08http/1.0";

// nginx's choice: a client that offers ALPN but none of our protocols gets a fatal
// no_application_protocol alert (RFC 7301 3.2) instead of a silent mismatch.
int on_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
            unsigned int inlen, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnServer, sizeof(kAlpnServer) - 1, in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::string openssl_error(std::string_view fallback) {
  const unsigned long e = ERR_peek_error();
  std::string text;
  if (e == 0) {
    text = fallback;
  } else if (ERR_SYSTEM_ERROR(e)) {
    // fopen() and friends: report errno's text, which is what an admin can act on.
    text = std::strerror(ERR_GET_REASON(e));
  } else if (const char* reason = ERR_reason_error_string(e)) {
    text = reason;
  } else {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    text = buf;
  }
  ERR_clear_error();
  return text;
}

Result<TlsContext> TlsContext::create(const TlsSettings& s) {
  ERR_clear_error();
  const std::string where = s.name.empty() ? std::string() : " (vhost " + s.name + ")";
  auto range = parse_ssl_protocol(s.protocols);
  if (!range) return Error{range.error().message + where};

  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Error{"cannot create a TLS context" + where + ": " + openssl_error()};
  SSL_CTX* c = ctx.get();

  if (!SSL_CTX_set_min_proto_version(c, range->min_version) ||
      !SSL_CTX_set_max_proto_version(c, range->max_version)) {
    return Error{"cannot set SSLProtocol" + where + ": " + openssl_error()};
  }
  // Client-initiated renegotiation only costs the server CPU; unexpected EOF is treated as
  // a close like nginx does (request framing, not the TLS close, delimits HTTP/1.1).
  uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF;
  if (s.honor_cipher_order) options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  if (!s.session_tickets) options |= SSL_OP_NO_TICKET;
  // With tickets the server keeps no per-session state (memory stays flat however many
  // clients come); without them resumption needs the in-process cache, kept bounded.
  if (s.session_tickets) {
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  } else {
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(c, kSessionCacheSize);
  }
  SSL_CTX_set_options(c, options);
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                          SSL_MODE_RELEASE_BUFFERS);
  // Read what the socket has in one read(2), not a 5-byte record header and then its
  // body: strace showed ~2.7 reads per keep-alive HTTPS request without it.
  SSL_CTX_set_read_ahead(c, 1);

  if (!s.cipher_suite.empty() && !SSL_CTX_set_cipher_list(c, s.cipher_suite.c_str())) {
    return Error{"SSLCipherSuite '" + s.cipher_suite + "'" + where + ": " + openssl_error()};
  }
  if (!s.tls13_cipher_suites.empty() &&
      !SSL_CTX_set_ciphersuites(c, s.tls13_cipher_suites.c_str())) {
    return Error{"SSLCipherSuite TLSv1.3 '" + s.tls13_cipher_suites + "'" + where + ": " +
                 openssl_error()};
  }

  if (s.cert_file.empty()) return Error{"SSLCertificateFile is not set" + where};
  if (SSL_CTX_use_certificate_chain_file(c, s.cert_file.c_str()) != 1) {
    return Error{"cannot read certificate " + s.cert_file + where + ": " + openssl_error()};
  }
  // SSLCertificateChainFile: extra CA certificates sent after the leaf.
  if (!s.chain_file.empty()) {
    FILE* f = std::fopen(s.chain_file.c_str(), "re");
    if (f == nullptr) {
      return Error{"cannot read certificate chain " + s.chain_file + where + ": " +
                   std::strerror(errno)};
    }
    int added = 0;
    while (X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
      if (SSL_CTX_add0_chain_cert(c, cert) != 1) {
        X509_free(cert);
        std::fclose(f);
        return Error{"cannot use certificate chain " + s.chain_file + where + ": " +
                     openssl_error()};
      }
      ++added;
    }
    std::fclose(f);
    // The loop ends on "no start line" at end of file; anything else is a broken file.
    const unsigned long e = ERR_peek_last_error();
    if (added == 0 || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
      return Error{"cannot read certificate chain " + s.chain_file + where + ": " +
                   (added == 0 ? std::string("no certificate in file") : openssl_error())};
    }
    ERR_clear_error();
  }
  const std::string& key = s.key_file.empty() ? s.cert_file : s.key_file;
  if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL already compares the key with the leaf here; say so in the admin's words.
    const unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return Error{"key " + key + " does not match certificate " + s.cert_file + where};
    }
    return Error{"cannot read key " + key + where + ": " + openssl_error()};
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return Error{"key " + key + " does not match certificate " + s.cert_file + where + ": " +
                 openssl_error()};
  }

  // Sessions are only resumed for the vhost that created them (a session for one name must
  // not skip certificate selection for another). The context is at most 32 bytes: hash.
  unsigned char sid[EVP_MAX_MD_SIZE];
  unsigned int sid_len = 0;
  const std::string sid_source = "itkd vhost " + s.name;
  if (!EVP_Digest(sid_source.data(), sid_source.size(), sid, &sid_len, EVP_sha256(), nullptr) ||
      !SSL_CTX_set_session_id_context(c, sid, sid_len)) {
    return Error{"cannot set the session id context" + where + ": " + openssl_error()};
  }
  SSL_CTX_set_alpn_select_cb(c, on_alpn, nullptr);
  return TlsContext(std::move(ctx), s.name);
}

Result<std::unique_ptr<TlsContextSet>> TlsContextSet::create(SniResolver resolver,
                                                             const TicketKeys& ticket_keys) {
  if (std::all_of(ticket_keys.begin(), ticket_keys.end(), [](unsigned char b) { return b == 0; }))
    return Error{"no session ticket keys"};
  auto set = std::make_unique<TlsContextSet>(Key{});
  set->resolver_ = std::move(resolver);
  set->ticket_keys_ = ticket_keys;
  return set;
}

Result<void> TlsContextSet::add(size_t vhost, const TlsSettings& settings) {
  auto context = TlsContext::create(settings);
  if (!context) return context.error();
  SSL_CTX* c = context->get();
  // OpenSSL decrypts tickets with the context the connection started on (the front's
  // choice), so every context of the set carries the same keys.
  if (SSL_CTX_set_tlsext_ticket_keys(c, ticket_keys_.data(),
                                     static_cast<long>(ticket_keys_.size())) != 1) {
    return Error{"cannot install session ticket keys for " + settings.name + ": " +
                 openssl_error()};
  }
  SSL_CTX_set_tlsext_servername_callback(c, on_server_name);
  SSL_CTX_set_tlsext_servername_arg(c, this);
  contexts_.insert_or_assign(vhost, std::move(context).value());
  return ok();
}

const TlsContext* TlsContextSet::find(size_t vhost) const {
  auto it = contexts_.find(vhost);
  return it == contexts_.end() ? nullptr : &it->second;
}

long TlsContextSet::vhost_of(const SSL_CTX* ctx) const {
  for (const auto& [vhost, context] : contexts_) {
    if (context.get() == ctx) return static_cast<long>(vhost);
  }
  return -1;
}

// An unknown or absent name keeps the vhost the front chose (the listener's default for
// that name), as Apache does; only a name of another of this pool's vhosts switches.
int TlsContextSet::on_server_name(SSL* ssl, int*, void* arg) {
  auto* set = static_cast<TlsContextSet*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr || !set->resolver_) return SSL_TLSEXT_ERR_OK;
  std::string host(name);
  for (char& ch : host) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  if (!host.empty() && host.back() == '.') host.pop_back();
  // Still the context the connection started on: the front's choice.
  const long current = set->vhost_of(SSL_get_SSL_CTX(ssl));
  if (current < 0) return SSL_TLSEXT_ERR_OK;
  const long vhost = set->resolver_(host, static_cast<size_t>(current), SSL_get_fd(ssl));
  if (vhost < 0) return SSL_TLSEXT_ERR_OK;
  const TlsContext* context = set->find(static_cast<size_t>(vhost));
  if (context != nullptr && context->get() != SSL_get_SSL_CTX(ssl)) {
    SSL_set_SSL_CTX(ssl, context->get());
    // SSL_set_SSL_CTX swaps the certificate, key and session id context, and the cipher
    // list follows the context; options were copied at SSL_new, so copy them again (as
    // nginx does). The version is already chosen here, so SSLProtocol comes from the
    // vhost the front picked, which is this same vhost whenever the front saw this SNI.
    SSL_clear_options(ssl, ~SSL_CTX_get_options(context->get()));
    SSL_set_options(ssl, SSL_CTX_get_options(context->get()));
  }
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace itkd::tls
