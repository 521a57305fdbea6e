// SPDX-License-Identifier: LGPL-2.1-or-later
// Domain model of the kernel's IPVS table. These types carry no wire quirks
// (byte order, netmask encoding); the converters in the library do.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipvsctl {

enum class Family : std::uint16_t { Unspec = 0, Inet = 2, Inet6 = 10 };

/// An IPv4 or IPv6 address in network byte order.
struct Address {
    Family family = Family::Unspec;
    std::array<std::uint8_t, 16> bytes{};

    /// Parses "192.0.2.1" or "2001:db8::1" (no brackets, no port).
    static std::optional<Address> parse(std::string_view text);
    static Address v4(std::uint32_t host_order);
    [[nodiscard]] std::string to_string() const;
    [[nodiscard]] bool is_v6() const { return family == Family::Inet6; }
    [[nodiscard]] std::size_t size() const { return is_v6() ? 16 : 4; }
    auto operator<=>(const Address&) const = default;
};

enum class Protocol : std::uint16_t { TCP = 6, UDP = 17, SCTP = 132 };
std::string_view to_string(Protocol protocol);
std::optional<Protocol> parse_protocol(std::string_view name);
std::optional<Protocol> parse_protocol_number(std::uint16_t number);

/// Identifies a virtual service: either protocol/address/port or a fwmark.
struct ServiceKey {
    Family family = Family::Inet;
    Protocol protocol = Protocol::TCP;  ///< ignored for fwmark services
    Address address;                    ///< unset for fwmark services
    std::uint16_t port = 0;             ///< host byte order
    std::uint32_t fwmark = 0;           ///< non-zero: a firewall-mark service

    [[nodiscard]] bool is_fwmark() const { return fwmark != 0; }
    /// "TCP 192.0.2.1:80", "UDP [2001:db8::1]:53", "FWM 7 IPv6"
    [[nodiscard]] std::string to_string() const;
    std::strong_ordering operator<=>(const ServiceKey& other) const;
    bool operator==(const ServiceKey& other) const { return (*this <=> other) == 0; }

    static ServiceKey tcp(const Address& address, std::uint16_t port);
    static ServiceKey udp(const Address& address, std::uint16_t port);
    static ServiceKey sctp(const Address& address, std::uint16_t port);
    static ServiceKey mark(std::uint32_t fwmark, Family family = Family::Inet);
};

/// A hash that agrees with ServiceKey's equality (a fwmark service is its
/// family and mark), for unordered containers over large tables.
struct ServiceKeyHash {
    std::size_t operator()(const ServiceKey& key) const noexcept {
        std::uint64_t hash = static_cast<std::uint64_t>(key.family);
        const auto mix = [&hash](std::uint64_t value) {
            hash ^= value + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
        };
        if (key.is_fwmark()) {
            mix(key.fwmark);
            return static_cast<std::size_t>(hash);
        }
        mix(static_cast<std::uint64_t>(key.protocol) << 16 | key.port);
        std::uint64_t halves[2];
        std::memcpy(halves, key.address.bytes.data(), sizeof(halves));
        mix(halves[0]);
        mix(halves[1]);
        return static_cast<std::size_t>(hash);
    }
};

/// Service flags as the kernel defines them (IP_VS_SVC_F_*).
namespace service_flags {
inline constexpr std::uint32_t persistent = 0x0001;
inline constexpr std::uint32_t hashed = 0x0002;  ///< kernel-internal, never set by us
inline constexpr std::uint32_t one_packet = 0x0004;
inline constexpr std::uint32_t sched1 = 0x0008;
inline constexpr std::uint32_t sched2 = 0x0010;
inline constexpr std::uint32_t sched3 = 0x0020;
inline constexpr std::uint32_t sh_fallback = sched1;
inline constexpr std::uint32_t sh_port = sched2;
inline constexpr std::uint32_t mh_fallback = sched1;
inline constexpr std::uint32_t mh_port = sched2;
/// Every flag a user may set; HASHED is the kernel's own bookkeeping.
inline constexpr std::uint32_t user_mask = persistent | one_packet | sched1 | sched2 | sched3;
}  // namespace service_flags

/// 64-bit counters and rates as the kernel reports them.
struct Stats {
    std::uint64_t conns = 0, in_packets = 0, out_packets = 0, in_bytes = 0, out_bytes = 0;
    std::uint64_t cps = 0, in_pps = 0, out_pps = 0, in_bps = 0, out_bps = 0;
    bool operator==(const Stats&) const = default;
};

struct Service {
    ServiceKey key;
    std::string scheduler = "wlc";
    std::uint32_t flags = 0;    ///< service_flags::*
    std::uint32_t timeout = 0;  ///< persistence timeout in seconds (with flags::persistent)
    /// Persistence granularity: an IPv4 netmask in host order (0xffffffff
    /// by default) or an IPv6 prefix length (128 by default).
    std::uint32_t netmask = 0xffffffff;
    std::string pe_name;  ///< persistence engine, e.g. "sip"; empty for none
    Stats stats;          ///< read only

    [[nodiscard]] bool persistent() const { return (flags & service_flags::persistent) != 0; }
    /// True when every setting a user can change is the same (stats ignored).
    [[nodiscard]] bool same_settings(const Service& other) const;
    /// Default granularity for the family: 0xffffffff or 128.
    static std::uint32_t default_netmask(Family family);
};

/// Packet-forwarding method of a real server (IP_VS_CONN_F_* & FWD_MASK).
enum class ForwardMethod : std::uint32_t { Masquerade = 0, Local = 1, Tunnel = 2, Route = 3 };
std::string_view to_string(ForwardMethod method);

enum class TunnelType : std::uint8_t { IPIP = 0, GUE = 1, GRE = 2 };
std::string_view to_string(TunnelType type);

namespace tunnel_flags {
inline constexpr std::uint16_t nocsum = 0;
inline constexpr std::uint16_t csum = 1u << 0;
inline constexpr std::uint16_t remcsum = 1u << 1;
}  // namespace tunnel_flags

struct Destination {
    Address address;
    std::uint16_t port = 0;  ///< host byte order
    ForwardMethod method = ForwardMethod::Route;
    std::int32_t weight = 1;
    std::uint32_t upper_threshold = 0;
    std::uint32_t lower_threshold = 0;
    TunnelType tunnel_type = TunnelType::IPIP;
    std::uint16_t tunnel_port = 0;  ///< host byte order, GUE only
    std::uint16_t tunnel_flags = tunnel_flags::nocsum;
    // Read only:
    std::uint32_t active_conns = 0, inactive_conns = 0, persistent_conns = 0;
    Stats stats;

    /// "192.0.2.10:80", "[2001:db8::10]:80"
    [[nodiscard]] std::string endpoint() const;
    [[nodiscard]] bool same_endpoint(const Destination& other) const {
        return address == other.address && port == other.port;
    }
    /// True when every setting a user can change is the same (counters ignored).
    [[nodiscard]] bool same_settings(const Destination& other) const;
};

/// Connection timeouts in seconds; 0 means "leave unchanged" when setting.
struct Timeouts {
    std::uint32_t tcp = 0, tcp_fin = 0, udp = 0;
    bool operator==(const Timeouts&) const = default;
};

enum class SyncState : std::uint32_t { None = 0, Master = 1, Backup = 2 };
std::string_view to_string(SyncState state);

/// Connection-synchronisation daemon settings.
struct SyncDaemon {
    SyncState state = SyncState::Master;
    std::string interface;
    std::uint32_t sync_id = 0;
    std::uint16_t max_len = 0;     ///< 0: kernel default
    std::optional<Address> group;  ///< multicast group; kernel default when unset
    std::uint16_t port = 0;        ///< 0: kernel default (8848)
    std::uint8_t ttl = 0;          ///< 0: kernel default (1)
    bool operator==(const SyncDaemon&) const = default;
};

struct Info {
    std::uint32_t version = 0;  ///< e.g. 0x010201 for 1.2.1
    std::uint32_t conn_table_size = 0;
    [[nodiscard]] std::string version_string() const;
};

/// A service together with its real servers: one row of the IPVS table.
struct ServiceEntry {
    Service service;
    std::vector<Destination> destinations;
};

/// A whole IPVS table as listed from the kernel or as desired by a user.
struct Table {
    std::vector<ServiceEntry> services;
    [[nodiscard]] const ServiceEntry* find(const ServiceKey& key) const;
};

}  // namespace ipvsctl
