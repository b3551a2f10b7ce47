#include "cgi/handler_test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <cstdlib>
#include <filesystem>

namespace itkd::test {

RequestFixture::RequestFixture(std::string r) {
  vhost.server_name = "a.example";
  vhost.document_root = "/srv/a";
  auto* l = reinterpret_cast<sockaddr_in*>(&local);
  l->sin_family = AF_INET;
  l->sin_port = htons(8080);
  inet_pton(AF_INET, "127.0.0.1", &l->sin_addr);
  auto* p = reinterpret_cast<sockaddr_in*>(&peer);
  p->sin_family = AF_INET;
  p->sin_port = htons(40000);
  inet_pton(AF_INET, "192.0.2.7", &p->sin_addr);
  char tmpl[] = "/tmp/itkd-test-log-XXXXXX";
  log_fd.reset(::mkstemp(tmpl));
  ::unlink(tmpl);
  log = ErrorLog(log_fd.get(), LogLevel::Debug);
  set_request(std::move(r));
}

void RequestFixture::set_request(std::string r) {
  raw = std::move(r);
  head = http::RequestHead{};
  auto outcome = http::parse_request_head(raw, http::ParseLimits{}, head);
  if (outcome.status != http::ParseStatus::Complete) std::abort();
  decoded_path = std::string(head.path);
}

HandlerRequest RequestFixture::request() {
  return HandlerRequest{config, vhost, 1, head, decoded_path, local, peer, false, loop, log};
}

std::string RequestFixture::log_text() const {
  std::string out;
  char buf[4096];
  off_t off = 0;
  ssize_t n;
  while ((n = ::pread(log_fd.get(), buf, sizeof buf, off)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

bool RequestFixture::run(FakeSink& sink, uint64_t timeout_ms) {
  if (sink.done) return true;
  bool timed_out = false;
  auto t = loop.add_timer(timeout_ms, [&] {
    timed_out = true;
    loop.stop();
  });
  while (!sink.done && !timed_out) {
    if (!loop.run()) break;
  }
  if (!timed_out) loop.cancel_timer(t);
  return sink.done;
}

// Live (not zombie) processes whose process group is `pgid`.
int live_in_group(pid_t pgid) {
  int n = 0;
  DIR* d = ::opendir("/proc");
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(f, line)) continue;
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    long ppid, pgrp;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z' && state != 'X') ++n;
  }
  ::closedir(d);
  return n;
}

int wait_group_gone(pid_t pgid, int ms) {
  int n = live_in_group(pgid);
  for (int i = 0; i < ms / 10 && n > 0; ++i) {
    ::usleep(10000);
    n = live_in_group(pgid);
  }
  return n;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/itkd-cgi-test-XXXXXX";
  path_ = ::mkdtemp(tmpl);
  ::chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content, unsigned mode) const {
  std::string p = path_ + "/" + name;
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  FILE* f = std::fopen(p.c_str(), "w");
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  ::chmod(p.c_str(), mode);
  return p;
}

}  // namespace itkd::test
