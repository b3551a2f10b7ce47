// Validators and conditional / range requests for static files (RFC 9110 sections 8.8,
// 13 and 14). Internal to itkd_static.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "config/server_config.h"
#include "http/request_head.h"

namespace itkd {

// Apache's form: the FileETag parts in hex, inode-size-mtime (mtime in microseconds),
// joined by '-'; by default "<size>-<mtime>". Empty for FileETag None (no ETag is sent).
std::string make_etag(const struct stat& st, unsigned parts = kDefaultFileETag);

// Does the If-Match / If-None-Match style list contain `etag`? "*" matches anything.
// Weak comparison ignores "W/"; strong comparison needs both tags strong and equal.
bool etag_list_matches(std::string_view list, std::string_view etag, bool weak);

enum class Precondition { Proceed, NotModified, Failed };
// RFC 9110 13.2.2 order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since.
Precondition evaluate_preconditions(const http::RequestHead& head, std::string_view etag,
                                    time_t mtime, time_t now);

struct RangeDecision {
  enum class Kind { Full, Partial, Unsatisfiable } kind = Kind::Full;
  uint64_t first = 0;
  uint64_t length = 0;
};
// Single byte ranges only; several ranges, a syntax error or a failed If-Range all mean
// "send the full representation", which RFC 9110 allows.
RangeDecision evaluate_range(const http::RequestHead& head, uint64_t size, std::string_view etag,
                             time_t mtime);

}  // namespace itkd
