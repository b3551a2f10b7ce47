// The per-request access decision: mod_authz_core's Granted/Denied/Neutral logic, the
// address rules, mod_access_compat's Order, Satisfy, and <Location> applied after
// <Directory> and <Files>, through the static handler as a client would meet them.
#include <arpa/inet.h>
#include <netinet/in.h>

#include "static_fixture.h"

namespace itkd::test {
namespace {

using AccessCheck = StaticFixture;

ClientAddresses client(const std::string& ip, const std::string& local = "192.0.2.1") {
  auto addr = [](const std::string& text) {
    sockaddr_storage s{};
    if (text.find(':') != std::string::npos) {
      auto& a = reinterpret_cast<sockaddr_in6&>(s);
      a.sin6_family = AF_INET6;
      inet_pton(AF_INET6, text.c_str(), &a.sin6_addr);
    } else {
      auto& a = reinterpret_cast<sockaddr_in&>(s);
      a.sin_family = AF_INET;
      inet_pton(AF_INET, text.c_str(), &a.sin_addr);
    }
    return s;
  };
  return ClientAddresses::from(addr(ip), addr(local));
}

bool granted(const AccessRules& rules, const std::string& ip, const std::string& local = "192.0.2.1") {
  EffectiveAccess a;
  a.apply(rules);
  return access_granted(a, client(ip, local));
}

RequireNode container(RequireNode::Kind kind, std::vector<RequireNode> children) {
  RequireNode n;
  n.kind = kind;
  n.children = std::move(children);
  return n;
}
RequireNode line(const std::vector<std::string>& words) { return *parse_require_line(words); }

TEST(AccessDecision, RequireIpAndLocal) {
  AccessRules r = require_lines({{"ip", "10.0.0.0/8", "192.168.1"}});
  EXPECT_TRUE(granted(r, "10.200.3.4"));
  EXPECT_TRUE(granted(r, "192.168.1.77"));
  EXPECT_FALSE(granted(r, "192.168.2.1"));
  EXPECT_TRUE(granted(r, "::ffff:10.1.2.3"));  // IPv4 on a dual-stack listener
  EXPECT_FALSE(granted(r, "2001:db8::1"));
  AccessRules v6 = require_lines({{"ip", "2001:db8::/32"}});
  EXPECT_TRUE(granted(v6, "2001:db8:ffff::5"));
  EXPECT_FALSE(granted(v6, "2001:db9::5"));
  AccessRules local = require_lines({{"local"}});
  EXPECT_TRUE(granted(local, "127.0.0.1"));
  EXPECT_TRUE(granted(local, "127.8.9.10"));
  EXPECT_TRUE(granted(local, "::1"));
  EXPECT_TRUE(granted(local, "198.51.100.9", "198.51.100.9"));  // the machine to its own address
  EXPECT_FALSE(granted(local, "198.51.100.10", "198.51.100.9"));
  // An unknown address (not an IP connection) matches no address rule.
  EffectiveAccess a;
  a.apply(r);
  EXPECT_FALSE(access_granted(a, ClientAddresses{}));
}

TEST(AccessDecision, ContainersAndNegation) {
  // <RequireAll> Require ip 10.0.0.0/8; Require not ip 10.9.0.0/16 </RequireAll>
  RequireNode all = container(RequireNode::Kind::All, {line({"ip", "10.0.0.0/8"}), line({"not", "ip", "10.9"})});
  EXPECT_EQ(evaluate_require(all, client("10.1.1.1")), AuthzResult::Granted);
  EXPECT_EQ(evaluate_require(all, client("10.9.1.1")), AuthzResult::Denied);
  EXPECT_EQ(evaluate_require(all, client("11.1.1.1")), AuthzResult::Denied);
  // A negation never grants: a match refuses, a miss is neutral.
  EXPECT_EQ(evaluate_require(line({"not", "ip", "10.9"}), client("10.9.0.1")), AuthzResult::Denied);
  EXPECT_EQ(evaluate_require(line({"not", "ip", "10.9"}), client("10.8.0.1")), AuthzResult::Neutral);
  // <RequireNone>: refuses what any child grants, else neutral.
  RequireNode none = container(RequireNode::Kind::None, {line({"ip", "203.0.113.0/24"})});
  EXPECT_EQ(evaluate_require(none, client("203.0.113.9")), AuthzResult::Denied);
  EXPECT_EQ(evaluate_require(none, client("198.51.100.1")), AuthzResult::Neutral);
  // The usual block list: everyone but a bad network.
  RequireNode blocklist = container(RequireNode::Kind::All, {line({"all", "granted"}), none});
  EXPECT_EQ(evaluate_require(blocklist, client("198.51.100.1")), AuthzResult::Granted);
  EXPECT_EQ(evaluate_require(blocklist, client("203.0.113.9")), AuthzResult::Denied);
  // <RequireAny>: one grant is enough; a tree that ends neutral refuses.
  RequireNode any = container(RequireNode::Kind::Any, {line({"ip", "10.1"}), line({"local"})});
  EXPECT_EQ(evaluate_require(any, client("127.0.0.1")), AuthzResult::Granted);
  EXPECT_EQ(evaluate_require(any, client("10.2.0.1")), AuthzResult::Denied);
  EffectiveAccess only_neutral;
  RequireNode neutral_all = container(RequireNode::Kind::All, {none});
  only_neutral.require = &neutral_all;
  EXPECT_FALSE(access_granted(only_neutral, client("198.51.100.1")));
}

TEST(AccessDecision, OrderAllowDeny) {
  auto compat = [](AccessCompat::Order order, bool allow_all, const char* allow, bool deny_all, const char* deny) {
    AccessRules r;
    r.compat = std::make_shared<AccessCompat>();
    r.compat->order = order;
    if (allow_all) r.compat->allow.push_back({true, {}, {}});
    if (deny_all) r.compat->deny.push_back({true, {}, {}});
    if (allow) r.compat->allow.push_back({false, *parse_ip_range(allow), {}});
    if (deny) r.compat->deny.push_back({false, *parse_ip_range(deny), {}});
    return r;
  };
  using O = AccessCompat::Order;
  // Order deny,allow / Deny from all / Allow from 10.1: only 10.1 comes in.
  AccessRules admin = compat(O::DenyAllow, false, "10.1", true, nullptr);
  EXPECT_TRUE(granted(admin, "10.1.2.3"));
  EXPECT_FALSE(granted(admin, "10.2.2.3"));
  // Order allow,deny / Allow from all / Deny from 203.0.113.0/24: all but that network.
  AccessRules block = compat(O::AllowDeny, true, nullptr, false, "203.0.113.0/24");
  EXPECT_TRUE(granted(block, "198.51.100.1"));
  EXPECT_FALSE(granted(block, "203.0.113.5"));
  // Allow,Deny denies by default; Deny,Allow allows by default.
  EXPECT_FALSE(granted(compat(O::AllowDeny, false, nullptr, false, nullptr), "10.0.0.1"));
  EXPECT_TRUE(granted(compat(O::DenyAllow, false, nullptr, false, nullptr), "10.0.0.1"));
  // Deny,Allow: a client in both lists is allowed; Allow,Deny and Mutual-failure: denied.
  EXPECT_TRUE(granted(compat(O::DenyAllow, false, "10.1", false, "10.1.1"), "10.1.1.1"));
  EXPECT_FALSE(granted(compat(O::AllowDeny, false, "10.1", false, "10.1.1"), "10.1.1.1"));
  EXPECT_FALSE(granted(compat(O::MutualFailure, false, "10.1", false, "10.1.1"), "10.1.1.1"));
}

TEST(AccessDecision, SatisfyCombinesCompatAndRequire) {
  AccessRules r = require_lines({{"ip", "10.1"}});
  r.compat = std::make_shared<AccessCompat>();
  r.compat->order = AccessCompat::Order::DenyAllow;
  r.compat->deny.push_back({true, {}, {}});
  r.compat->allow.push_back({false, *parse_ip_range("192.168"), {}});
  // Satisfy All (the default): both must let the client in.
  EXPECT_FALSE(granted(r, "10.1.0.1"));
  EXPECT_FALSE(granted(r, "192.168.0.1"));
  r.satisfy_any = true;
  EXPECT_TRUE(granted(r, "10.1.0.1"));
  EXPECT_TRUE(granted(r, "192.168.0.1"));
  EXPECT_FALSE(granted(r, "172.16.0.1"));
}

TEST(AccessDecision, DeeperSectionsReplacePartByPart) {
  EffectiveAccess a;
  AccessRules outer = require_lines({{"all", "denied"}});
  outer.compat = std::make_shared<AccessCompat>();
  outer.compat->order = AccessCompat::Order::AllowDeny;  // denies everyone
  a.apply(outer);
  AccessRules inner = require_lines({{"ip", "10.1"}});  // the config outlives the decision
  a.apply(inner);  // replaces the Require, keeps the Order
  EXPECT_FALSE(access_granted(a, client("10.1.0.1")));
  AccessRules open_compat;
  open_compat.compat = std::make_shared<AccessCompat>();  // Order deny,allow, no lists: open
  a.apply(open_compat);
  EXPECT_TRUE(access_granted(a, client("10.1.0.1")));
  EXPECT_FALSE(access_granted(a, client("10.2.0.1")));
}

TEST(AccessDecision, LimitSpeaksOnlyForItsMethods) {
  auto limited = [](std::vector<std::string> methods, bool except, std::vector<RequireNode> children) {
    RequireNode n = container(RequireNode::Kind::Any, std::move(children));
    n.scope.methods = std::move(methods);
    n.scope.except = except;
    return n;
  };
  auto judge = [](const RequireNode& root, const std::string& ip, const char* method) {
    EffectiveAccess a;
    a.require = &root;
    return access_granted(a, client(ip), method);
  };
  // <Limit POST PUT DELETE> Require ip 10.1: only those methods are protected.
  RequireNode writes = container(RequireNode::Kind::Any, {limited({"POST", "PUT", "DELETE"}, false, {line({"ip", "10.1"})})});
  EXPECT_TRUE(judge(writes, "198.51.100.1", "GET"));
  EXPECT_FALSE(judge(writes, "198.51.100.1", "POST"));
  EXPECT_TRUE(judge(writes, "10.1.0.1", "POST"));
  // Debian's userdir.conf: GET/POST/OPTIONS granted, everything else denied.
  RequireNode userdir = container(RequireNode::Kind::Any,
                                  {limited({"GET", "POST", "OPTIONS"}, false, {line({"all", "granted"})}),
                                   limited({"GET", "POST", "OPTIONS"}, true, {line({"all", "denied"})})});
  EXPECT_TRUE(judge(userdir, "198.51.100.1", "GET"));
  EXPECT_TRUE(judge(userdir, "198.51.100.1", "POST"));
  EXPECT_FALSE(judge(userdir, "198.51.100.1", "PUT"));
  EXPECT_FALSE(judge(userdir, "198.51.100.1", "DELETE"));
  EXPECT_FALSE(judge(userdir, "198.51.100.1", "get"));  // methods are case-sensitive
  // Require method.
  RequireNode reads = container(RequireNode::Kind::Any, {line({"method", "GET", "HEAD"})});
  EXPECT_TRUE(judge(reads, "198.51.100.1", "HEAD"));
  EXPECT_FALSE(judge(reads, "198.51.100.1", "POST"));
  // Allow/Deny written in a <Limit> count for its methods only.
  AccessRules r;
  r.compat = std::make_shared<AccessCompat>();
  r.compat->order = AccessCompat::Order::DenyAllow;
  MethodScope post;
  post.methods = {"POST"};
  r.compat->deny.push_back({true, {}, post});
  EXPECT_TRUE(granted(r, "198.51.100.1"));  // GET
  EffectiveAccess a;
  a.apply(r);
  EXPECT_FALSE(access_granted(a, client("198.51.100.1"), "POST"));
}

TEST(AccessDecision, LocationMatching) {
  LocationBlock prefix;
  prefix.pattern = "/admin";
  EXPECT_TRUE(location_matches(prefix, "/admin"));
  EXPECT_TRUE(location_matches(prefix, "/admin/users"));
  EXPECT_FALSE(location_matches(prefix, "/administrator"));
  EXPECT_FALSE(location_matches(prefix, "/public/admin"));
  LocationBlock slash;
  slash.pattern = "/private/";
  EXPECT_TRUE(location_matches(slash, "/private/x"));
  EXPECT_FALSE(location_matches(slash, "/private"));
  LocationBlock root;
  root.pattern = "/";
  EXPECT_TRUE(location_matches(root, "/anything"));
  LocationBlock wild;
  wild.pattern = "/users/*/private";
  EXPECT_TRUE(location_matches(wild, "/users/bob/private"));
  EXPECT_FALSE(location_matches(wild, "/users/bob/x/private"));
  LocationBlock re;
  re.pattern = "^/(phpmyadmin|pma)/";
  re.is_regex = true;
  EXPECT_TRUE(location_matches(re, "/pma/index.php"));
  EXPECT_FALSE(location_matches(re, "/app/pma/"));
}

TEST_F(AccessCheck, DirectoryRequireIpThroughTheStaticHandler) {
  make_dir("www/office");
  write_file("www/office/plan.txt", "plan");
  write_file("www/public.txt", "hello");
  add_directory("www/office", kDefaultOptions).access = require_lines({{"ip", "10.1"}, {"local"}});
  client_from("10.1.4.5");
  EXPECT_EQ(body_of(get("/office/plan.txt")), "plan");
  client_from("127.0.0.1");
  EXPECT_EQ(body_of(get("/office/plan.txt")), "plan");
  client_from("198.51.100.7");
  StaticResponse r = get("/office/plan.txt");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(body_of(r).find("plan"), std::string::npos);
  EXPECT_NE(r.log_reason.find("client denied by server configuration"), std::string::npos) << r.log_reason;
  EXPECT_EQ(get("/office/missing").status, 403);  // whether or not it exists
  EXPECT_EQ(get("/office/").status, 403);
  EXPECT_EQ(body_of(get("/public.txt")), "hello");
}

TEST_F(AccessCheck, LocationAppliesLastAndByUrl) {
  make_dir("www/wp-admin");
  write_file("www/wp-admin/index.html", "dashboard");
  write_file("www/wp-admin-notes.txt", "notes");
  write_file("www/wp-login.php", "login");
  // The docroot is open; <Location /wp-admin> narrows it to the office, whatever the files say.
  add_directory("www", kDefaultOptions).access = require_all(false);
  LocationBlock admin;
  admin.pattern = "/wp-admin";
  admin.access = require_lines({{"ip", "192.0.2.0/24"}});
  vhost_.locations.push_back(admin);
  FilesBlock login;
  login.pattern = "wp-login.php";
  login.access = require_all(true);
  vhost_.files_blocks.push_back(login);
  LocationBlock login_loc;  // a later <Location> overrides the <Files> block, as in Apache
  login_loc.pattern = "/wp-login.php";
  login_loc.access = require_lines({{"ip", "192.0.2.0/24"}});
  vhost_.locations.push_back(login_loc);
  client_from("198.51.100.7");
  EXPECT_EQ(get("/wp-admin/").status, 403);
  EXPECT_EQ(get("/wp-admin").status, 403);  // refused before the slash redirect
  EXPECT_EQ(get("/wp-admin/index.html").status, 403);
  EXPECT_EQ(get("/wp-login.php").status, 403);
  EXPECT_EQ(body_of(get("/wp-admin-notes.txt")), "notes");  // not the same segment
  client_from("192.0.2.10");
  EXPECT_EQ(body_of(get("/wp-admin/")), "dashboard");
  EXPECT_EQ(body_of(get("/wp-login.php")), "login");
}

TEST_F(AccessCheck, FilesBlockOrderDenyAndHtFiles) {
  write_file("www/xmlrpc.php", "rpc");
  write_file("www/.htpasswd", "admin:secret");
  FilesBlock rpc;
  rpc.pattern = "xmlrpc.php";
  rpc.access.compat = std::make_shared<AccessCompat>();
  rpc.access.compat->order = AccessCompat::Order::AllowDeny;
  rpc.access.compat->deny.push_back({true, {}, {}});
  vhost_.files_blocks.push_back(rpc);
  client_from("127.0.0.1");
  EXPECT_EQ(get("/xmlrpc.php").status, 403);
  // .ht* stay refused even where the directory allows everyone by address.
  add_directory("www", kDefaultOptions).access = require_lines({{"ip", "127.0.0.1"}});
  EXPECT_EQ(get("/.htpasswd").status, 403);
}

TEST_F(AccessCheck, ListingsHideWhatTheClientMayNotFetch) {
  make_dir("www/files");
  write_file("www/files/a.txt", "a");
  write_file("www/files/office.txt", "o");
  add_directory("www/files", kDefaultOptions | kOptIndexes);
  FilesBlock office;
  office.pattern = "office.txt";
  office.access = require_lines({{"ip", "10.1"}});
  vhost_.files_blocks.push_back(office);
  client_from("198.51.100.7");
  std::string listing = body_of(get("/files/"));
  EXPECT_NE(listing.find("a.txt"), std::string::npos) << listing;
  EXPECT_EQ(listing.find("office.txt"), std::string::npos) << listing;
  client_from("10.1.0.9");
  EXPECT_NE(body_of(get("/files/")).find("office.txt"), std::string::npos);
}

}  // namespace
}  // namespace itkd::test
