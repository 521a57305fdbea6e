// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the HTTP response parser of HTTP_GET/SSL_GET.
#include <cstddef>
#include <cstdint>
#include <span>

#include "healthcheck/http_response.hpp"

using namespace ipvsctl::healthcheck::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    ParseLimits limits;
    limits.max_header_bytes = 4096;
    limits.max_body_bytes = 64 * 1024;
    for (const bool at_eof : {false, true}) {
        const ParseResult result = parse_response(bytes, at_eof, limits);
        if (result.status == ParseStatus::complete) {
            // What the checker does with a whole reply.
            (void)status_accepted(result.response.status, {});
            (void)body_digest(result.response.body);
            // A body framed by the close never leaves the connection reusable.
            if (at_eof && connection_reusable(result.response) &&
                !result.response.header("Content-Length") &&
                !result.response.header("Transfer-Encoding"))
                __builtin_trap();
            if (result.response.body.size() > limits.max_body_bytes) __builtin_trap();
        }
        if (result.status == ParseStatus::invalid && result.error.empty()) __builtin_trap();
    }
    // A prefix of a complete reply is never invalid unless the reply is.
    if (size > 1) {
        const ParseResult whole = parse_response(bytes, false, limits);
        const ParseResult prefix = parse_response(bytes.first(size / 2), false, limits);
        if (whole.status == ParseStatus::complete && prefix.status == ParseStatus::invalid &&
            prefix.error != "body too large")
            __builtin_trap();
    }
    return 0;
}
