#include "config/config_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/unique_fd.h"

namespace itkd {

namespace {

// A configuration file bigger than this is a mistake (or /dev/zero), not a config.
constexpr size_t kMaxConfigFile = 64u << 20;
constexpr char kSnapshotMagic[] = "ITKDCFG2";

bool has_wildcard(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_str(std::string& out, const std::string& s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out += s;
}
void put_list(std::string& out, const std::vector<std::string>& v) {
  put_u32(out, static_cast<uint32_t>(v.size()));
  for (const auto& s : v) put_str(out, s);
}

// Bounds-checked reader over untrusted bytes: every read says whether it fit.
class ByteReader {
 public:
  explicit ByteReader(const std::string& b) : b_(b) {}
  bool u32(uint32_t& v) {
    if (b_.size() - pos_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<unsigned char>(b_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return true;
  }
  bool str(std::string& s) {
    uint32_t n;
    if (!u32(n) || b_.size() - pos_ < n) return false;
    s.assign(b_, pos_, n);
    pos_ += n;
    return true;
  }
  // A count can't exceed the bytes left (each item takes at least 4), so garbage
  // counts fail here instead of reserving gigabytes.
  bool count(uint32_t& n) { return u32(n) && n <= (b_.size() - pos_) / 4; }
  bool list(std::vector<std::string>& v) {
    uint32_t n;
    if (!count(n)) return false;
    v.resize(n);
    for (auto& s : v)
      if (!str(s)) return false;
    return true;
  }
  bool magic() {
    size_t n = sizeof(kSnapshotMagic) - 1;
    if (b_.compare(0, n, kSnapshotMagic) != 0 || b_.size() < n) return false;
    pos_ = n;
    return true;
  }
  bool at_end() const { return pos_ == b_.size(); }

 private:
  const std::string& b_;
  size_t pos_ = 0;
};

}  // namespace

std::string ConfigSnapshot::serialize() const {
  std::string out(kSnapshotMagic);
  put_str(out, main_file);
  put_list(out, defines);
  put_u32(out, static_cast<uint32_t>(files.size()));
  for (const auto& [path, contents] : files) {
    put_str(out, path);
    put_str(out, contents);
  }
  put_u32(out, static_cast<uint32_t>(globs.size()));
  for (const auto& [pattern, expansion] : globs) {
    put_str(out, pattern);
    put_list(out, expansion);
  }
  put_list(out, directories);
  put_u32(out, static_cast<uint32_t>(identities.size()));
  for (const auto& [key, rec] : identities) {
    put_str(out, key.first);
    put_str(out, key.second);
    put_str(out, rec.error);
    put_u32(out, rec.identity.uid);
    put_u32(out, rec.identity.gid);
    put_u32(out, static_cast<uint32_t>(rec.identity.groups.size()));
    for (gid_t g : rec.identity.groups) put_u32(out, g);
    put_str(out, rec.identity.user_name);
    put_str(out, rec.identity.home);
  }
  return out;
}

Result<ConfigSnapshot> ConfigSnapshot::deserialize(const std::string& bytes) {
  ConfigSnapshot snap;
  ByteReader r(bytes);
  const Error bad{"configuration snapshot is truncated or corrupt (" +
                  std::to_string(bytes.size()) + " bytes); the master must send a fresh one"};
  if (!r.magic()) return bad;
  if (!r.str(snap.main_file) || !r.list(snap.defines)) return bad;
  uint32_t n;
  if (!r.count(n)) return bad;
  for (uint32_t i = 0; i < n; ++i) {
    std::string path, contents;
    if (!r.str(path) || !r.str(contents)) return bad;
    snap.files[path] = std::move(contents);
  }
  if (!r.count(n)) return bad;
  for (uint32_t i = 0; i < n; ++i) {
    std::string pattern;
    std::vector<std::string> expansion;
    if (!r.str(pattern) || !r.list(expansion)) return bad;
    snap.globs[pattern] = std::move(expansion);
  }
  if (!r.list(snap.directories) || !r.count(n)) return bad;
  for (uint32_t i = 0; i < n; ++i) {
    std::string user, group;
    ConfigSnapshot::IdentityRecord rec;
    uint32_t uid, gid, ngroups;
    if (!r.str(user) || !r.str(group) || !r.str(rec.error) || !r.u32(uid) || !r.u32(gid) ||
        !r.count(ngroups)) {
      return bad;
    }
    rec.identity.uid = uid;
    rec.identity.gid = gid;
    rec.identity.groups.resize(ngroups);
    for (auto& g : rec.identity.groups) {
      uint32_t v;
      if (!r.u32(v)) return bad;
      g = v;
    }
    if (!r.str(rec.identity.user_name) || !r.str(rec.identity.home)) return bad;
    snap.identities[{user, group}] = std::move(rec);
  }
  if (!r.at_end()) return bad;
  return snap;
}

Result<std::string> DiskSource::read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return Error{errno_message("cannot open " + path)};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error{errno_message("cannot stat " + path)};
  if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file"};
  std::string contents;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{errno_message("cannot read " + path)};
    }
    if (n == 0) break;
    contents.append(buf, static_cast<size_t>(n));
    if (contents.size() > kMaxConfigFile) {
      return Error{path + " is larger than " + std::to_string(kMaxConfigFile >> 20) +
                   " MiB; that is not a configuration file"};
    }
  }
  recorded_.files[path] = contents;
  return contents;
}

Result<std::vector<std::string>> DiskSource::expand(const std::string& pattern) {
  std::vector<std::string> out;
  if (!has_wildcard(pattern)) {
    // Apache's Include of a directory: every entry but . and .., sorted.
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(pattern.c_str()), ::closedir);
    if (!dir) return Error{errno_message("cannot list directory " + pattern)};
    while (struct dirent* e = ::readdir(dir.get())) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      std::string base = pattern;
      if (base.empty() || base.back() != '/') base += '/';
      out.push_back(base + e->d_name);
    }
    std::sort(out.begin(), out.end());
  } else {
    glob_t g{};
    int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
    if (rc != 0 && rc != GLOB_NOMATCH) {
      return Error{"cannot expand " + pattern + ": " +
                   (rc == GLOB_NOSPACE ? "out of memory" : "read error")};
    }
    std::sort(out.begin(), out.end());
  }
  recorded_.globs[pattern] = out;
  return out;
}

bool DiskSource::is_directory(const std::string& path) {
  struct stat st {};
  bool dir = ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (dir &&
      std::find(recorded_.directories.begin(), recorded_.directories.end(), path) ==
          recorded_.directories.end()) {
    recorded_.directories.push_back(path);
  }
  return dir;
}

Result<Identity> DiskSource::resolve(const std::string& user, const std::string& group) {
  auto id = resolve_identity(user, group);
  ConfigSnapshot::IdentityRecord rec;
  if (id) rec.identity = *id;
  else rec.error = id.error().message;
  recorded_.identities[{user, group}] = std::move(rec);
  return id;
}

Result<Identity> SnapshotSource::resolve(const std::string& user, const std::string& group) {
  auto it = snapshot_.identities.find({user, group});
  if (it == snapshot_.identities.end()) {
    return Error{"identity " + user + ":" + group + " is not in the configuration snapshot"};
  }
  if (!it->second.error.empty()) return Error{it->second.error};
  return it->second.identity;
}

Result<std::string> SnapshotSource::read_file(const std::string& path) {
  auto it = snapshot_.files.find(path);
  if (it == snapshot_.files.end()) {
    return Error{"cannot open " + path + ": not in the configuration snapshot"};
  }
  return it->second;
}

Result<std::vector<std::string>> SnapshotSource::expand(const std::string& pattern) {
  auto it = snapshot_.globs.find(pattern);
  if (it == snapshot_.globs.end()) {
    return Error{"cannot expand " + pattern + ": not in the configuration snapshot"};
  }
  return it->second;
}

bool SnapshotSource::is_directory(const std::string& path) {
  return std::find(snapshot_.directories.begin(), snapshot_.directories.end(), path) !=
         snapshot_.directories.end();
}

}  // namespace itkd
