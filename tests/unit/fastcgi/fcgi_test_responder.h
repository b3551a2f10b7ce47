// A small FastCGI responder for tests, speaking the protocol with blocking sockets in a
// forked process. It answers every request with the script name, the body it got and
// its pid, and can be told to misbehave.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace itkd::test {

// CloseAfterAnswer: answers, then closes the connection even if the request asked to keep
// it (as php-cgi may between requests), and keeps accepting.
enum class ResponderMode { Normal, Silent, Overloaded, CloseEarly, CloseAfterAnswer };

// Serves connections on `listen_fd` until killed.
[[noreturn]] void run_responder(int listen_fd, ResponderMode mode);

// Forks a responder listening on a fresh unix socket at `path`; returns its pid.
pid_t start_responder(const std::string& path, ResponderMode mode);
// The same on 127.0.0.1, on a port the kernel picks (returned in `port`).
pid_t start_tcp_responder(uint16_t& port, ResponderMode mode);

}  // namespace itkd::test
