#include "tls/tls_session.h"

#include <openssl/err.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace itkd::tls {

std::string_view io_status_name(IoStatus status) {
  switch (status) {
    case IoStatus::Ok: return "ok";
    case IoStatus::WantRead: return "want read";
    case IoStatus::WantWrite: return "want write";
    case IoStatus::Closed: return "closed";
    case IoStatus::Error: return "error";
  }
  return "unknown";
}

TlsSession::TlsSession(const TlsContextSet& contexts, size_t default_vhost, int fd,
                       std::unique_ptr<SSL, SslFree> ssl)
    : contexts_(contexts), default_vhost_(default_vhost), fd_(fd), ssl_(std::move(ssl)) {}

Result<std::unique_ptr<TlsSession>> TlsSession::accept(const TlsContextSet& contexts,
                                                       size_t default_vhost, int fd) {
  const TlsContext* context = contexts.find(default_vhost);
  if (context == nullptr) {
    return Error{"no TLS context for vhost " + std::to_string(default_vhost) +
                 " in this pool (its certificate or key failed to load?)"};
  }
  ERR_clear_error();
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(context->get()));
  if (!ssl) return Error{"cannot create a TLS session: " + openssl_error()};
  if (SSL_set_fd(ssl.get(), fd) != 1) {
    return Error{"cannot attach the TLS session to fd " + std::to_string(fd) + ": " +
                 openssl_error()};
  }
  SSL_set_accept_state(ssl.get());
  return std::make_unique<TlsSession>(contexts, default_vhost, fd, std::move(ssl));
}

// Maps OpenSSL's result to IoStatus. The error queue is per thread and must be empty before
// each call for SSL_get_error to be right; every caller clears it first.
IoStatus TlsSession::status_from(int ret, const char* what) {
  const int err = SSL_get_error(ssl_.get(), ret);
  switch (err) {
    case SSL_ERROR_WANT_READ: return IoStatus::WantRead;
    case SSL_ERROR_WANT_WRITE: return IoStatus::WantWrite;
    case SSL_ERROR_ZERO_RETURN: return IoStatus::Closed;
    case SSL_ERROR_SYSCALL: {
      const int saved = errno;
      // A reset or a write to a closed peer is the client going away, not a server fault.
      if (ERR_peek_error() == 0 && (saved == 0 || saved == EPIPE || saved == ECONNRESET)) {
        return IoStatus::Closed;
      }
      if (ERR_peek_error() == 0) {
        last_error_ = std::string(what) + ": " + std::strerror(saved);
      } else {
        last_error_ = std::string(what) + ": " + openssl_error();
      }
      ERR_clear_error();
      return IoStatus::Error;
    }
    default:
      last_error_ = std::string(what) + ": " + openssl_error();
      return IoStatus::Error;
  }
}

IoStatus TlsSession::handshake() {
  ERR_clear_error();
  const int ret = SSL_do_handshake(ssl_.get());
  if (ret == 1) return IoStatus::Ok;
  return status_from(ret, "TLS handshake failed");
}

bool TlsSession::handshake_done() const { return SSL_is_init_finished(ssl_.get()) == 1; }

IoStatus TlsSession::read(char* buf, size_t len, size_t* n) {
  *n = 0;
  ERR_clear_error();
  if (SSL_read_ex(ssl_.get(), buf, len, n) == 1) return IoStatus::Ok;
  return status_from(0, "TLS read failed");
}

// SSL_has_pending, not SSL_pending: with read-ahead, whole records may wait undecrypted in
// OpenSSL's buffer, where epoll can't see them.
bool TlsSession::pending() const { return SSL_has_pending(ssl_.get()) == 1; }

IoStatus TlsSession::write(const char* buf, size_t len, size_t* n) {
  *n = 0;
  if (len == 0) return IoStatus::Ok;
  ERR_clear_error();
  if (SSL_write_ex(ssl_.get(), buf, len, n) == 1) return IoStatus::Ok;
  return status_from(0, "TLS write failed");
}

IoStatus TlsSession::write_file(int file_fd, uint64_t* offset, uint64_t* remaining) {
  while (*remaining > 0) {
    // Refill only when OpenSSL took the whole previous chunk: after WANT_WRITE it must be
    // offered the same bytes again.
    if (chunk_pos_ == chunk_len_) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(*remaining, chunk_.size()));
      ssize_t got;
      do {
        got = ::pread(file_fd, chunk_.data(), want, static_cast<off_t>(*offset));
      } while (got < 0 && errno == EINTR);
      if (got < 0) {
        last_error_ = std::string("cannot read the file being sent: ") + std::strerror(errno);
        return IoStatus::Error;
      }
      if (got == 0) {
        last_error_ = "the file being sent ended early (truncated while sending?)";
        return IoStatus::Error;
      }
      chunk_pos_ = 0;
      chunk_len_ = static_cast<size_t>(got);
    }
    size_t n = 0;
    const IoStatus status = write(chunk_.data() + chunk_pos_, chunk_len_ - chunk_pos_, &n);
    if (status != IoStatus::Ok) return status;
    chunk_pos_ += n;
    *offset += n;
    *remaining -= n;
  }
  chunk_pos_ = chunk_len_ = 0;
  return IoStatus::Ok;
}

IoStatus TlsSession::shutdown() {
  // Nothing to close politely before the handshake finished.
  if (!handshake_done()) return IoStatus::Ok;
  ERR_clear_error();
  const int ret = SSL_shutdown(ssl_.get());
  if (ret >= 0) return IoStatus::Ok;  // 0: our close_notify is sent; we don't wait for theirs
  return status_from(ret, "TLS shutdown failed");
}

std::string TlsSession::sni() const {
  const char* name = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
  std::string host = name == nullptr ? std::string() : std::string(name);
  for (char& c : host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return host;
}

size_t TlsSession::vhost() const {
  const long v = contexts_.vhost_of(SSL_get_SSL_CTX(ssl_.get()));
  return v < 0 ? default_vhost_ : static_cast<size_t>(v);
}

std::string_view TlsSession::protocol() const { return SSL_get_version(ssl_.get()); }

std::string_view TlsSession::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_.get());
  return name == nullptr ? std::string_view() : std::string_view(name);
}

std::string_view TlsSession::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &data, &len);
  if (data == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(data), len);
}

bool TlsSession::session_reused() const { return SSL_session_reused(ssl_.get()) == 1; }

}  // namespace itkd::tls
