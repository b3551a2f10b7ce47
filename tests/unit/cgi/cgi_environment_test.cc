#include "worker/cgi/cgi_environment.h"

#include <gtest/gtest.h>

#include <map>

#include "cgi/handler_test_support.h"

namespace itkd {
namespace {

std::map<std::string, std::string> as_map(const NameValueList& env) {
  std::map<std::string, std::string> m;
  for (const auto& [n, v] : env) {
    EXPECT_EQ(m.count(n), 0u) << "duplicate variable " << n;
    m[n] = v;
  }
  return m;
}

CgiScript script() {
  CgiScript s;
  s.filename = "/srv/a/cgi-bin/x.cgi";
  s.script_name = "/cgi-bin/x.cgi";
  s.path_info = "/extra/path";
  s.context_prefix = "/cgi-bin/";
  s.context_document_root = "/srv/a/cgi-bin/";
  return s;
}

TEST(CgiEnvironment, Rfc3875AndApacheVariables) {
  test::RequestFixture f(
      "POST /cgi-bin/x.cgi/extra/path?a=1&b=%20 HTTP/1.1\r\nHost: A.Example:8080\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n"
      "User-Agent: t/1\r\n\r\n");
  auto env = as_map(build_cgi_environment(f.request(), script(), 5));
  std::map<std::string, std::string> want{
      {"GATEWAY_INTERFACE", "CGI/1.1"},
      {"SERVER_SOFTWARE", "itkd"},
      {"SERVER_NAME", "a.example"},
      {"SERVER_ADDR", "127.0.0.1"},
      {"SERVER_PORT", "8080"},
      {"REMOTE_ADDR", "192.0.2.7"},
      {"REMOTE_PORT", "40000"},
      {"REQUEST_METHOD", "POST"},
      {"REQUEST_URI", "/cgi-bin/x.cgi/extra/path?a=1&b=%20"},
      {"QUERY_STRING", "a=1&b=%20"},
      {"SCRIPT_NAME", "/cgi-bin/x.cgi"},
      {"SCRIPT_FILENAME", "/srv/a/cgi-bin/x.cgi"},
      {"PATH_INFO", "/extra/path"},
      {"PATH_TRANSLATED", "/srv/a/extra/path"},
      {"DOCUMENT_ROOT", "/srv/a"},
      {"CONTEXT_PREFIX", "/cgi-bin/"},
      {"CONTEXT_DOCUMENT_ROOT", "/srv/a/cgi-bin/"},
      {"SERVER_PROTOCOL", "HTTP/1.1"},
      {"REQUEST_SCHEME", "http"},
      {"CONTENT_TYPE", "application/x-www-form-urlencoded"},
      {"CONTENT_LENGTH", "5"},
      {"REDIRECT_STATUS", "200"},
      {"PATH", "/usr/local/bin:/usr/bin:/bin"},
      {"HTTP_HOST", "A.Example:8080"},
      {"HTTP_USER_AGENT", "t/1"},
  };
  for (const auto& [k, v] : want) {
    ASSERT_EQ(env.count(k), 1u) << k;
    EXPECT_EQ(env[k], v) << k;
  }
  EXPECT_EQ(env.count("HTTPS"), 0u);
  EXPECT_EQ(env.count("HTTP_CONTENT_LENGTH"), 0u);
  EXPECT_EQ(env.count("HTTP_CONTENT_TYPE"), 0u);
}

TEST(CgiEnvironment, HttpoxyUnderscoreAuthorizationAndFraming) {
  test::RequestFixture f(
      "POST /x HTTP/1.1\r\nHost: a\r\nProxy: http://evil:8080/\r\nX_Forwarded_For: 1.2.3.4\r\n"
      "X-Forwarded-For: 5.6.7.8\r\nAuthorization: Basic Zm9vOmJhcg==\r\n"
      "Transfer-Encoding: chunked\r\nX.Dot: 1\r\n\r\n");
  auto env = as_map(build_cgi_environment(f.request(), script(), 12));
  EXPECT_EQ(env.count("HTTP_PROXY"), 0u);
  EXPECT_EQ(env["HTTP_X_FORWARDED_FOR"], "5.6.7.8");  // the underscore twin is not passed
  EXPECT_EQ(env.count("HTTP_AUTHORIZATION"), 0u);
  EXPECT_EQ(env.count("HTTP_TRANSFER_ENCODING"), 0u);
  EXPECT_EQ(env["CONTENT_LENGTH"], "12");  // the de-chunked length
  for (const auto& [k, v] : env) EXPECT_EQ(k.find('.'), std::string::npos) << k;
}

TEST(CgiEnvironment, CgiPassAuthAndRemoteUser) {
  test::RequestFixture f("GET /x HTTP/1.1\r\nHost: a\r\nAuthorization: Basic Zm9vOmJhcg==\r\n"
                         "Proxy-Authorization: Basic eDp5\r\n\r\n");
  CgiScript s = script();
  s.pass_authorization = true;  // CGIPassAuth On
  HandlerRequest r = f.request();
  auto env = as_map(build_cgi_environment(r, s, std::nullopt));
  EXPECT_EQ(env["HTTP_AUTHORIZATION"], "Basic Zm9vOmJhcg==");
  EXPECT_EQ(env.count("HTTP_PROXY_AUTHORIZATION"), 0u);  // never: it is for the proxy
  EXPECT_EQ(env.count("REMOTE_USER"), 0u);
  EXPECT_EQ(env.count("AUTH_TYPE"), 0u);
  r.remote_user = "alice";  // authenticated by the server (AuthType Basic)
  env = as_map(build_cgi_environment(r, script(), std::nullopt));
  EXPECT_EQ(env["REMOTE_USER"], "alice");
  EXPECT_EQ(env["AUTH_TYPE"], "Basic");
  EXPECT_EQ(env.count("HTTP_AUTHORIZATION"), 0u);
}

TEST(CgiEnvironment, DuplicateHeadersJoined) {
  test::RequestFixture f(
      "GET /x HTTP/1.1\r\nHost: a\r\nAccept: text/html\r\nX-A: 1\r\naccept: text/plain\r\n"
      "Cookie: a=1\r\nCookie: b=2\r\n\r\n");
  auto list = build_cgi_environment(f.request(), script(), std::nullopt);
  auto env = as_map(list);
  EXPECT_EQ(env["HTTP_ACCEPT"], "text/html, text/plain");
  EXPECT_EQ(env["HTTP_COOKIE"], "a=1; b=2");
  EXPECT_EQ(env.count("CONTENT_LENGTH"), 0u);
  EXPECT_EQ(env.count("CONTENT_TYPE"), 0u);
  EXPECT_EQ(env["QUERY_STRING"], "");
  EXPECT_EQ(env["REQUEST_URI"], "/x");
  auto strings = environment_strings(list);
  EXPECT_NE(std::find(strings.begin(), strings.end(), "HTTP_X_A=1"), strings.end());
}

TEST(CgiEnvironment, InterleavedRepeatsJoinEachIntoItsFirstPlace) {
  test::RequestFixture f(
      "GET /x HTTP/1.1\r\nHost: a\r\nX-B: 1\r\nX-C: one\r\nx-b: 2\r\nX-C: two\r\nX-B: 3\r\nX-D: d\r\n\r\n");
  auto list = build_cgi_environment(f.request(), script(), std::nullopt);
  std::vector<std::string> headers;
  for (const auto& [name, value] : list)
    if (name.rfind("HTTP_", 0) == 0) headers.push_back(name + "=" + value);
  EXPECT_EQ(headers, (std::vector<std::string>{"HTTP_HOST=a", "HTTP_X_B=1, 2, 3", "HTTP_X_C=one, two", "HTTP_X_D=d"}));
}

TEST(CgiEnvironment, HttpsAndHttp10) {
  test::RequestFixture f("GET /x HTTP/1.0\r\n\r\n");
  HandlerRequest r = f.request();
  r.https = true;
  f.vhost.server_name.clear();
  auto env = as_map(build_cgi_environment(r, CgiScript{}, std::nullopt));
  EXPECT_EQ(env["HTTPS"], "on");
  EXPECT_EQ(env["REQUEST_SCHEME"], "https");
  EXPECT_EQ(env["SERVER_PROTOCOL"], "HTTP/1.0");
  EXPECT_EQ(env.count("PATH_INFO"), 0u);
  EXPECT_EQ(env.count("PATH_TRANSLATED"), 0u);
}

TEST(CgiEnvironment, PathInfoSplit) {
  test::TempDir d;
  std::string script_path = d.write("cgi-bin/x.cgi", "#!/bin/sh\n");
  auto s = split_path_info(script_path + "/a/b.html");
  EXPECT_TRUE(s.found);
  EXPECT_EQ(s.filename, script_path);
  EXPECT_EQ(s.path_info, "/a/b.html");
  s = split_path_info(script_path);
  EXPECT_TRUE(s.found);
  EXPECT_EQ(s.path_info, "");
  s = split_path_info(script_path + "/");
  EXPECT_TRUE(s.found);
  EXPECT_EQ(s.path_info, "/");
  // A directory prefix is not a script.
  EXPECT_FALSE(split_path_info(d.path() + "/cgi-bin/nothing/here").found);
  EXPECT_FALSE(split_path_info(d.path() + "/missing.cgi/x").found);
  EXPECT_EQ(script_name_for("/cgi-bin/x.cgi/a/b.html", "/a/b.html"), "/cgi-bin/x.cgi");
  EXPECT_EQ(script_name_for("/cgi-bin/x.cgi", ""), "/cgi-bin/x.cgi");
}

TEST(CgiEnvironment, LocateScriptAndProxyPassSplit) {
  test::TempDir d;
  std::string script_path = d.write("cgi-bin/x.cgi", "#!/bin/sh\n");
  auto s = locate_cgi_script(script_path + "/a/b", "/cgi-bin/x.cgi/a/b", "/cgi-bin/", d.path() + "/cgi-bin/");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->filename, script_path);
  EXPECT_EQ(s->path_info, "/a/b");
  EXPECT_EQ(s->script_name, "/cgi-bin/x.cgi");
  EXPECT_EQ(s->context_prefix, "/cgi-bin/");
  EXPECT_FALSE(locate_cgi_script(d.path() + "/cgi-bin/none.cgi", "/cgi-bin/none.cgi", "", ""));

  std::string php = d.write("blog/index.php", "<?php\n", 0644);
  CgiScript p = proxy_pass_script(php + "/2024/post", "/blog/index.php/2024/post");
  EXPECT_EQ(p.filename, php);
  EXPECT_EQ(p.path_info, "/2024/post");
  EXPECT_EQ(p.script_name, "/blog/index.php");
  // Not on this host (a remote php-fpm): the whole path is SCRIPT_FILENAME.
  p = proxy_pass_script("/remote/www/index.php/x", "/index.php/x");
  EXPECT_EQ(p.filename, "/remote/www/index.php/x");
  EXPECT_EQ(p.path_info, "");
  EXPECT_EQ(p.script_name, "/index.php/x");
}

TEST(CgiEnvironment, SetEnvVariablesComeLastWithoutDuplicates) {
  test::RequestFixture f("GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  ScriptEnv set{{"APP_ENV", "production"}, {"PATH", "/opt/app/bin:/usr/bin"}, {"HTTPS", "on"}, {"EMPTY", ""}};
  HandlerRequest r = f.request();
  r.script_env = &set;
  auto env = as_map(build_cgi_environment(r, CgiScript{}, std::nullopt));  // as_map fails on duplicates
  EXPECT_EQ(env["APP_ENV"], "production");
  EXPECT_EQ(env["PATH"], "/opt/app/bin:/usr/bin");
  EXPECT_EQ(env["HTTPS"], "on");  // behind a TLS-terminating proxy
  EXPECT_EQ(env.count("EMPTY"), 1u);
  r.https = true;
  ScriptEnv off{{"HTTPS", "off"}};
  r.script_env = &off;
  EXPECT_EQ(as_map(build_cgi_environment(r, CgiScript{}, std::nullopt))["HTTPS"], "on");
}

}  // namespace
}  // namespace itkd
