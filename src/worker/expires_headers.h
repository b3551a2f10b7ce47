// mod_expires in the worker: Expires and Cache-Control max-age on a handler's answer,
// from the ExpiresActive / ExpiresByType / ExpiresDefault settings of its sections.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "config/server_config.h"

namespace itkd {

// The settings for an answer, merged along its sections (worker/section_walk.h): the
// vhost's own when no section has any (no copy), else merged into `scratch`.
const ExpiresSettings& expires_for(const VirtualHost& vhost, std::string_view fs_path, std::string_view url_path,
                                   ExpiresSettings& scratch);

// Adds "Expires" and "max-age=N" (merged into Cache-Control) to `field_lines`
// ("Name: value\r\n" each) when ExpiresActive is On, the answer has no Expires of its own
// (a script's stays, as in Apache), and a rule applies to its Content-Type: the type's,
// then "type/*", then ExpiresDefault. A "modification" rule counts from Last-Modified;
// an answer without one gets nothing from it. Only for answers that are not errors.
// Returns whether it added anything.
bool add_expires_headers(std::string& field_lines, const ExpiresSettings& settings, time_t request_time);

}  // namespace itkd
