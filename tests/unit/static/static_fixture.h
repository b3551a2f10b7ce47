// A temporary DocumentRoot tree, a vhost around it, and hand-built requests (no parser):
// the handler is tested against the real filesystem.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "config/server_config.h"
#include "http/request_head.h"
#include "worker/static/mime_types.h"
#include "worker/static/open_file_cache.h"
#include "worker/static/static_handler.h"

namespace itkd::test {

// Owns the strings a RequestHead points into.
struct TestRequest {
  http::Method method = http::Method::Get;
  std::string method_text = "GET";
  std::string path = "/";
  std::string query;
  bool has_query = false;
  http::TargetForm form = http::TargetForm::Origin;
  std::vector<std::pair<std::string, std::string>> headers;

  http::RequestHead head() const;
};

// "Require all denied|granted" as the config parser builds it.
inline AccessRules require_all(bool denied) {
  return *access_rules_from({{"all", denied ? "denied" : "granted"}});
}
inline AccessRules require_lines(const std::vector<std::vector<std::string>>& lines) {
  auto r = access_rules_from(lines);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : AccessRules{};
}

class StaticFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Paths relative to the temporary root (which holds www/ as DocumentRoot).
  std::string abs(const std::string& rel) const { return root_ + "/" + rel; }
  void write_file(const std::string& rel, const std::string& content, mode_t mode = 0644);
  void make_dir(const std::string& rel, mode_t mode = 0755);
  void make_symlink(const std::string& target, const std::string& rel);
  void set_root_options(unsigned options);
  DirectoryBlock& add_directory(const std::string& rel, unsigned options);

  StaticResponse request(const TestRequest& r);
  StaticResponse get(const std::string& path,
                     std::vector<std::pair<std::string, std::string>> headers = {});
  StaticResponse head(const std::string& path,
                      std::vector<std::pair<std::string, std::string>> headers = {});
  StaticResponse method(http::Method m, const std::string& text, const std::string& path);

  // The bytes the connection would send: the file range or the in-memory body.
  static std::string body_of(const StaticResponse& r);
  static std::string header(const StaticResponse& r, const std::string& name);
  static bool has_header(const StaticResponse& r, const std::string& name);

  std::string root_;
  OpenFileCache* files_ = nullptr;  // set by tests of the worker's open-file cache
  uint64_t now_ms_ = 0;
  ClientAddresses client_;  // who asks (set with client_from)
  // What the worker says would run as a script (null: nothing does).
  std::function<bool(const std::string&, const std::string&, bool)> runs_handler_;
  void client_from(const std::string& ip);  // "10.1.2.3" / "2001:db8::1", to 127.0.0.1
  std::string docroot_;
  VirtualHost vhost_;
  MimeTypes mime_ = MimeTypes::from_text(
      "text/html html htm\ntext/plain txt\nimage/png png\ntext/css css\n");
};

}  // namespace itkd::test
