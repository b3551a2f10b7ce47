// htpasswd files (mod_authn_file) and Basic authentication in the access decision. The
// hashes are what `htpasswd` and `openssl passwd` write for the password "secret".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>

#include "static_fixture.h"
#include "worker/static/htpasswd.h"

namespace itkd::test {
namespace {

const char* kBcrypt = "$2y$05$9XWVWzYUJ7Ax2MyezPmNK.obLISeOMK62mNbddv1sE8QEcnHWDHsm";  // htpasswd -B -C 5
const char* kApr1 = "$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/";                           // htpasswd (MD5)
const char* kSha = "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=";                                 // htpasswd -s
const char* kSha512 = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";
const char* kSha256 = "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA";
const char* kMd5Crypt = "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1";
const char* kDes = "abNANd1rDfiNc";

TEST(Htpasswd, Apr1MatchesOpenSsl) {
  // openssl passwd -apr1 -salt ...
  EXPECT_EQ(apr1_md5("secret", "abcdefgh"), kApr1);
  EXPECT_EQ(apr1_md5("x", ""), "$apr1$$jYtXyIcDHukcQfHjblNhq/");
  EXPECT_EQ(apr1_md5("", "ab"), "$apr1$ab$S8K6Sgp3W8c9Jb6LxgywZ.");
  EXPECT_EQ(apr1_md5("a much longer password than sixteen bytes", "12345678"), "$apr1$12345678$RkSsHiO1RUdjaoav57ZaW/");
}

TEST(Htpasswd, EveryFormatHtpasswdWrites) {
  for (const char* hash : {kBcrypt, kApr1, kSha, kSha512, kSha256, kMd5Crypt, kDes}) {
    EXPECT_TRUE(password_matches(hash, "secret")) << hash;
    EXPECT_FALSE(password_matches(hash, "Secret")) << hash;
    EXPECT_FALSE(password_matches(hash, "")) << hash;
    EXPECT_FALSE(password_matches(hash, std::string("secret\0x", 8))) << hash;
  }
  // Plain text is not a hash: never accepted (Apache on Unix doesn't either).
  EXPECT_FALSE(password_matches("secret", "secret"));
  EXPECT_FALSE(password_matches("", ""));
  EXPECT_FALSE(password_matches("*", "*"));
}

using HtpasswdFile = StaticFixture;

TEST_F(HtpasswdFile, LooksUpUsersAndSeesChanges) {
  write_file("users", std::string("# comment\nalice:") + kBcrypt + "\r\nbob:" + kApr1 + "\ncarol:" + kSha +
                          ":extra\n\nmalformed\n");
  std::string err;
  EXPECT_EQ(check_htpasswd(abs("users"), "alice", "secret", err), PasswordCheck::Match);
  EXPECT_EQ(check_htpasswd(abs("users"), "bob", "secret", err), PasswordCheck::Match);
  EXPECT_EQ(check_htpasswd(abs("users"), "carol", "secret", err), PasswordCheck::Match);
  EXPECT_EQ(check_htpasswd(abs("users"), "alice", "nope", err), PasswordCheck::Mismatch);
  EXPECT_EQ(check_htpasswd(abs("users"), "dave", "secret", err), PasswordCheck::NoSuchUser);
  EXPECT_EQ(check_htpasswd(abs("users"), "malformed", "", err), PasswordCheck::NoSuchUser);
  // A repeated login is remembered (no second bcrypt), but only for the same password.
  EXPECT_EQ(check_htpasswd(abs("users"), "alice", "secret", err), PasswordCheck::Match);
  EXPECT_EQ(check_htpasswd(abs("users"), "alice", "secreT", err), PasswordCheck::Mismatch);
  EXPECT_EQ(check_htpasswd(abs("users"), "alice", "secret", err), PasswordCheck::Match);
  // A changed password takes effect at the next request: the memory goes with the file.
  write_file("users", std::string("alice:") + "$apr1$abcdefgh$XXXXXXXXXXXXXXXXXXXXXX\nbob:" + kApr1 + "\n");
  EXPECT_EQ(check_htpasswd(abs("users"), "alice", "secret", err), PasswordCheck::Mismatch);
  // Removing a user takes effect at the next request.
  write_file("users", std::string("bob:") + kApr1 + "\n");
  EXPECT_EQ(check_htpasswd(abs("users"), "alice", "secret", err), PasswordCheck::NoSuchUser);
  EXPECT_EQ(check_htpasswd(abs("users"), "missing-file", "x", err), PasswordCheck::NoSuchUser);
  EXPECT_EQ(check_htpasswd(abs("nonexistent"), "bob", "secret", err), PasswordCheck::FileError);
  EXPECT_NE(err.find("AuthUserFile"), std::string::npos) << err;
}

TEST_F(HtpasswdFile, BasicAuthenticationThroughTheStaticHandler) {
  write_file("users", std::string("alice:") + kBcrypt + "\nbob:" + kApr1 + "\n");
  make_dir("www/private");
  write_file("www/private/report.txt", "numbers");
  DirectoryBlock& d = add_directory("www/private", kDefaultOptions);
  d.access = require_lines({{"valid-user"}});
  d.access.auth_basic = true;
  d.access.auth_name = "Staff only";
  d.access.auth_user_file = abs("users");
  auto basic = [](const std::string& user_pass) {
    std::string b64(4 * ((user_pass.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                            reinterpret_cast<const unsigned char*>(user_pass.data()), static_cast<int>(user_pass.size()));
    return std::pair<std::string, std::string>{"Authorization", "Basic " + b64.substr(0, static_cast<size_t>(n))};
  };
  // No credentials: 401 with the realm, nothing logged.
  StaticResponse r = get("/private/report.txt");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(header(r, "WWW-Authenticate"), "Basic realm=\"Staff only\"");
  EXPECT_EQ(body_of(r).find("numbers"), std::string::npos);
  EXPECT_TRUE(r.log_reason.empty()) << r.log_reason;
  // Wrong password, unknown user, garbage: 401, with the reason logged.
  r = get("/private/report.txt", {basic("alice:wrong")});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.log_reason.find("user alice: authentication failure"), std::string::npos) << r.log_reason;
  r = get("/private/report.txt", {basic("mallory:secret")});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.log_reason.find("user mallory not found"), std::string::npos) << r.log_reason;
  r = get("/private/report.txt", {{"Authorization", "Basic !!!!"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.log_reason.find("invalid Basic credentials"), std::string::npos) << r.log_reason;
  r = get("/private/report.txt", {{"Authorization", "Bearer abc"}});
  EXPECT_EQ(r.status, 401);
  // Right credentials: the file, and who it was.
  r = get("/private/report.txt", {basic("alice:secret")});
  EXPECT_EQ(body_of(r), "numbers");
  EXPECT_EQ(r.remote_user, "alice");
  // The directory itself is guarded too; its listing shows the files to who logged in.
  EXPECT_EQ(get("/private/").status, 401);
  EXPECT_EQ(get("/private/", {basic("bob:secret")}).status, 403);  // no index, no Indexes
  d.options = kDefaultOptions | kOptIndexes;
  r = get("/private/", {basic("bob:secret")});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(body_of(r).find("report.txt"), std::string::npos) << body_of(r);
  d.options = kDefaultOptions;
  // Require user: a valid user who isn't listed is refused with 401 (asked again).
  d.access = require_lines({{"user", "alice"}});
  d.access.auth_basic = true;
  d.access.auth_name = "Staff only";
  d.access.auth_user_file = abs("users");
  r = get("/private/report.txt", {basic("bob:secret")});
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.log_reason.find("user 'bob' does not meet 'require'ments"), std::string::npos) << r.log_reason;
  EXPECT_EQ(body_of(get("/private/report.txt", {basic("alice:secret")})), "numbers");
  // The office gets in without a password: address rules first.
  d.access = require_lines({{"ip", "10.1"}, {"valid-user"}});
  d.access.auth_basic = true;
  d.access.auth_name = "Staff only";
  d.access.auth_user_file = abs("users");
  client_from("10.1.0.7");
  r = get("/private/report.txt");
  EXPECT_EQ(body_of(r), "numbers");
  EXPECT_EQ(r.remote_user, "");
  client_from("198.51.100.1");
  EXPECT_EQ(get("/private/report.txt").status, 401);
}

TEST_F(HtpasswdFile, MisconfigurationIsA500WithTheReason) {
  make_dir("www/private");
  write_file("www/private/report.txt", "numbers");
  DirectoryBlock& d = add_directory("www/private", kDefaultOptions);
  d.access = require_lines({{"valid-user"}});  // no AuthType
  StaticResponse r = get("/private/report.txt");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.log_reason.find("AuthType Basic is not set"), std::string::npos) << r.log_reason;
  d.access.auth_basic = true;
  d.access.auth_name = "x";
  d.access.auth_user_file = abs("no-such-file");
  r = get("/private/report.txt", {{"Authorization", "Basic YWxpY2U6c2VjcmV0"}});
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.log_reason.find("AuthUserFile"), std::string::npos) << r.log_reason;
  EXPECT_EQ(body_of(r).find("numbers"), std::string::npos);
}

}  // namespace
}  // namespace itkd::test
