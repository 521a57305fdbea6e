// SPDX-License-Identifier: GPL-2.0-or-later
// Shared helpers for the configuration tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "config/json.hpp"

namespace config_test {

inline constexpr const char* kFile = "test.conf";

/// Parses text as "test.conf" with config id "lb1".
inline ipvsctl::config::LoadResult parse(std::string_view text) {
    ipvsctl::config::LoadOptions options;
    options.config_id = "lb1";
    return ipvsctl::config::parse_config(text, kFile, options);
}

/// Every diagnostic as "file:line:col: [warning: ]message".
inline std::vector<std::string> messages(const ipvsctl::config::LoadResult& result) {
    std::vector<std::string> out;
    for (const auto& diagnostic : result.diagnostics) out.push_back(diagnostic.to_string());
    return out;
}

inline std::string joined(const ipvsctl::config::LoadResult& result) {
    std::string out;
    for (const auto& message : messages(result)) out += message + "\n";
    return out;
}

inline nlohmann::json dump(const ipvsctl::config::LoadResult& result) {
    return result.config ? ipvsctl::config::to_json(*result.config) : nlohmann::json();
}

/// A vrrp_instance that is valid on its own, with `body` added.
inline std::string instance(std::string_view body) {
    return "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n"
           "    virtual_ipaddress {\n        10.0.0.100/24\n    }\n" +
           std::string(body) + "\n}\n";
}

/// A virtual server 10.0.0.100:80 with `body` added (no real servers).
inline std::string virtual_server(std::string_view body) {
    return "virtual_server 10.0.0.100 80 {\n" + std::string(body) + "\n}\n";
}

/// A real server 10.0.1.1:80 inside virtual_server 10.0.0.100:80.
inline std::string real_server(std::string_view body, std::string_view vs_body = "") {
    return virtual_server(std::string(vs_body) + "\n    real_server 10.0.1.1 80 {\n" +
                          std::string(body) + "\n    }");
}

/// A checker of `type` inside real_server 10.0.1.1:80.
inline std::string checker(std::string_view type, std::string_view body) {
    return real_server("        " + std::string(type) + " {\n" + std::string(body) + "\n        }");
}

}  // namespace config_test
