#include "worker/static/directory_listing.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <memory>
#include <vector>

#include "config/server_config.h"
#include "worker/static/path_mapping.h"

namespace itkd {

namespace {

struct Entry {
  std::string name;
  bool is_dir = false;
  off_t size = 0;
  time_t mtime = 0;
};

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

// Apache's apr_strfsize: "-" for directories, else 1 decimal below 10 units.
std::string human_size(off_t size) {
  static constexpr const char* kUnits = "KMGTPE";
  if (size < 973) return std::to_string(size);
  double value = static_cast<double>(size);
  int unit = -1;
  do {
    value /= 1024.0;
    ++unit;
  } while (value >= 973.0 && unit < 5);
  char buf[32];
  if (value < 9.95) {
    snprintf(buf, sizeof buf, "%.1f%c", value, kUnits[unit]);
  } else {
    snprintf(buf, sizeof buf, "%.0f%c", value, kUnits[unit]);
  }
  return buf;
}

std::string format_mtime(time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

// Entry names are escaped completely (not just path-unsafe bytes): a ':' in the first
// segment of a relative href would otherwise read as a URL scheme.
std::string href_for(std::string_view name) {
  std::string escaped = escape_url_path(name);
  std::string out;
  for (char c : escaped) {
    if (c == ':') {
      out += "%3A";
    } else {
      out.push_back(c);
    }
  }
  return html_escape(out);
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

bool render_directory_listing(int dir_fd, std::string_view url_path, unsigned options,
                              const std::function<bool(std::string_view)>& denied, std::string& html) {
  std::unique_ptr<DIR, DirCloser> dir(fdopendir(dir_fd));
  if (!dir) {
    int err = errno;
    close(dir_fd);
    errno = err;
    return false;
  }
  std::vector<Entry> entries;
  errno = 0;
  while (struct dirent* d = readdir(dir.get())) {
    std::string_view name = d->d_name;
    if (name == "." || name == ".." || (denied && denied(name))) continue;
    struct stat lst {};
    if (fstatat(dirfd(dir.get()), d->d_name, &lst, AT_SYMLINK_NOFOLLOW) != 0) continue;
    struct stat st = lst;
    if (S_ISLNK(lst.st_mode)) {
      // Like Apache's per-entry subrequest: a link we would refuse to serve is hidden.
      if (!(options & (kOptFollowSymLinks | kOptSymLinksIfOwnerMatch))) continue;
      if (fstatat(dirfd(dir.get()), d->d_name, &st, 0) != 0) continue;
      if (!(options & kOptFollowSymLinks) && st.st_uid != lst.st_uid) continue;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) continue;
    entries.push_back(Entry{std::string(name), S_ISDIR(st.st_mode), st.st_size, st.st_mtime});
  }
  if (errno != 0) return false;
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });

  std::string title = html_escape(url_path);
  html.clear();
  html.reserve(512 + entries.size() * 160);
  html += "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html>\n <head>\n  <title>Index of ";
  html += title;
  html += "</title>\n </head>\n <body>\n<h1>Index of ";
  html += title;
  html += "</h1>\n  <table>\n   <tr><th>Name</th><th>Last modified</th><th>Size</th></tr>\n"
          "   <tr><th colspan=\"3\"><hr></th></tr>\n";
  if (url_path != "/") {
    // The parent of "/a/b/" is "/a/".
    std::string_view trimmed = url_path.substr(0, url_path.size() - 1);
    std::string parent(trimmed.substr(0, trimmed.rfind('/') + 1));
    html += "<tr><td><a href=\"";
    html += html_escape(escape_url_path(parent));
    html += "\">Parent Directory</a></td><td>&nbsp;</td><td align=\"right\">  - </td></tr>\n";
  }
  for (const Entry& e : entries) {
    std::string shown = html_escape(e.name);
    std::string href = href_for(e.name);
    if (e.is_dir) {
      shown += '/';
      href += '/';
    }
    html += "<tr><td><a href=\"";
    html += href;
    html += "\">";
    html += shown;
    html += "</a></td><td align=\"right\">";
    html += format_mtime(e.mtime);
    html += "  </td><td align=\"right\">";
    html += e.is_dir ? std::string("  - ") : human_size(e.size);
    html += "</td></tr>\n";
  }
  html += "   <tr><th colspan=\"3\"><hr></th></tr>\n</table>\n</body></html>\n";
  return true;
}

}  // namespace itkd
