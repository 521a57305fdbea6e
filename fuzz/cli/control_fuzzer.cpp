// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as a check SERVICE/SERVER argument, and as JSON: a daemon's
// status reply (formatted for humans) and a realserver state file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "control_client.hpp"
#include "realserver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)ipvsctl::cli::parse_check_service(text);
    (void)ipvsctl::cli::parse_check_server(text);
    const auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded()) return 0;
    if (json.is_object()) {
        (void)ipvsctl::cli::format_vrrp_status(json);
        (void)ipvsctl::cli::format_check_status(json);
    }
    (void)ipvsctl::cli::RealServerState::from_json(json);
    return 0;
}
