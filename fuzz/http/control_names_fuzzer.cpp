// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for healthcheckd's small text parsers: the names its
// control socket accepts (drain/undrain: service and server) and the line
// a weight agent answers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "healthcheck/drain.hpp"
#include "healthcheck/dynamic_weight.hpp"

using namespace ipvsctl::healthcheck;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string error;
    const auto service = parse_service_spec(text, error);
    if (!service && error.empty()) __builtin_trap();
    if (service && service->is_fwmark() && service->fwmark == 0) __builtin_trap();
    error.clear();
    const auto server = parse_server_spec(text, error);
    if (!server && error.empty()) __builtin_trap();
    // What parses round-trips through the address printer.
    if (server && !server->address.to_string().empty() && server->address.is_v6() &&
        text.front() != '[')
        __builtin_trap();
    if (const auto reply = parse_agent_reply(text)) {
        if (reply->percent && (*reply->percent < 0 || *reply->percent > 1000)) __builtin_trap();
        ipvsctl::config::DynamicWeight settings;
        settings.min_weight = 1;
        settings.max_weight = 256;
        const int weight = weight_from_agent(settings, *reply);
        if (weight < 0 || weight > 256) __builtin_trap();
    }
    return 0;
}
