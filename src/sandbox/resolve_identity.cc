// User and group names -> ids, as mpm-itk's AssignUserID does at startup: "#N" is a
// numeric id taken as is, a name is looked up in the passwd/group databases.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>

#include "sandbox/privileges.h"

namespace itkd {

namespace {

// "#61001" -> 61001. (uid_t)-1 is refused: setresuid treats it as "unchanged".
Result<std::optional<uint32_t>> parse_numeric(const std::string& s, const char* what) {
  if (s.empty() || s[0] != '#') return std::optional<uint32_t>();
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), v);
  if (s.size() == 1 || ec != std::errc() || p != s.data() + s.size() || v == 0xffffffffu) {
    return Error{std::string("invalid numeric ") + what + " '" + s + "' (write #N with N a decimal id)"};
  }
  return std::optional<uint32_t>(v);
}

long initial_buffer(int name) {
  long n = ::sysconf(name);
  return n > 0 ? n : 16384;
}

}  // namespace

Result<Identity> resolve_identity(const std::string& user, const std::string& group) {
  Identity id;
  auto uid = parse_numeric(user, "user id");
  if (!uid) return uid.error();
  auto gid = parse_numeric(group, "group id");
  if (!gid) return gid.error();

  if (*uid) {
    id.uid = **uid;
  } else {
    if (user.empty()) return Error{"empty user name"};
    std::vector<char> buf(static_cast<size_t>(initial_buffer(_SC_GETPW_R_SIZE_MAX)));
    struct passwd pw {};
    struct passwd* found = nullptr;
    int rc;
    // The buffer may be too small for a large entry: grow it (ERANGE), up to 1 MiB.
    while ((rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
           buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
    }
    if (rc != 0) return Error{errno_message("cannot look up user '" + user + "'", rc)};
    if (!found) return Error{"unknown user '" + user + "'"};
    id.uid = pw.pw_uid;
    id.user_name = user;
    id.home = pw.pw_dir ? pw.pw_dir : "";
  }

  if (*gid) {
    id.gid = **gid;
  } else {
    if (group.empty()) return Error{"empty group name"};
    std::vector<char> buf(static_cast<size_t>(initial_buffer(_SC_GETGR_R_SIZE_MAX)));
    struct group gr {};
    struct group* found = nullptr;
    int rc;
    while ((rc = ::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found)) == ERANGE &&
           buf.size() < (1u << 24)) {
      buf.resize(buf.size() * 2);
    }
    if (rc != 0) return Error{errno_message("cannot look up group '" + group + "'", rc)};
    if (!found) return Error{"unknown group '" + group + "'"};
    id.gid = gr.gr_gid;
  }

  if (id.user_name.empty()) {
    id.groups = {id.gid};
    return id;
  }
  // The user's own supplementary groups, with the assigned gid included (initgroups).
  int n = 32;
  std::vector<gid_t> groups;
  while (true) {
    groups.resize(static_cast<size_t>(n));
    int count = n;
    if (::getgrouplist(id.user_name.c_str(), id.gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<size_t>(count));
      break;
    }
    if (count <= n) n *= 2; else n = count;
    if (n > 65536) return Error{"user '" + user + "' is in too many groups"};
  }
  id.groups = std::move(groups);
  return id;
}

}  // namespace itkd
