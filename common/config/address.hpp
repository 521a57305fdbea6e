// SPDX-License-Identifier: GPL-2.0-or-later
// IP addresses and prefixes as the configuration language writes them.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipvsctl::config {

enum class AddressFamily { inet, inet6 };

/// "inet" or "inet6".
std::string_view to_string(AddressFamily family);

/// An IPv4 or IPv6 address; IPv4 uses the first four bytes.
struct IpAddress {
    AddressFamily family = AddressFamily::inet;
    std::array<std::uint8_t, 16> bytes{};

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text; nullopt when it is neither.
    static std::optional<IpAddress> parse(std::string_view text);

    /// Canonical text (inet_ntop form).
    [[nodiscard]] std::string to_string() const;
    [[nodiscard]] bool is_v6() const { return family == AddressFamily::inet6; }
    [[nodiscard]] bool is_multicast() const;
    /// Number of address bits: 32 or 128.
    [[nodiscard]] int bits() const { return is_v6() ? 128 : 32; }

    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

/// An address with a prefix length, as in "10.0.0.1/24".
struct IpPrefix {
    IpAddress address;
    int prefix_length = 32;

    /// Parses "ADDR" (full-length prefix) or "ADDR/LEN".
    static std::optional<IpPrefix> parse(std::string_view text);
    /// "ADDR/LEN"
    [[nodiscard]] std::string to_string() const;

    friend auto operator<=>(const IpPrefix&, const IpPrefix&) = default;
    friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

/// A TCP/UDP endpoint as in "127.0.0.1:9100" or "[::1]:9100".
struct Endpoint {
    IpAddress address;
    std::uint16_t port = 0;

    static std::optional<Endpoint> parse(std::string_view text);
    /// "ADDR:PORT" for IPv4, "[ADDR]:PORT" for IPv6.
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// "ADDR:PORT", "[ADDR]:PORT", or just the address when there is no port.
std::string address_port_string(const IpAddress& address, std::optional<std::uint16_t> port);

}  // namespace ipvsctl::config
