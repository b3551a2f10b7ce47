// Response heads and the server's own small error responses.
#include "http/response_head.h"

#include <string>
#include <string_view>

#include "http/request_head.h"

namespace itkd::http {

namespace {

void append_sanitized(std::string& text, std::string_view s) {
  // Fast path: values from our own code never contain line breaks.
  if (s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos) {
    text.append(s);
    return;
  }
  for (char c : s) text.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
}

void append_html_escaped(std::string& text, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': text.append("&amp;"); break;
      case '<': text.append("&lt;"); break;
      case '>': text.append("&gt;"); break;
      case '"': text.append("&quot;"); break;
      case '\'': text.append("&#39;"); break;
      default: text.push_back(c);
    }
  }
}

// Apache's wording, so error pages look familiar to people moving from mpm-itk.
std::string_view default_detail(int status) {
  switch (status) {
    case 400: return "Your browser sent a request that this server could not understand.";
    case 403: return "You don't have permission to access this resource.";
    case 404: return "The requested URL was not found on this server.";
    case 405: return "The requested method is not allowed for this URL.";
    case 408: return "Server timeout waiting for the HTTP request from the client.";
    case 411: return "A request of the requested method requires a valid Content-length.";
    case 413:
      return "The requested resource does not allow request data with this method, or the "
             "amount of data provided in the request exceeds the capacity limit.";
    case 414: return "The requested URL's length exceeds the capacity limit for this server.";
    case 417:
      return "The expectation given in the Expect request-header field could not be met by "
             "this server.";
    case 431:
      return "Your browser sent a request that this server could not understand. Size of a "
             "request header field exceeds server limit.";
    case 500:
      return "The server encountered an internal error or misconfiguration and was unable to "
             "complete your request.";
    case 501: return "The requested method or transfer coding is not supported by this server.";
    case 502: return "The proxy server received an invalid response from an upstream server.";
    case 503:
      return "The server is temporarily unable to service your request due to maintenance "
             "downtime or capacity problems. Please try again later.";
    case 504:
      return "The gateway did not receive a timely response from the upstream server or "
             "application.";
    case 505: return "The server does not support the HTTP version used in the request.";
    default: return {};
  }
}

}  // namespace

ResponseHead::ResponseHead(int status) : status_(status) {
  text_.reserve(256);
  text_.append("HTTP/1.1 ");
  text_.append(std::to_string(status_));
  text_.push_back(' ');
  text_.append(reason_phrase(status_));
  text_.append("\r\n");
}

void ResponseHead::add(std::string_view name, std::string_view value) {
  append_sanitized(text_, name);
  text_.append(": ");
  append_sanitized(text_, value);
  text_.append("\r\n");
}

void ResponseHead::add_raw(std::string_view field_lines) {
  text_.append(field_lines);
  if (!field_lines.empty() && field_lines.substr(field_lines.size() - 1) != "\n") {
    text_.append("\r\n");
  }
}

std::string ResponseHead::finish(bool keep_alive, bool add_connection_header) {
  text_.append("Date: ");
  text_.append(http_date_now());
  text_.append("\r\nServer: itkd\r\n");
  if (add_connection_header) {
    text_.append(keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
  }
  text_.append("\r\n");
  return std::move(text_);
}

std::string simple_error_response(int status, bool keep_alive, std::string_view detail,
                                  std::string_view extra_headers) {
  const std::string_view reason = reason_phrase(status);
  if (detail.empty()) detail = default_detail(status);

  std::string body;
  body.reserve(256 + detail.size());
  body.append("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>");
  body.append(std::to_string(status));
  body.push_back(' ');
  body.append(reason);
  body.append("</title>\n</head><body>\n<h1>");
  body.append(reason);
  body.append("</h1>\n");
  if (!detail.empty()) {
    body.append("<p>");
    append_html_escaped(body, detail);
    body.append("</p>\n");
  }
  body.append("</body></html>\n");

  ResponseHead head(status);
  head.add("Content-Type", "text/html; charset=iso-8859-1");
  head.add("Content-Length", std::to_string(body.size()));
  head.add_raw(extra_headers);
  // Keep-alive is HTTP/1.1's default, so only the closing case needs saying.
  std::string response = head.finish(keep_alive, !keep_alive);
  response.append(body);
  return response;
}

}  // namespace itkd::http
