// SPDX-License-Identifier: GPL-2.0-or-later
#include "config/address.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace ipvsctl::config {

std::string_view to_string(AddressFamily family) {
    return family == AddressFamily::inet6 ? "inet6" : "inet";
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
    const std::string copy(text);
    IpAddress address;
    if (copy.find(':') != std::string::npos) {
        address.family = AddressFamily::inet6;
        if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) != 1) return std::nullopt;
        return address;
    }
    address.family = AddressFamily::inet;
    if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) != 1) return std::nullopt;
    return address;
}

std::string IpAddress::to_string() const {
    char buffer[INET6_ADDRSTRLEN] = {};
    if (is_v6()) {
        inet_ntop(AF_INET6, bytes.data(), buffer, sizeof buffer);
        return buffer;
    }
    // Dotted quad by hand: glibc's inet_ntop formats it with sprintf, and
    // a reload of 37,000 real servers formats their keys several times.
    char* out = buffer;
    for (std::size_t i = 0; i < 4; ++i) {
        if (i > 0) *out++ = '.';
        const unsigned octet = bytes[i];
        if (octet >= 100) *out++ = static_cast<char>('0' + octet / 100);
        if (octet >= 10) *out++ = static_cast<char>('0' + octet / 10 % 10);
        *out++ = static_cast<char>('0' + octet % 10);
    }
    return {buffer, static_cast<std::size_t>(out - buffer)};
}

bool IpAddress::is_multicast() const {
    return is_v6() ? bytes[0] == 0xff : (bytes[0] & 0xf0) == 0xe0;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
    const auto slash = text.find('/');
    auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) return std::nullopt;
    IpPrefix prefix{*address, address->bits()};
    if (slash == std::string_view::npos) return prefix;
    const auto length_text = text.substr(slash + 1);
    int length = -1;
    const auto* end = length_text.data() + length_text.size();
    const auto [ptr, ec] = std::from_chars(length_text.data(), end, length);
    if (length_text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
    if (length < 0 || length > address->bits()) return std::nullopt;
    prefix.prefix_length = length;
    return prefix;
}

std::string IpPrefix::to_string() const {
    return address.to_string() + "/" + std::to_string(prefix_length);
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
    std::string_view host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find("]:");
        if (close == std::string_view::npos) return std::nullopt;
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
        if (host.find(':') == std::string_view::npos) return std::nullopt;
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return std::nullopt;
    }
    auto address = IpAddress::parse(host);
    if (!address) return std::nullopt;
    unsigned port = 0;
    const auto* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (port_text.empty() || ec != std::errc{} || ptr != end || port == 0 || port > 65535) {
        return std::nullopt;
    }
    return Endpoint{*address, static_cast<std::uint16_t>(port)};
}

std::string Endpoint::to_string() const {
    return address_port_string(address, port);
}

std::string address_port_string(const IpAddress& address, std::optional<std::uint16_t> port) {
    if (!port) return address.to_string();
    if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(*port);
    return address.to_string() + ":" + std::to_string(*port);
}

}  // namespace ipvsctl::config
