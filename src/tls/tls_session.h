// A non-blocking server-side TLS session on a connected socket the worker received from the
// front. The ClientHello is still in the socket (the front only peeked), so OpenSSL reads it
// from the fd itself. The session does not own the fd; the connection does, and closes it
// after destroying the session.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "tls/tls_context.h"

namespace itkd::tls {

enum class IoStatus {
  Ok,         // done (read: *n > 0 bytes)
  WantRead,   // wait for EPOLLIN, then call the same function again
  WantWrite,  // wait for EPOLLOUT, then call the same function again (same arguments)
  Closed,     // the peer closed (close_notify or EOF)
  Error,      // fatal; see last_error(), then close the connection
};

std::string_view io_status_name(IoStatus status);

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

class TlsSession {
 public:
  // The handshake starts on `default_vhost`'s context (the vhost the front routed to); the
  // SNI callback may switch to another vhost of the set.
  static Result<std::unique_ptr<TlsSession>> accept(const TlsContextSet& contexts,
                                                    size_t default_vhost, int fd);

  // Call until Ok. Until then only handshake() may be called.
  IoStatus handshake();
  bool handshake_done() const;

  // Reads decrypted bytes. Ok with *n > 0, or WantRead/WantWrite/Closed/Error with *n = 0.
  // After Ok, call again while pending() is true: OpenSSL may hold decrypted bytes that
  // epoll won't report.
  IoStatus read(char* buf, size_t len, size_t* n);
  bool pending() const;

  // Writes up to len bytes; Ok with *n > 0 bytes accepted (may be less than len). After
  // WantRead/WantWrite, call again with the same bytes (the buffer may move).
  IoStatus write(const char* buf, size_t len, size_t* n);

  // Sends [*offset, *offset + *remaining) of file_fd, advancing both as bytes are accepted
  // by TLS. Ok when *remaining is 0. On WantWrite/WantRead, call again with the same file and
  // the updated offset/remaining; the chunk already handed to OpenSSL is kept inside the
  // session, so don't interleave write() until this returned Ok.
  IoStatus write_file(int file_fd, uint64_t* offset, uint64_t* remaining);

  // Sends close_notify (without waiting for the peer's). Ok when sent.
  IoStatus shutdown();

  const std::string& last_error() const { return last_error_; }
  int fd() const { return fd_; }
  // Lowercased server name the client sent, empty if none.
  std::string sni() const;
  // The vhost whose certificate is used (after the SNI callback ran).
  size_t vhost() const;
  std::string_view protocol() const;  // "TLSv1.3"
  std::string_view cipher() const;    // "TLS_AES_256_GCM_SHA384"
  std::string_view alpn() const;      // "http/1.1", or empty if none negotiated
  bool session_reused() const;
  SSL* ssl() const { return ssl_.get(); }

  TlsSession(const TlsContextSet& contexts, size_t default_vhost, int fd,
             std::unique_ptr<SSL, SslFree> ssl);

 private:
  IoStatus status_from(int ret, const char* what);

  const TlsContextSet& contexts_;
  size_t default_vhost_;
  int fd_;
  std::unique_ptr<SSL, SslFree> ssl_;
  std::string last_error_;
  // write_file's chunk: bytes [chunk_pos_, chunk_len_) are the file at *offset.
  std::array<char, 16384> chunk_{};
  size_t chunk_pos_ = 0;
  size_t chunk_len_ = 0;
};

}  // namespace itkd::tls
