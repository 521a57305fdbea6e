// SPDX-License-Identifier: GPL-2.0-or-later
// Vocabulary types shared by the VRRP codec, state machine and daemon.
#pragma once

#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipvsctl::vrrp {

/// VRRP times travel in centiseconds (RFC 5798 section 5.2.7: Max Advertise
/// Interval is a 12-bit count of centiseconds). A std::chrono duration is a
/// strong type: it never mixes silently with plain integers or other units.
using Centiseconds = std::chrono::duration<std::int64_t, std::centi>;

/// Timer lengths derived from the RFC formulas: RFC 3768's Skew_Time is a
/// fraction of a second that centiseconds would truncate (0.609 s to 0.60 s).
using Microseconds = std::chrono::microseconds;

/// Monotonic time as the daemon sees it (injected through a Clock).
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, std::chrono::nanoseconds>;

enum class Family : std::uint8_t { inet, inet6 };

/// "v4" or "v6", as in log prefixes.
std::string_view to_string(Family family);

/// An IPv4 or IPv6 address in network byte order; IPv4 uses the first 4 bytes.
struct Address {
    Family family = Family::inet;
    std::array<std::uint8_t, 16> bytes{};

    static Address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
    /// Parses dotted-quad or IPv6 text.
    static std::optional<Address> parse(std::string_view text);
    [[nodiscard]] std::size_t size() const { return family == Family::inet ? 4 : 16; }
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const Address& a, const Address& b) {
        return a.family == b.family && a.bytes == b.bytes;
    }
    /// Unsigned comparison in network byte order (RFC 5798 section 6.4.3).
    friend std::strong_ordering operator<=>(const Address& a, const Address& b) {
        if (a.family != b.family) return a.family <=> b.family;
        return a.bytes <=> b.bytes;
    }
};

/// 224.0.0.18, the IPv4 VRRP multicast group (RFC 5798 section 5.1.1.2).
Address vrrp_group_v4();
/// ff02::12, the IPv6 VRRP multicast group (RFC 5798 section 5.1.2.2).
Address vrrp_group_v6();

/// IP protocol number of VRRP (RFC 5798 section 5.1.1.4).
inline constexpr std::uint8_t kIpProtoVrrp = 112;

}  // namespace ipvsctl::vrrp
