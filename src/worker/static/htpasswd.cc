#include "worker/static/htpasswd.h"

#include <crypt.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "common/read_fd.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace itkd {

namespace {

constexpr char kItoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// One MD5 computation fed in pieces.
class Md5 {
 public:
  Md5() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_md5(), nullptr); }
  void update(std::string_view s) { EVP_DigestUpdate(ctx_.get(), s.data(), s.size()); }
  void update(const unsigned char* p, size_t n) { EVP_DigestUpdate(ctx_.get(), p, n); }
  void final(unsigned char out[16]) {
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), out, &len);
  }

 private:
  MdCtx ctx_;
};

void to64(std::string& out, unsigned long v, int n) {
  while (n-- > 0) {
    out += kItoa64[v & 0x3f];
    v >>= 6;
  }
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string sha256(std::string_view s) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), digest, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), len);
}

std::string sha1_base64(std::string_view password) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(password.data(), password.size(), digest, &len, EVP_sha1(), nullptr);
  unsigned char b64[64] = {};
  int n = EVP_EncodeBlock(b64, digest, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

// The file's users, kept while the file stays the same (inode, size, mtime).
struct UserFile {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  timespec mtime{};
  std::unordered_map<std::string, std::string> hashes;  // user -> hash
  // user -> SHA-256 of the password that last matched. A browser sends the credentials
  // with every request, and a bcrypt check (cost 10+: tens of ms) would stall all of the
  // owner's connections on this worker each time; a repeat costs one SHA-256 instead,
  // as with mod_authn_socache. Dropped when the file changes.
  std::unordered_map<std::string, std::string> verified;
};

constexpr off_t kMaxFileSize = 4 << 20;  // a bound against pointing AuthUserFile at a log

bool load(const std::string& path, UserFile& f, std::string& error) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    error = errno_message("AuthUserFile " + path);
    return false;
  }
  if (!S_ISREG(st.st_mode) || st.st_size > kMaxFileSize) {
    error = "AuthUserFile " + path + " is not a regular file of at most 4 MiB";
    return false;
  }
  if (st.st_dev == f.dev && st.st_ino == f.ino && st.st_size == f.size && st.st_mtim.tv_sec == f.mtime.tv_sec &&
      st.st_mtim.tv_nsec == f.mtime.tv_nsec) {
    return true;
  }
  std::string text = read_up_to(fd.get(), static_cast<size_t>(st.st_size));
  f.hashes.clear();
  f.verified.clear();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view hash = line.substr(colon + 1);
    // htdigest-style "user:realm:hash" and trailing fields are not htpasswd: the hash ends
    // at the next colon, as apr's parser has it.
    if (size_t c2 = hash.find(':'); c2 != std::string_view::npos) hash = hash.substr(0, c2);
    f.hashes.emplace(std::string(line.substr(0, colon)), std::string(hash));  // the first line for a user wins
  }
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  f.size = st.st_size;
  f.mtime = st.st_mtim;
  return true;
}

}  // namespace

std::string apr1_md5(std::string_view password, std::string_view salt) {
  static constexpr std::string_view kMagic = "$apr1$";
  if (salt.size() > 8) salt = salt.substr(0, 8);
  unsigned char final_[16];
  {
    Md5 alt;
    alt.update(password);
    alt.update(salt);
    alt.update(password);
    alt.final(final_);
  }
  Md5 ctx;
  ctx.update(password);
  ctx.update(kMagic);
  ctx.update(salt);
  for (size_t left = password.size(); left > 0; left -= std::min<size_t>(left, 16)) {
    ctx.update(final_, std::min<size_t>(left, 16));
  }
  std::memset(final_, 0, sizeof final_);
  for (size_t i = password.size(); i; i >>= 1) {
    if (i & 1) ctx.update(final_, 1);
    else ctx.update(password.substr(0, 1));
  }
  ctx.final(final_);
  // 1000 rounds, to make brute force slower (as md5crypt does).
  for (int i = 0; i < 1000; ++i) {
    Md5 round;
    if (i & 1) round.update(password);
    else round.update(final_, 16);
    if (i % 3) round.update(salt);
    if (i % 7) round.update(password);
    if (i & 1) round.update(final_, 16);
    else round.update(password);
    round.final(final_);
  }
  std::string out(kMagic);
  out += salt;
  out += '$';
  auto b = [&](int i) { return static_cast<unsigned long>(final_[i]); };
  to64(out, (b(0) << 16) | (b(6) << 8) | b(12), 4);
  to64(out, (b(1) << 16) | (b(7) << 8) | b(13), 4);
  to64(out, (b(2) << 16) | (b(8) << 8) | b(14), 4);
  to64(out, (b(3) << 16) | (b(9) << 8) | b(15), 4);
  to64(out, (b(4) << 16) | (b(10) << 8) | b(5), 4);
  to64(out, b(11), 2);
  return out;
}

bool password_matches(std::string_view hash, std::string_view password) {
  if (password.find('\0') != std::string_view::npos) return false;
  if (hash.rfind("$apr1$", 0) == 0) {
    std::string_view rest = hash.substr(6);
    std::string_view salt = rest.substr(0, rest.find('$'));
    return equal_constant_time(apr1_md5(password, salt), hash);
  }
  if (hash.rfind("{SHA}", 0) == 0) return equal_constant_time(sha1_base64(password), hash.substr(5));
  // bcrypt, SHA-crypt, MD5-crypt and DES crypt: libcrypt knows the formats by prefix. A
  // hash it doesn't know (or plain text) gives "*0"/"*1", which matches nothing.
  if (hash.empty() || hash[0] == '*') return false;
  std::string pw(password);
  std::string setting(hash);
  thread_local crypt_data data;  // 32 KiB: not on the stack
  std::memset(&data, 0, sizeof data);
  const char* out = crypt_r(pw.c_str(), setting.c_str(), &data);
  bool ok = out && out[0] != '*' && equal_constant_time(out, hash);
  OPENSSL_cleanse(pw.data(), pw.size());
  return ok;
}

PasswordCheck check_htpasswd(const std::string& file, std::string_view user, std::string_view password,
                             std::string& error) {
  // The worker is single-threaded and serves one owner: a small cache of parsed files.
  thread_local std::unordered_map<std::string, UserFile> files;
  if (files.size() > 64 && !files.count(file)) files.clear();
  UserFile& f = files[file];
  if (!load(file, f, error)) {
    files.erase(file);
    return PasswordCheck::FileError;
  }
  std::string name(user);
  auto it = f.hashes.find(name);
  if (it == f.hashes.end()) return PasswordCheck::NoSuchUser;
  std::string digest = sha256(password);
  if (auto v = f.verified.find(name); v != f.verified.end() && equal_constant_time(v->second, digest)) {
    return PasswordCheck::Match;
  }
  if (!password_matches(it->second, password)) return PasswordCheck::Mismatch;
  f.verified[name] = std::move(digest);
  return PasswordCheck::Match;
}

}  // namespace itkd
