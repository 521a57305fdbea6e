// SPDX-License-Identifier: GPL-2.0-or-later
// The VRRP advertisement codec: pure functions over byte spans.
//
// VRRPv2 (RFC 3768 section 5.1), IPv4 only, with the RFC 2338 simple text
// password ("auth_type PASS") that keepalived still speaks:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |   Auth Type   |   Adver Int   |          Checksum             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                  IP Address (1) ... (n)                       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                Authentication Data (1), (2)                   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// VRRPv3 (RFC 5798 section 5.1), IPv4 or IPv6:
//
//   |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//   |(rsvd) |     Max Adver Int     |          Checksum             |
//   |                 IPvX Address(es) ...                          |
//
// The checksum is the 16-bit one's complement of the one's complement sum of
// the VRRP message; for v3 a pseudo-header (RFC 5798 section 5.2.8, RFC 2460
// section 8.1 for IPv6) is prepended to the sum.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "types.hpp"

namespace ipvsctl::vrrp {

/// Authentication of VRRPv2 adverts (RFC 2338 section 5.3.6; RFC 3768
/// section 5.2.6 keeps the field for backwards compatibility).
enum class AuthType : std::uint8_t { none = 0, simple_text = 1, ip_ah = 2 };

/// A decoded (or to-be-encoded) advertisement.
struct Advert {
    int version = 3;  ///< 2 or 3
    Family family = Family::inet;
    std::uint8_t vrid = 0;
    std::uint8_t priority = 0;
    /// v2: Adver Int in whole seconds (here as centiseconds, a multiple of
    /// 100); v3: Max Adver Int, 12 bits of centiseconds.
    Centiseconds advert_interval{100};
    std::vector<Address> addresses;
    /// v2 only.
    AuthType auth_type = AuthType::none;
    /// v2 simple text password: up to 8 bytes, zero padded on the wire.
    std::string auth_pass;

    friend bool operator==(const Advert&, const Advert&) = default;
};

/// What the IP layer told us about a received packet.
struct IpContext {
    Family family = Family::inet;
    Address source;
    Address destination;
    /// IPv4 TTL or IPv6 Hop Limit.
    int ttl = 255;
};

/// Every reason a received packet is thrown away, each a named check.
enum class RejectReason : std::uint8_t {
    truncated_ip_header,  ///< not a whole IPv4 header
    not_vrrp_protocol,    ///< IPv4 protocol field is not 112
    bad_ttl,              ///< RFC 5798 7.1 / RFC 3768 7.1: TTL/Hop Limit must be 255
    truncated,            ///< shorter than the fixed VRRP header
    bad_version,          ///< version is not the configured one (2 or 3)
    bad_type,             ///< type is not 1 (ADVERTISEMENT)
    truncated_addresses,  ///< Count IPvX Addrs does not fit the packet
    bad_checksum,         ///< RFC 5798 5.2.8 / RFC 3768 5.3.8
    vrid_mismatch,        ///< VRID is not ours (normal on a shared LAN)
    owner_receives,       ///< we are the address owner (priority 255)
    auth_type_mismatch,   ///< RFC 3768 7.1: Auth Type differs from ours
    auth_failure,         ///< simple text password differs
    interval_mismatch,    ///< RFC 3768 7.1: v2 Adver Int differs from ours
    address_mismatch,     ///< RFC 5798 7.1: Count/addresses differ (MAY check)
    family_mismatch,      ///< v2 over IPv6, or IPv4 packet to an IPv6 instance
};
inline constexpr std::size_t kRejectReasonCount = 15;

/// Stable snake_case name ("bad_ttl"), used in counters and metrics.
std::string_view name(RejectReason reason);

/// A rejected packet: the check that failed and a readable reason.
struct Rejection {
    RejectReason reason;
    std::string detail;  ///< e.g. "TTL 64, expected 255"
};

/// Decoder result: a value or the rejection that stopped it.
template <typename T>
class Result {
  public:
    Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Result(Rejection r) : v_(std::move(r)) {}  // NOLINT(google-explicit-constructor)
    [[nodiscard]] bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    [[nodiscard]] const T& value() const { return std::get<0>(v_); }
    [[nodiscard]] T& value() { return std::get<0>(v_); }
    [[nodiscard]] const Rejection& error() const { return std::get<1>(v_); }
    const T& operator*() const { return value(); }
    const T* operator->() const { return &value(); }

  private:
    std::variant<T, Rejection> v_;
};

/// Rejections counted by reason (exported in status and metrics).
struct RejectCounters {
    std::array<std::uint64_t, kRejectReasonCount> by_reason{};
    void count(RejectReason r) { ++by_reason[static_cast<std::size_t>(r)]; }
    [[nodiscard]] std::uint64_t operator[](RejectReason r) const {
        return by_reason[static_cast<std::size_t>(r)];
    }
    [[nodiscard]] std::uint64_t total() const;
};

/// The one's complement Internet checksum (RFC 1071) of `data`, continuing
/// from `initial` (a partial 32-bit sum).
std::uint16_t internet_checksum(std::span<const std::uint8_t> data, std::uint32_t initial = 0);

/// The VRRP checksum of a message whose checksum field is taken as zero.
/// v2: over the message only. v3: with the IPv4/IPv6 pseudo-header built from
/// `source` and `destination`.
std::uint16_t vrrp_checksum(int version, std::span<const std::uint8_t> message,
                            const Address& source, const Address& destination);

/// Encodes an advert; the checksum uses `source` and `destination` (ignored
/// for v2). Fields out of range are clamped: v2 Adver Int to 1..255 s, v3 Max
/// Adver Int to 1..4095 cs, the password to 8 bytes, addresses to 255.
std::vector<std::uint8_t> encode(const Advert& advert, const Address& source,
                                 const Address& destination);

/// Structural decode and the checks that need no configuration: TTL 255,
/// version 2 or 3, type 1, complete packet, checksum.
Result<Advert> decode(std::span<const std::uint8_t> message, const IpContext& ip);

/// A received IPv4 datagram split into its header facts and its payload.
struct Ipv4Datagram {
    IpContext ip;
    std::span<const std::uint8_t> payload;
};

/// Parses an IPv4 header as a raw socket delivers it (RFC 791).
Result<Ipv4Datagram> split_ipv4(std::span<const std::uint8_t> datagram);

/// What one virtual router expects of the adverts it accepts.
struct Expectation {
    int version = 3;
    Family family = Family::inet;
    std::uint8_t vrid = 0;
    /// Our own priority: 255 means we own the addresses and ignore adverts.
    std::uint8_t priority = 100;
    /// v2: adverts must carry the same interval (RFC 3768 section 7.1).
    Centiseconds advert_interval{100};
    AuthType auth_type = AuthType::none;
    std::string auth_pass;
    /// When set, Count and the address list must match (order ignored).
    std::optional<std::vector<Address>> addresses;
};

/// The per-instance receive checks of RFC 5798 section 7.1 / RFC 3768
/// section 7.1 on an advert that passed decode().
std::optional<Rejection> check(const Advert& advert, const Expectation& expected);

}  // namespace ipvsctl::vrrp
