#include "static_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace itkd::test {

http::RequestHead TestRequest::head() const {
  http::RequestHead h;
  h.method = method;
  h.method_text = method_text;
  h.path = path;
  h.target = path;
  h.form = form;
  h.query = query;
  h.has_query = has_query;
  h.host = "example.com";
  for (const auto& [name, value] : headers) h.fields.push_back({name, value});
  return h;
}

void StaticFixture::SetUp() {
  char tmpl[] = "/tmp/itkd-static-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  root_ = tmpl;
  // Searchable by everyone, so the tree behaves the same for root and non-root runs.
  chmod(root_.c_str(), 0755);
  docroot_ = root_ + "/www";
  make_dir("www");
  vhost_.server_name = "example.com";
  vhost_.document_root = docroot_;
}

void StaticFixture::TearDown() {
  if (root_.empty()) return;
  // Restore permissions first so the removal itself can't fail on a mode 000 file.
  nftw(root_.c_str(),
       [](const char* p, const struct stat* st, int type, struct FTW*) {
         if (type == FTW_D || type == FTW_DP) chmod(p, 0755);
         (void)st;
         return 0;
       },
       16, FTW_PHYS);
  nftw(root_.c_str(),
       [](const char* p, const struct stat*, int, struct FTW*) { return remove(p); }, 16,
       FTW_DEPTH | FTW_PHYS);
}

void StaticFixture::write_file(const std::string& rel, const std::string& content, mode_t mode) {
  std::string p = abs(rel);
  int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << p;
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
  ASSERT_EQ(chmod(p.c_str(), mode), 0);
}

void StaticFixture::make_dir(const std::string& rel, mode_t mode) {
  std::string p = abs(rel);
  ASSERT_EQ(mkdir(p.c_str(), mode), 0) << p;
  ASSERT_EQ(chmod(p.c_str(), mode), 0);
}

void StaticFixture::make_symlink(const std::string& target, const std::string& rel) {
  ASSERT_EQ(symlink(target.c_str(), abs(rel).c_str()), 0) << rel;
}

void StaticFixture::set_root_options(unsigned options) { add_directory("www", options); }

DirectoryBlock& StaticFixture::add_directory(const std::string& rel, unsigned options) {
  DirectoryBlock block;
  block.path = rel.empty() ? root_ : abs(rel);
  block.options = options;
  vhost_.directories.push_back(block);
  return vhost_.directories.back();
}

StaticResponse StaticFixture::request(const TestRequest& r) {
  http::RequestHead h = r.head();
  StaticRequest req{vhost_, h, mime_, "http", "example.com", files_, now_ms_, true, client_};
  req.runs_handler = runs_handler_;
  return serve_static(req);
}

StaticResponse StaticFixture::get(const std::string& path,
                                  std::vector<std::pair<std::string, std::string>> headers) {
  TestRequest r;
  size_t q = path.find('?');
  r.path = path.substr(0, q);
  if (q != std::string::npos) {
    r.query = path.substr(q + 1);
    r.has_query = true;
  }
  r.headers = std::move(headers);
  return request(r);
}

StaticResponse StaticFixture::head(const std::string& path,
                                   std::vector<std::pair<std::string, std::string>> headers) {
  TestRequest r;
  r.method = http::Method::Head;
  r.method_text = "HEAD";
  r.path = path;
  r.headers = std::move(headers);
  return request(r);
}

StaticResponse StaticFixture::method(http::Method m, const std::string& text,
                                     const std::string& path) {
  TestRequest r;
  r.method = m;
  r.method_text = text;
  r.path = path;
  return request(r);
}

std::string StaticFixture::body_of(const StaticResponse& r) {
  if (!r.file) return r.body;
  std::string out(r.file_length, '\0');
  ssize_t n = pread(r.file.get(), out.data(), out.size(), static_cast<off_t>(r.file_offset));
  if (n < 0) return "<pread failed>";
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string StaticFixture::header(const StaticResponse& r, const std::string& name) {
  std::string needle = name + ": ";
  size_t pos = 0;
  while (pos < r.headers.size()) {
    size_t end = r.headers.find("\r\n", pos);
    if (end == std::string::npos) end = r.headers.size();
    if (r.headers.compare(pos, needle.size(), needle) == 0) {
      return r.headers.substr(pos + needle.size(), end - pos - needle.size());
    }
    pos = end + 2;
  }
  return {};
}

bool StaticFixture::has_header(const StaticResponse& r, const std::string& name) {
  return r.headers.rfind(name + ": ", 0) == 0 ||
         r.headers.find("\r\n" + name + ": ") != std::string::npos;
}

void StaticFixture::client_from(const std::string& ip) {
  sockaddr_storage peer{}, local{};
  if (ip.find(':') != std::string::npos) {
    auto& a = reinterpret_cast<sockaddr_in6&>(peer);
    a.sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip.c_str(), &a.sin6_addr);
  } else {
    auto& a = reinterpret_cast<sockaddr_in&>(peer);
    a.sin_family = AF_INET;
    inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  }
  auto& l = reinterpret_cast<sockaddr_in&>(local);
  l.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &l.sin_addr);
  client_ = ClientAddresses::from(peer, local);
}

}  // namespace itkd::test
