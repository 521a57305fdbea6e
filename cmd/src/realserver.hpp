// SPDX-License-Identifier: GPL-2.0-or-later
// `ipvsctl realserver setup|teardown`: the real-server side of DR and TUN.
// DR: each VIP as /32 or /128 on an interface (lo), and for IPv4
// arp_ignore=1 / arp_announce=2 on all and that interface, so the server
// accepts packets for the VIP but never answers ARP for it. TUN: tunl0
// (ipip) and ip6tnl0 (ip6_tunnel) up carrying the VIPs, rp_filter=0 on
// tunl0 and all, so decapsulated packets are not dropped as martians.
//
// Decide, then act: a pure plan from what the system has now (SystemView)
// to what is wanted, then an executor over rtnetlink and /proc/sys that
// records every change in a state file, which teardown undoes exactly.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "ipvsctl/types.hpp"

namespace ipvsctl::cli {

inline constexpr const char* kRealServerState = "/run/ipvsctl/realserver.json";

enum class RealServerMode { DirectRouting, Tunnel };

struct RealServerRequest {
    RealServerMode mode = RealServerMode::DirectRouting;
    std::vector<Address> vips;
    std::string interface = "lo";  ///< DR only
};

/// What the kernel has now, as far as setup and teardown care.
struct SystemView {
    std::map<std::string, bool> links;           ///< present links: name -> up
    std::set<std::string> addresses;             ///< "IFNAME ADDR/PREFIX"
    std::map<std::string, std::string> sysctls;  ///< "net/ipv4/conf/all/rp_filter" -> "1"
};

enum class ChangeKind { CreateTunnel, LinkUp, LinkDown, AddAddress, RemoveAddress, SetSysctl };

struct Change {
    ChangeKind kind = ChangeKind::SetSysctl;
    std::string link;                     ///< link, or the address's interface
    std::string value;                    ///< tunnel kind, "ADDR/PREFIX" or the sysctl's new value
    std::string sysctl;                   ///< "net/ipv4/conf/all/arp_ignore"
    std::optional<std::string> previous;  ///< sysctl value before, if known

    /// "add 192.0.2.1/32 to lo", "set net.ipv4.conf.all.arp_ignore = 1 (was 0)"
    [[nodiscard]] std::string describe() const;
};

/// What setup recorded; teardown undoes it.
struct RealServerState {
    std::vector<std::string> addresses;          ///< "IFNAME ADDR/PREFIX"
    std::vector<std::string> links_up;           ///< brought up by setup
    std::map<std::string, std::string> sysctls;  ///< path -> value before setup
    std::vector<std::string> tunnels_created;    ///< left in place: see the man page

    [[nodiscard]] nlohmann::json to_json() const;
    static std::variant<RealServerState, std::string> from_json(const nlohmann::json& j);
    /// Adds what `change` did; a sysctl keeps its first recorded original.
    void record(const Change& change);
    [[nodiscard]] bool empty() const;
};

/// Sysctls a request needs, so the view reads them.
std::vector<std::string> sysctls_for(const RealServerRequest& request);

/// The changes that make `view` match `request`; empty when it already does.
/// An error (interface missing) comes back as text.
std::variant<std::vector<Change>, std::string> plan_setup(const RealServerRequest& request,
                                                          const SystemView& view);
/// The changes that undo `state` given `view` (gone addresses are skipped).
std::vector<Change> plan_teardown(const RealServerState& state, const SystemView& view);

struct RealServerIo {
    std::string state_file = kRealServerState;
    std::string netns;
    bool dry_run = false;
    std::ostream& out;
    std::ostream& err;
};

/// Exit statuses: 0 done (or nothing to do), 1 the kernel refused, 2 bad input.
int realserver_setup(const RealServerRequest& request, const RealServerIo& io);
int realserver_teardown(const RealServerIo& io);

}  // namespace ipvsctl::cli
