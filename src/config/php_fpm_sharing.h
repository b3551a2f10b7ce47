// php-fpm applies a request's PHP_VALUE / PHP_ADMIN_VALUE to the child process that
// serves it and never resets them (checked on Debian's php-fpm 8.2): later requests to
// that child, from any site, run with them. Sites, or directories of one site, that send
// one php-fpm pool different settings therefore see each other's; `itkd -t` says where.
#pragma once

#include <string>
#include <vector>

#include "config/server_config.h"

namespace itkd {

struct PhpFpmSettingsClash {
  SourceLocation where;  // the vhost of the second, differing scope
  std::string message;
};

// One entry per php-fpm backend (SetHandler/AddHandler proxy:..., ProxyPassMatch) that
// gets more than one set of settings. Scopes where `engine` is off never reach php-fpm
// (itkd serves their files as files) and don't count.
std::vector<PhpFpmSettingsClash> find_php_fpm_settings_clashes(const std::vector<const VirtualHost*>& vhosts);

}  // namespace itkd
