#include "worker/handler_memo.h"

#include "worker/static/static_handler.h"

namespace itkd {

const HandlerMemo::Decision& HandlerMemo::by_name(const VirtualHost& vhost, const std::string& fs_path) {
  auto& table = memo_[{&vhost, vhost.view_serial}];
  if (auto it = table.find(fs_path); it != table.end()) return it->second;
  if (size_ >= kMaxEntries) {
    memo_.clear();
    size_ = 0;
  }
  size_t slash = fs_path.rfind('/');
  std::string parent = slash == std::string::npos || slash == 0 ? "/" : fs_path.substr(0, slash);
  DirectorySettings dir = settings_for_directory(vhost, parent);
  Decision d;
  d.access = access_for_file(vhost, fs_path, dir.access);
  d.choice = choose_handler(vhost, fs_path, false, dir);
  ++size_;
  return memo_[{&vhost, vhost.view_serial}].emplace(fs_path, std::move(d)).first->second;
}

}  // namespace itkd
