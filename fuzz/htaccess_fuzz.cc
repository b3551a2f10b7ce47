// libFuzzer target: arbitrary bytes as a tenant's .htaccess file, under permissions the
// first byte picks. The file is the tenant's to write and the owner's worker parses it:
// nothing may crash or hang, and whatever parses must stay in its directory.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config_parser.h"
#include "config/htaccess_parser.h"
#include "worker/dynamic_target.h"
#include "worker/static/static_handler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  itkd::HtaccessPermissions allowed;
  allowed.rules.classes = data[0] & itkd::kOverrideAll;
  allowed.rules.nonfatal_override = data[0] & 0x20;
  allowed.rules.nonfatal_unknown = data[0] & 0x40;
  if (data[0] & 0x80) allowed.list = {"rewriterule", "require"};
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string dir = "/srv/www/site";
  auto parsed = itkd::parse_htaccess(text, dir + "/.htaccess", dir, allowed, "/etc/itkd");
  if (!parsed.ok()) return 0;
  // Nothing a file says reaches beyond its own directory.
  if (parsed->directory.path != dir || !parsed->directory.from_htaccess) std::abort();
  for (const itkd::FilesBlock& f : parsed->files_blocks)
    if (f.directory != dir) std::abort();
  itkd::VirtualHost vhost;
  vhost.document_root = "/srv/www";
  vhost.directories.push_back(parsed->directory);
  vhost.files_blocks = parsed->files_blocks;
  itkd::derive_section_flags(vhost);
  (void)itkd::vhost_has_dynamic_handlers(vhost);
  (void)itkd::settings_for_directory(vhost, dir + "/sub");
  // A sibling whose name merely starts the same is not below it.
  itkd::DirectorySettings sibling = itkd::settings_for_directory(vhost, dir + "-b");
  if (sibling.options != itkd::kDefaultOptions || sibling.directory_index != vhost.directory_index) std::abort();
  return 0;
}
