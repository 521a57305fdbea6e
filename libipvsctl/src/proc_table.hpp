// SPDX-License-Identifier: LGPL-2.1-or-later
// Reader for /proc/net/ip_vs, the kernel's one-read text view of the whole
// table. It lacks thresholds, tunnel parameters, persistent-connection
// counts and statistics, but lists every real server of every service at
// once, where netlink needs one dump per service.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ipvsctl/types.hpp"

namespace ipvsctl::proc {

struct ServiceRow {
    /// Protocol, address and port, or the fwmark (family unknown: the text
    /// does not say; callers must not rely on it for fwmark rows).
    ServiceKey key;
    std::vector<Destination> destinations;  ///< address, port, method, weight, conns only
    bool has_tunnel = false;  ///< tunnel parameters are not in the text
};

/// Parses the text of /proc/net/ip_vs. Lines it does not understand make the
/// service they belong to unusable (it is left out), never the whole read.
std::vector<ServiceRow> parse_ip_vs(std::string_view text);

}  // namespace ipvsctl::proc
