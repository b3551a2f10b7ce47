// SetEnvIf / BrowserMatch over a request: what the usual lines set.
#include "worker/request_env.h"

#include <gtest/gtest.h>

#include "config/config_parser.h"

namespace itkd {
namespace {

class RequestEnv : public ::testing::Test {
 protected:
  ScriptEnv run(const std::string& lines, const std::string& target, const std::string& headers = "") {
    ParseOptions o;
    o.resolve_identities = false;
    auto c = parse_config_text("Listen 80\nDocumentRoot /srv/main\n<VirtualHost *:80>\nServerName a\n"
                               "DocumentRoot /srv/a\n" + lines + "</VirtualHost>\n", "t.conf", o);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    if (!c.ok()) return {};
    config_ = std::move(c).value();
    buffer_ = "GET " + target + " HTTP/1.1\r\nHost: a\r\n" + headers + "\r\n";
    head_ = http::RequestHead{};
    EXPECT_EQ(http::parse_request_head(buffer_, http::ParseLimits{}, head_).status, http::ParseStatus::Complete);
    ScriptEnv env;
    apply_setenvif(config_.vhosts[1].setenvif, RequestAttributes{head_, head_.path, "10.1.2.3", "127.0.0.1"}, env);
    return env;
  }
  ServerConfig config_;
  std::string buffer_;
  http::RequestHead head_;
};

using Env = ScriptEnv;

TEST_F(RequestEnv, BehindATlsProxyAndPassingCredentials) {
  std::string lines = "SetEnvIf X-Forwarded-Proto ^https$ HTTPS=on\n"
                      "SetEnvIf Authorization \"(.+)\" HTTP_AUTHORIZATION=$1\n";
  EXPECT_EQ(run(lines, "/", "X-Forwarded-Proto: https\r\nAuthorization: Bearer x y\r\n"),
            (Env{{"HTTPS", "on"}, {"HTTP_AUTHORIZATION", "Bearer x y"}}));
  EXPECT_EQ(run(lines, "/", "X-Forwarded-Proto: http\r\n"), Env{});
}

TEST_F(RequestEnv, SpecialAttributesCaseAndUnset) {
  std::string lines = "SetEnvIf Request_URI ^/health$ dontlog\n"
                      "SetEnvIf Remote_Addr ^10\\. internal office=$0\n"
                      "SetEnvIf Request_Method ^GET$ !internal\n"
                      "BrowserMatchNoCase ^oldbot nokeepalive\n";
  EXPECT_EQ(run(lines, "/health", "User-Agent: OldBot/1.0\r\n"),
            (Env{{"dontlog", "1"}, {"office", "10."}, {"nokeepalive", "1"}}));
  EXPECT_EQ(run(lines, "/healthz"), (Env{{"office", "10."}}));
}

TEST_F(RequestEnv, ALaterRuleTestsWhatAnEarlierOneSet) {
  std::string lines = "SetEnvIf X-Tier ^(gold|silver)$ tier=$1\nSetEnvIf tier ^gold$ priority\n";
  EXPECT_EQ(run(lines, "/", "X-Tier: gold\r\n"), (Env{{"tier", "gold"}, {"priority", "1"}}));
  EXPECT_EQ(run(lines, "/", "X-Tier: silver\r\n"), (Env{{"tier", "silver"}}));
  // A header of that name wins over the variable, as in mod_setenvif.
  EXPECT_EQ(run(lines, "/", "X-Tier: silver\r\nTier: gold\r\n"), (Env{{"tier", "silver"}, {"priority", "1"}}));
}

}  // namespace
}  // namespace itkd
