// SPDX-License-Identifier: GPL-2.0-or-later
// Host and service names, as ipvsadm resolves them. Lookups are injected so
// that the parser and the formatters stay pure and testable.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ipvsctl/types.hpp"

namespace ipvsctl::cli {

struct NameLookup {
    /// "www.example.org" -> its first IPv4 address (gethostbyname).
    std::function<std::optional<Address>(const std::string& host)> host_to_ipv4;
    /// "http" -> 80 for the protocol (getservbyname).
    std::function<std::optional<std::uint16_t>(const std::string& service, Protocol protocol)>
        service_to_port;
    /// Reverse lookup of an address (gethostbyaddr); nullopt prints it numerically.
    std::function<std::optional<std::string>(const Address& address)> address_to_host;
    /// 80 -> "http" for the protocol (getservbyport); nullopt prints the number.
    std::function<std::optional<std::string>(std::uint16_t port, Protocol protocol)>
        port_to_service;
};

/// Lookups through the C library, as ipvsadm does them.
NameLookup system_names();
/// No lookups at all: every name is unknown, everything prints as numbers.
NameLookup numeric_names();

/// inet_aton's IPv4 grammar ("10.1" is 10.0.0.1, "0x7f.1" is 127.0.0.1).
std::optional<Address> parse_ipv4_like_inet_aton(const std::string& text);

}  // namespace ipvsctl::cli
