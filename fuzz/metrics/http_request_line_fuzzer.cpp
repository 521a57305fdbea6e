// SPDX-License-Identifier: GPL-2.0-or-later
// The metrics endpoint's request-line parser over arbitrary bytes.
#include "metrics/metrics.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    if (auto request = ipvsctl::metrics::parse_request_line(line)) {
        // What was accepted is a substring of the input, so it can never be longer.
        if (request->method.size() + request->target.size() + 10 > size + 1) __builtin_trap();
    }
    return 0;
}
