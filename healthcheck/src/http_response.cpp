// SPDX-License-Identifier: GPL-2.0-or-later
#include "healthcheck/http_response.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>

namespace ipvsctl::healthcheck::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        const auto lower = [](char c) {
            return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        };
        return lower(x) == lower(y);
    });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

/// Whether the comma-separated header value `list` holds `token`.
bool contains_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        if (iequals(trim(list.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

/// Finds the end of the line starting at `from`; returns the position of
/// '\n' or npos. Lines may end with CRLF or bare LF.
std::size_t line_end(std::string_view text, std::size_t from) {
    return text.find('\n', from);
}

std::string_view line_at(std::string_view text, std::size_t from, std::size_t end) {
    std::string_view line = text.substr(from, end - from);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

ParseResult invalid(std::string why) {
    ParseResult result;
    result.status = ParseStatus::invalid;
    result.error = std::move(why);
    return result;
}

ParseResult incomplete() {
    return ParseResult{};
}

bool parse_status_line(std::string_view line, Response& response, std::string& error) {
    // HTTP/x.y SP 3DIGIT [SP reason]
    if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[6] != '.' || line[8] != ' ') {
        error = "malformed status line";
        return false;
    }
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!digit(line[5]) || !digit(line[7]) || !digit(line[9]) || !digit(line[10]) ||
        !digit(line[11])) {
        error = "malformed status line";
        return false;
    }
    if (line.size() > 12 && line[12] != ' ') {
        error = "malformed status code";
        return false;
    }
    response.version_major = line[5] - '0';
    response.version_minor = line[7] - '0';
    response.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    response.reason = std::string(line.size() > 13 ? line.substr(13) : std::string_view{});
    return true;
}

/// Decodes a chunked body starting at `from`. Returns incomplete, invalid or
/// complete (with the body in `body`).
ParseStatus decode_chunked(std::string_view text, std::size_t from, bool at_eof,
                           std::size_t max_body, std::string& body, std::string& error) {
    std::size_t pos = from;
    for (std::size_t chunks = 0;; ++chunks) {
        const std::size_t end = line_end(text, pos);
        if (end == std::string_view::npos) return ParseStatus::incomplete;
        std::string_view size_line = line_at(text, pos, end);
        size_line = size_line.substr(0, size_line.find(';'));  // chunk extensions
        size_line = trim(size_line);
        std::uint64_t size = 0;
        const auto [ptr, ec] =
            std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
        if (size_line.empty() || ec != std::errc{} || ptr != size_line.data() + size_line.size()) {
            error = "malformed chunk size";
            return ParseStatus::invalid;
        }
        if (size > max_body || body.size() + size > max_body) {
            error = "body too large";
            return ParseStatus::invalid;
        }
        pos = end + 1;
        if (size == 0) {
            // Trailer fields until an empty line; a peer that closes right
            // after the last chunk has still sent a whole body.
            for (;;) {
                const std::size_t trailer_end = line_end(text, pos);
                if (trailer_end == std::string_view::npos)
                    return at_eof ? ParseStatus::complete : ParseStatus::incomplete;
                const bool empty = line_at(text, pos, trailer_end).empty();
                pos = trailer_end + 1;
                if (empty) return ParseStatus::complete;
            }
        }
        if (text.size() - pos < size) return ParseStatus::incomplete;
        body.append(text.substr(pos, static_cast<std::size_t>(size)));
        pos += static_cast<std::size_t>(size);
        // CRLF after the data.
        if (text.size() - pos < 1) return ParseStatus::incomplete;
        if (text[pos] == '\r') {
            if (text.size() - pos < 2) return ParseStatus::incomplete;
            ++pos;
        }
        if (text[pos] != '\n') {
            error = "chunk data not followed by CRLF";
            return ParseStatus::invalid;
        }
        ++pos;
    }
}

}  // namespace

std::optional<std::string_view> Response::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (iequals(key, name)) return std::string_view(value);
    return std::nullopt;
}

ParseResult parse_response(std::span<const std::uint8_t> bytes, bool at_eof,
                           const ParseLimits& limits) {
    return parse_response(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), at_eof,
        limits);
}

ParseResult parse_response(std::string_view text, bool at_eof, const ParseLimits& limits) {
    ParseResult result;
    Response& response = result.response;

    // Header block: up to the first empty line.
    std::size_t pos = 0;
    bool first_line = true;
    bool headers_done = false;
    while (!headers_done) {
        const std::size_t end = line_end(text, pos);
        if (end == std::string_view::npos || end >= limits.max_header_bytes) {
            if (text.size() >= limits.max_header_bytes) return invalid("header block too large");
            return at_eof ? invalid("connection closed inside the header") : incomplete();
        }
        const std::string_view line = line_at(text, pos, end);
        pos = end + 1;
        if (first_line) {
            std::string error;
            if (!parse_status_line(line, response, error)) return invalid(error);
            first_line = false;
            continue;
        }
        if (line.empty()) {
            headers_done = true;
            break;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return invalid("malformed header line");
        const std::string_view name = line.substr(0, colon);
        if (name.find_first_of(" \t") != std::string_view::npos)
            return invalid("whitespace in header name");
        response.headers.emplace_back(std::string(name), std::string(trim(line.substr(colon + 1))));
    }

    // Responses that never carry a body (RFC 9112 section 6.3).
    if ((response.status >= 100 && response.status < 200) || response.status == 204 ||
        response.status == 304) {
        result.status = ParseStatus::complete;
        return result;
    }

    const std::string_view rest = text.substr(pos);
    const auto transfer_encoding = response.header("Transfer-Encoding");
    if (transfer_encoding && iequals(trim(*transfer_encoding), "chunked")) {
        std::string error;
        const ParseStatus status =
            decode_chunked(text, pos, at_eof, limits.max_body_bytes, response.body, error);
        if (status == ParseStatus::invalid) return invalid(error);
        if (status == ParseStatus::incomplete)
            return at_eof ? invalid("connection closed inside a chunked body") : incomplete();
        result.status = ParseStatus::complete;
        return result;
    }
    if (const auto length_text = response.header("Content-Length")) {
        const std::string_view digits = trim(*length_text);
        std::uint64_t length = 0;
        const auto [ptr, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), length);
        if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size())
            return invalid("malformed Content-Length");
        if (length > limits.max_body_bytes) return invalid("body too large");
        if (rest.size() < length)
            return at_eof ? invalid("connection closed before Content-Length bytes") : incomplete();
        response.body = std::string(rest.substr(0, static_cast<std::size_t>(length)));
        result.status = ParseStatus::complete;
        return result;
    }
    // No framing: the body runs to the end of the connection.
    if (rest.size() > limits.max_body_bytes) return invalid("body too large");
    if (!at_eof) return incomplete();
    response.body = std::string(rest);
    result.status = ParseStatus::complete;
    return result;
}

bool status_accepted(int status, const std::vector<std::pair<int, int>>& ranges) {
    if (ranges.empty()) return status >= 200 && status <= 299;
    return std::any_of(ranges.begin(), ranges.end(),
                       [status](const auto& r) { return status >= r.first && status <= r.second; });
}

std::string build_get_request(std::string_view path, std::string_view host,
                              std::string_view protocol, bool keep_open) {
    const bool v11 = protocol == "1.1";
    std::string request = "GET ";
    request += path.empty() ? std::string_view("/") : path;
    request += v11 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n";
    request += "User-Agent: healthcheckd\r\n";
    if (!host.empty()) {
        request += "Host: ";
        request += host;
        request += "\r\n";
    }
    if ((v11 && !keep_open) || protocol == "1.0C") request += "Connection: close\r\n";
    request += "\r\n";
    return request;
}

bool connection_reusable(const Response& response) {
    if (response.version_major != 1 || response.version_minor < 1) return false;
    if (const auto connection = response.header("Connection")) {
        if (contains_token(*connection, "close")) return false;
    }
    const auto transfer_encoding = response.header("Transfer-Encoding");
    if (transfer_encoding) return iequals(trim(*transfer_encoding), "chunked");
    return response.header("Content-Length").has_value();
}

std::string body_digest(std::string_view body) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(body.data(), body.size(), digest.data(), &length, EVP_md5(), nullptr) != 1)
        return {};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * length);
    for (unsigned int i = 0; i < length; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 0xf];
    }
    return hex;
}

bool digest_matches(std::string_view expected, std::string_view actual) {
    return iequals(trim(expected), actual);
}

}  // namespace ipvsctl::healthcheck::http
