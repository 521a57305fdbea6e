// SPDX-License-Identifier: GPL-2.0-or-later
// HTTP/1.0 and HTTP/1.1 responses as a pure function over bytes: status
// line, headers, and a body framed by chunked encoding, Content-Length or
// the end of the connection. Plus the request HTTP_GET/SSL_GET send and the
// body digest keepalived's genhash prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipvsctl::healthcheck::http {

enum class ParseStatus {
    complete,    ///< a whole response is in the buffer
    incomplete,  ///< more bytes are needed
    invalid,     ///< not an HTTP response; `error` says why
};

struct Response {
    int version_major = 1;
    int version_minor = 0;
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;  ///< names as sent
    std::string body;                                          ///< de-chunked

    /// The first header of that name (case-insensitive), if any.
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

struct ParseLimits {
    std::size_t max_header_bytes = 64 * 1024;
    std::size_t max_body_bytes = 16 * 1024 * 1024;
};

struct ParseResult {
    ParseStatus status = ParseStatus::incomplete;
    Response response;  ///< filled when complete
    std::string error;  ///< set when invalid
};

/// Parses the bytes received so far. `at_eof` says the peer closed the
/// connection, which completes a body that has no other framing.
ParseResult parse_response(std::span<const std::uint8_t> bytes, bool at_eof,
                           const ParseLimits& limits = {});
ParseResult parse_response(std::string_view bytes, bool at_eof, const ParseLimits& limits = {});

/// Whether `status` lies in one of the inclusive ranges; 200-299 when there
/// are none, as keepalived defaults.
bool status_accepted(int status, const std::vector<std::pair<int, int>>& ranges);

/// "1.0", "1.0C" (1.0 with Connection: close) or "1.1" (with Connection:
/// close unless `keep_open`: then the server may keep the connection).
std::string build_get_request(std::string_view path, std::string_view host,
                              std::string_view protocol, bool keep_open = false);

/// Whether the connection that carried `response` can carry another
/// request (RFC 9112 section 9.3): HTTP/1.1 without "Connection: close",
/// and a body framed by Content-Length or chunked, not by the close.
bool connection_reusable(const Response& response);

/// The body digest as keepalived's genhash computes it: MD5 of the body,
/// lowercase hex.
std::string body_digest(std::string_view body);

/// Digest text from a config compared with case folded.
bool digest_matches(std::string_view expected, std::string_view actual);

}  // namespace ipvsctl::healthcheck::http
