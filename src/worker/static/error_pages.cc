#include "worker/static/error_pages.h"

#include "worker/static/directory_listing.h"

namespace itkd {

std::string_view static_status_title(int status) {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 416: return "Range Not Satisfiable";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    default: return status >= 500 ? "Server Error" : status >= 400 ? "Client Error" : "Status";
  }
}

std::string default_error_body(int status, std::string_view method, std::string_view location) {
  std::string_view title = static_status_title(status);
  std::string text;
  switch (status) {
    case 301: case 302: case 303: case 307: case 308:
      text = "<p>The document has moved <a href=\"" + html_escape(location) + "\">here</a>.</p>\n";
      break;
    case 400:
      text = "<p>Your browser sent a request that this server could not understand.<br />\n</p>\n";
      break;
    case 403:
      text = "<p>You don't have permission to access this resource.</p>\n";
      break;
    case 404:
      text = "<p>The requested URL was not found on this server.</p>\n";
      break;
    case 405:
      text = "<p>The requested method " + html_escape(method) +
             " is not allowed for this URL.</p>\n";
      break;
    case 410:
      text = "<p>The requested resource is no longer available on this server and there is "
             "no forwarding address.\nPlease remove all references to this resource.</p>\n";
      break;
    case 412:
      text = "<p>The precondition on the request for this URL evaluated to false.</p>\n";
      break;
    case 416:
      text = "<p>None of the range-specifier values in the Range request-header field overlap "
             "the current extent of the selected resource.</p>\n";
      break;
    case 501:
      text = "<p>" + html_escape(method) + " not supported for current URL.<br />\n</p>\n";
      break;
    default:
      text = "<p>The server encountered an internal error or\nmisconfiguration and was unable "
             "to complete\nyour request.</p>\n";
      break;
  }
  std::string body =
      "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>";
  body += std::to_string(status);
  body += ' ';
  body += title;
  body += "</title>\n</head><body>\n<h1>";
  body += title;
  body += "</h1>\n";
  body += text;
  body += "</body></html>\n";
  return body;
}

}  // namespace itkd
