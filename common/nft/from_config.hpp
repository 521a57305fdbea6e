// SPDX-License-Identifier: GPL-2.0-or-later
// From the configuration to the nftables rules and back to what IPVS sees:
//  - a virtual server of a virtual_server_group with address lines becomes
//    one IPVS fwmark service; prerouting rules give the group's VIP:port
//    pairs that mark (the "collapse");
//  - a virtual server with FNAT real servers gets postrouting SNAT rules.
// Pure functions; the daemon programs the result.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "config/model.hpp"
#include "nft/ruleset.hpp"

namespace ipvsctl::nft {

/// Marks given to collapsed groups: kGroupMarkBase | 16 bits of a hash of the
/// virtual server's key, so a mark stays the same across reloads.
inline constexpr std::uint32_t kGroupMarkBase = 0x49560000;  // "IV"

/// Virtual server key ("group web/tcp") -> the fwmark of its IPVS service,
/// for every group virtual server whose group has address lines. Marks
/// already used by the configuration are skipped.
std::map<std::string, std::uint32_t> group_marks(const config::Config& config);

/// The configuration as IPVS should be programmed from it: each collapsed
/// virtual server refers to a group of fwmark lines only (its mark first,
/// then the group's own fwmark lines). Its key stays the same when it is the
/// group's only user; otherwise its group is named "NAME@PROTOCOL".
config::Config collapse_groups(const config::Config& config,
                               const std::map<std::string, std::uint32_t>& marks);

/// The rules for `config` (the configuration as written, not collapsed).
Ruleset desired_ruleset(const config::Config& config,
                        const std::map<std::string, std::uint32_t>& marks);

/// Whether any rule needs IPVS connections in conntrack (net.ipv4.vs.conntrack=1).
bool needs_ipvs_conntrack(const Ruleset& ruleset);

}  // namespace ipvsctl::nft
