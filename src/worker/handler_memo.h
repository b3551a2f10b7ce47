// Which handler a file's name selects in a vhost, remembered per worker. Most requests to
// a PHP site are for static files, and deciding that from the name alone (the <Directory>
// merge, <FilesMatch> regexes, AddHandler by extension) was 5 % of a keep-alive 1 KiB
// request's CPU. The answer depends only on the configuration and the path, and a
// worker's configuration never changes (a reload starts new workers), and a .htaccess
// view is never changed but replaced by a new one, so it can't go stale.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include "config/server_config.h"
#include "worker/handler_choice.h"
#include "worker/static/access_check.h"

namespace itkd {

class HandlerMemo {
 public:
  struct Decision {
    HandlerChoice choice;  // choose_handler for the file, not reached through ScriptAlias
    EffectiveAccess access;  // its <Directory> and <Files> rules (judged per client)
  };
  // `fs_path`: the mapped file ("/srv/a/www/x.php"). The reference is valid until the next
  // call.
  const Decision& by_name(const VirtualHost& vhost, const std::string& fs_path);

  size_t size() const { return size_; }
  // A bound on memory against clients requesting endless distinct names: at the bound the
  // memo starts over.
  static constexpr size_t kMaxEntries = 4096;

 private:
  // By vhost and its view_serial: a .htaccess view freed and another allocated at the same
  // address still differ.
  std::map<std::pair<const VirtualHost*, uint64_t>, std::unordered_map<std::string, Decision>> memo_;
  size_t size_ = 0;
};

}  // namespace itkd
