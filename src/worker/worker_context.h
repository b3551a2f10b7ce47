// What a connection needs from the worker that owns it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/server_config.h"
#include "config/vhost_router.h"
#include "event/event_loop.h"
#include "log/access_log_format.h"
#include "log/error_log.h"
#include "worker/static/mime_types.h"

namespace itkd {

class AsyncHandler;
class Connection;
class FcgidProcessManager;
class HandlerMemo;
class HtaccessViews;
class OpenFileCache;
namespace tls {
class TlsContextSet;
}

struct VhostLogs {
  ErrorLog error;
  struct Access {
    int fd = -1;
    AccessLogFormat format;
    std::string env_condition;  // CustomLog env=[!]NAME ("" = every request)
    bool env_negated = false;
  };
  std::vector<Access> access;
};

class WorkerContext {
 public:
  virtual ~WorkerContext() = default;
  virtual const ServerConfig& config() const = 0;
  virtual const VhostRouter& router() const = 0;
  virtual const MimeTypes& mime() const = 0;
  virtual OpenFileCache& open_files() = 0;
  virtual HandlerMemo& handler_memo() = 0;
  // The .htaccess files this worker read, and the vhosts as they make them.
  virtual HtaccessViews& htaccess() = 0;
  virtual EventLoop& loop() = 0;
  virtual size_t pool() const = 0;
  virtual const VhostLogs& logs(size_t vhost) const = 0;
  virtual const ErrorLog& worker_log() const = 0;
  // Queues an access-log line (with its newline); written at the end of the loop turn.
  virtual void log_access(int fd, std::string_view line) = 0;
  // Calls conn.flush_queued() at the end of this turn of the loop (if it still exists).
  virtual void flush_later(uint64_t connection_id) = 0;
  // Keeps a finished handler alive until the end of this turn of the loop: it may be on
  // the call stack (it called the connection that let it go).
  virtual void destroy_later(std::shared_ptr<AsyncHandler> handler) = 0;
  // The worker is leaving: responses say Connection: close, and it exits once its
  // connections are done.
  virtual bool stopping() const = 0;
  // Leaving now (SIGTERM), not gracefully (SIGQUIT, a reload): idle keep-alive connections
  // close at once instead of getting their next request answered.
  virtual bool closing_idle() const = 0;
  // Whether the vhost configures CGI/FastCGI at all (else every request is static).
  virtual bool has_dynamic(size_t vhost) const = 0;
  // This worker's mod_fcgid-style process manager (the owner's own PHP processes).
  virtual FcgidProcessManager& fcgid() = 0;
  // The owner's TLS certificates and keys, loaded after dropping privileges; null if none.
  virtual const tls::TlsContextSet* tls_contexts() const = 0;
  // The connection is finished; `handed_back` if the socket went back to the front.
  virtual void connection_closed(Connection& conn, bool handed_back) = 0;
  // Gives the socket and the unread bytes back to the front it came from, at the end of
  // this turn with the others that go there (one message). Takes fd; false if impossible.
  virtual bool hand_back(Connection& conn, UniqueFd& fd, std::string_view unread) = 0;
};

}  // namespace itkd
