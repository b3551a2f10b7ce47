// mod_php's php_value, php_flag, php_admin_value and php_admin_flag, kept for the PHP that
// runs in place of mod_php: php-cgi gets them as "-d name=value" when it starts, php-fpm
// as the PHP_VALUE / PHP_ADMIN_VALUE FastCGI parameters of each request. An mpm-itk
// configuration carries them in <VirtualHost> and <Directory> blocks ("php_admin_flag
// engine off" in an uploads directory, "php_admin_value open_basedir ..."), so they must
// keep working, not be dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace itkd {

struct PhpIniSetting {
  std::string name;   // "upload_max_filesize"
  std::string value;  // as written; php_flag's On/Off as "1"/"0", as mod_php passes them
  bool admin = false;  // php_admin_*: a php_value of a deeper scope can't change it
};

// `later` (a deeper scope, or the same scope further down) applied over `into`, as mod_php
// merges: same name replaces, except that a non-admin setting never replaces an admin one.
void merge_php_ini(std::vector<PhpIniSetting>& into, const std::vector<PhpIniSetting>& later);

// php-cgi's command-line options for them: {"-d", "name=value", ...}.
std::vector<std::string> php_cgi_ini_args(const std::vector<PhpIniSetting>& settings);

// The PHP_VALUE (admin = false) or PHP_ADMIN_VALUE (admin = true) parameter: one
// "name=value" per line, as php-fpm reads it; empty if there is none.
std::string php_fpm_ini_param(const std::vector<PhpIniSetting>& settings, bool admin);

// mod_php's "engine" setting after the merge: off ("0", "off", "false", "no", empty) means
// PHP doesn't run there, and itkd serves the files as files.
bool php_engine_off(const std::vector<PhpIniSetting>& settings);

// Is this FcgidWrapper command php-cgi ("/usr/bin/php-cgi", "php-cgi8.2", "php8.2-cgi")?
// Only php-cgi understands "-d"; other wrappers get nothing added to their command line.
bool is_php_cgi_command(std::string_view command);

}  // namespace itkd
