// SPDX-License-Identifier: GPL-2.0-or-later
// What the healthcheck netns tests share: what run_netns_tests.sh tells them
// through the environment, and the probe settings they start from.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "healthcheck/probe_spec.hpp"

namespace ipvsctl::healthcheck::netns_test {

/// The variable's value; fails the test when the script did not set it.
inline std::string env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr) FAIL(std::string("not set: ") + name + " (run via run_netns_tests.sh)");
    return value;
}

/// A TCP_CHECK of `target`:`port` every second with `timeout`; other
/// checkers start from it and replace the type and details.
inline ProbeSpec tcp_probe_spec(const config::IpAddress& target, std::uint16_t port,
                                Duration timeout = std::chrono::seconds(2)) {
    ProbeSpec spec;
    spec.type = config::CheckerType::tcp_check;
    spec.address = target;
    spec.port = port;
    spec.connect_timeout = timeout;
    spec.delay_loop = std::chrono::seconds(1);
    spec.delay_before_retry = std::chrono::seconds(1);
    spec.set_details(config::TcpCheck{});
    return spec;
}

/// Packets counted by the named counter of the server's nft table hc_counters.
inline std::uint64_t server_counter(const char* name) {
    const std::string command =
        "ip netns exec " + env("HC_SERVER_NETNS") + " nft list counter inet hc_counters " + name;
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string text;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) text += buffer;
    ::pclose(pipe);
    // "packets N" inside the counter's braces (its name may hold "packets").
    const auto at = text.find("packets ", text.find('{', text.find(name)));
    REQUIRE(at != std::string::npos);
    return std::stoull(text.substr(at + 8));
}

}  // namespace ipvsctl::healthcheck::netns_test
