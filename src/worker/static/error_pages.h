// Apache-style built-in pages for errors and redirects (the HTML 2.0 template of
// ap_send_error_response). Internal to itkd_static.
#pragma once

#include <string>
#include <string_view>

namespace itkd {

// "Not Found", "Moved Permanently", ... for the statuses the static handler answers.
std::string_view static_status_title(int status);

// The body Apache sends for `status`; `method` and `location` fill the 405 and 3xx text.
std::string default_error_body(int status, std::string_view method, std::string_view location);

inline constexpr std::string_view kErrorPageContentType = "text/html; charset=iso-8859-1";

}  // namespace itkd
