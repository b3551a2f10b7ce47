// The sections whose settings apply to an answer, in Apache's merge order: the vhost
// (the main server's settings already merged in), the <Directory> blocks of the file's
// directory (shortest path first, then <DirectoryMatch>), the <Files> blocks matching its
// name, then the <Location> blocks matching the decoded URL path, each in config order.
// mod_headers and mod_expires settings are merged along it.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include "config/server_config.h"
#include "worker/static/access_check.h"
#include "worker/static/static_handler.h"

namespace itkd {

// visit(section) for each section above; `relevant(block)` says whether a block has
// anything for the caller, so the <Directory> blocks are sorted only when one of them
// does. `fs_path` empty: no <Directory>/<Files>; `url_path` empty: no <Location>.
template <class Relevant, class Visit>
void walk_sections(const VirtualHost& vhost, std::string_view fs_path, std::string_view url_path,
                   Relevant relevant, Visit visit) {
  visit(vhost);
  auto any = [&](const auto& blocks) { return std::any_of(blocks.begin(), blocks.end(), relevant); };
  if (!fs_path.empty() && (any(vhost.directories) || any(vhost.files_blocks))) {
    // A directory answer (listing, index redirect) names the directory with a final '/'.
    size_t slash = fs_path.rfind('/');
    std::string dir(slash == 0 || slash == std::string_view::npos ? std::string_view("/") : fs_path.substr(0, slash));
    std::string_view base = slash == std::string_view::npos ? fs_path : fs_path.substr(slash + 1);
    for (const DirectoryBlock* block : directory_blocks_for(vhost, dir))
      if (relevant(*block)) visit(*block);
    if (!base.empty()) {
      for (const FilesBlock& f : vhost.files_blocks)
        if (relevant(f) && files_block_matches(f, dir, base)) visit(f);
    }
  }
  if (!url_path.empty()) {
    for (const LocationBlock& l : vhost.locations)
      if (relevant(l) && location_matches(l, url_path)) visit(l);
  }
}

}  // namespace itkd
