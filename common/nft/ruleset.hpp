// SPDX-License-Identifier: GPL-2.0-or-later
// The nftables rules ipvsctl owns, as plain values: fwmark groups (packets to
// a group's VIP:port pairs get the mark of one IPVS fwmark service) and the
// source NAT half of FULLNAT. Pure: no netlink here; netlink.hpp programs it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/address.hpp"

namespace ipvsctl::nft {

using config::IpAddress;

/// Our own table: `table inet ipvsctl`; nothing else is touched.
inline constexpr std::string_view kTableName = "ipvsctl";
/// vrrpd's table (accept mode), apart from healthcheckd's: each daemon
/// replaces its whole table.
inline constexpr std::string_view kVrrpTableName = "ipvsctl_vrrp";

/// IANA protocol numbers, as `meta l4proto` compares them.
enum class L4Protocol : std::uint8_t { tcp = 6, udp = 17, sctp = 132 };

/// prerouting, priority mangle: packets to first..last (one family) with
/// this protocol and destination port (0: any) get `meta mark set mark`.
struct MarkRule {
    IpAddress first;
    IpAddress last;
    L4Protocol protocol = L4Protocol::tcp;
    std::uint16_t port = 0;
    std::uint32_t mark = 0;
    friend bool operator==(const MarkRule&, const MarkRule&) = default;
};

/// A flow IPVS accepted for a VIP:port service: the conntrack entry's
/// original direction still names the VIP (net.ipv4.vs.conntrack=1).
struct ServiceAddress {
    IpAddress vip;
    std::uint16_t port = 0;  ///< 0: any port
    friend bool operator==(const ServiceAddress&, const ServiceAddress&) = default;
};
/// A flow IPVS accepted for a fwmark service: the packet carries the mark.
struct ServiceMark {
    std::uint32_t mark = 0;
    friend bool operator==(const ServiceMark&, const ServiceMark&) = default;
};

/// postrouting, priority srcnat: a flow of `service` that IPVS forwards to
/// real_server:real_port leaves with `source` as its source address (or the
/// outgoing interface's address when there is none: masquerade).
struct SnatRule {
    std::variant<ServiceAddress, ServiceMark> service;
    L4Protocol protocol = L4Protocol::tcp;
    IpAddress real_server;
    std::uint16_t real_port = 0;  ///< 0: any port
    std::optional<IpAddress> source;
    friend bool operator==(const SnatRule&, const SnatRule&) = default;
};

/// input, priority filter: packets addressed to `address` are dropped. A
/// VRRP master that is not the address owner and has Accept_Mode off "MUST
/// NOT accept" them (RFC 5798 section 6.4.3); IPv6 neighbour solicitations
/// and advertisements still pass, since it "MUST respond" to ND for it.
struct DropRule {
    IpAddress address;
    friend bool operator==(const DropRule&, const DropRule&) = default;
};

struct Ruleset {
    std::vector<MarkRule> marks;
    std::vector<SnatRule> snats;
    std::vector<DropRule> drops;
    [[nodiscard]] bool empty() const { return marks.empty() && snats.empty() && drops.empty(); }
    friend bool operator==(const Ruleset&, const Ruleset&) = default;
};

/// Problems that would make the kernel refuse the ruleset or that make a
/// rule meaningless (mixed families, ranges backwards, mark 0), one line each.
std::vector<std::string> check(const Ruleset& ruleset);

/// The table as `nft -f` input: the same rules the netlink code programs,
/// for logs, --dry-run and for comparing with what nft makes of it.
std::string to_nft_text(const Ruleset& ruleset, std::string_view table = kTableName);

std::string_view to_string(L4Protocol protocol);

}  // namespace ipvsctl::nft
