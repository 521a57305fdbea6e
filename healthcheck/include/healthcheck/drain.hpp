// SPDX-License-Identifier: GPL-2.0-or-later
// Drain for rolling releases: the control socket's names for a service and a
// real server, and the rule that ends a drain. Pure; the monitor acts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "healthcheck/clock.hpp"
#include "ipvsctl/types.hpp"

namespace ipvsctl::healthcheck {

/// none: serving normally; draining: weight 0 in the kernel until its
/// connections end; drained: out of the kernel until undrained.
enum class DrainPhase { none, draining, drained };
std::string_view to_string(DrainPhase phase);

/// "tcp:192.0.2.1:80", "udp:[2001:db8::1]:53", "sctp:ADDR:PORT", "fwmark:7".
/// A fwmark names no family (Family::Unspec): it matches either.
/// On failure returns nullopt and says why in `error`.
std::optional<ServiceKey> parse_service_spec(std::string_view text, std::string& error);

struct ServerEndpoint {
    Address address;
    std::uint16_t port = 0;
    auto operator<=>(const ServerEndpoint&) const = default;
};

/// "10.0.0.1:80" or "[2001:db8::1]:80".
std::optional<ServerEndpoint> parse_server_spec(std::string_view text, std::string& error);

/// Whether `candidate` (a kernel service key) is the service `wanted` names.
bool service_matches(const ServiceKey& wanted, const ServiceKey& candidate);

/// A draining server leaves the kernel once it has no active connections
/// or its deadline has passed.
bool drain_complete(std::uint64_t active_connections, TimePoint now,
                    std::optional<TimePoint> deadline);

}  // namespace ipvsctl::healthcheck
