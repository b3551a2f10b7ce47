// A .htaccess file -> the settings it adds for its directory, as Apache's
// ap_parse_htaccess: the same directives as in <Directory>, limited to what that
// directory's AllowOverride and AllowOverrideList grant. Called by the owner's worker
// (src/worker/htaccess_views.h), which read the file as the owner; never by root.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "config/server_config.h"

namespace itkd {

// What a directory's <Directory> blocks let its .htaccess file say.
struct HtaccessPermissions {
  OverrideRules rules;             // AllowOverride (classes 0: None)
  std::vector<std::string> list;   // AllowOverrideList, lowercase
  bool none() const { return rules.classes == 0 && list.empty(); }
};

struct HtaccessBlocks {
  DirectoryBlock directory;              // path: the file's directory; from_htaccess set
  std::vector<FilesBlock> files_blocks;  // its <Files>/<FilesMatch>, for files below it only
  std::vector<std::string> warnings;     // "file:line: ..." (lines skipped or without effect)
};

// `directory`: absolute, normalized; `server_root` resolves a relative AuthUserFile.
// Fails with every error found, each "file:line: reason".
Result<HtaccessBlocks> parse_htaccess(const std::string& text, const std::string& file_name,
                                      const std::string& directory, const HtaccessPermissions& allowed,
                                      const std::string& server_root);

}  // namespace itkd
