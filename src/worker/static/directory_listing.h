// mod_autoindex's server-generated directory index ("Index of /path"). Internal to
// itkd_static.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace itkd {

std::string html_escape(std::string_view text);

// Reads the directory open for reading as `dir_fd` (the fd is consumed) and renders the
// listing page for `url_path` (decoded, ending in '/'). `options` are the directory's
// effective Options: symlinks are listed only where they could be followed. Returns
// false with errno set if the directory cannot be read. `denied(name)`: entries the
// server would refuse (Require in <Files>, .ht*) are left out, as mod_autoindex's
// per-entry subrequest leaves them out.
bool render_directory_listing(int dir_fd, std::string_view url_path, unsigned options,
                              const std::function<bool(std::string_view)>& denied, std::string& html);

}  // namespace itkd
