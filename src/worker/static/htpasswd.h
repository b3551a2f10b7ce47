// mod_authn_file: checking a user's password against an htpasswd file (AuthUserFile), read
// by the owner's worker, so the file needs to be readable by the owner only. The hashes
// `htpasswd` writes: bcrypt ($2y$, -B), SHA-256/512-crypt ($5$, $6$), MD5-crypt ($1$) and
// DES crypt through libcrypt; Apache's own MD5 ($apr1$, htpasswd's default before 2.4)
// and {SHA} with OpenSSL's digests. Plain text is never accepted.
#pragma once

#include <string>
#include <string_view>

namespace itkd {

enum class PasswordCheck { Match, Mismatch, NoSuchUser, FileError };

// Looks `user` up in `file` (re-read when it changes) and checks `password`. `error`
// gets the reason for FileError ("...: Permission denied").
PasswordCheck check_htpasswd(const std::string& file, std::string_view user, std::string_view password,
                             std::string& error);

// --- Exposed for unit tests ---
// Does `password` match the stored hash (any of the formats above)? Compared in constant time.
bool password_matches(std::string_view hash, std::string_view password);
// Apache's $apr1$ MD5 of `password` with `salt` (up to 8 characters): "$apr1$salt$...".
std::string apr1_md5(std::string_view password, std::string_view salt);

}  // namespace itkd
