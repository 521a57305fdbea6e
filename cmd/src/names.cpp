// SPDX-License-Identifier: GPL-2.0-or-later
#include "names.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

namespace ipvsctl::cli {

namespace {
const char* protocol_db_name(Protocol protocol) {
    switch (protocol) {
        case Protocol::TCP:
            return "tcp";
        case Protocol::UDP:
            return "udp";
        case Protocol::SCTP:
            return "sctp";
    }
    return "tcp";
}
}  // namespace

std::optional<Address> parse_ipv4_like_inet_aton(const std::string& text) {
    in_addr parsed{};
    if (inet_aton(text.c_str(), &parsed) == 0) return std::nullopt;
    Address address;
    address.family = Family::Inet;
    std::memcpy(address.bytes.data(), &parsed.s_addr, 4);
    return address;
}

NameLookup system_names() {
    NameLookup names;
    names.host_to_ipv4 = [](const std::string& host) -> std::optional<Address> {
        const hostent* entry = gethostbyname(host.c_str());
        if (entry == nullptr || entry->h_addrtype != AF_INET || entry->h_length != 4)
            return std::nullopt;
        Address address;
        address.family = Family::Inet;
        std::memcpy(address.bytes.data(), entry->h_addr_list[0], 4);
        return address;
    };
    names.service_to_port = [](const std::string& service,
                               Protocol protocol) -> std::optional<std::uint16_t> {
        const servent* entry = getservbyname(service.c_str(), protocol_db_name(protocol));
        if (entry == nullptr) return std::nullopt;
        return ntohs(static_cast<std::uint16_t>(entry->s_port));
    };
    names.address_to_host = [](const Address& address) -> std::optional<std::string> {
        const int family = address.is_v6() ? AF_INET6 : AF_INET;
        const hostent* entry =
            gethostbyaddr(address.bytes.data(), static_cast<socklen_t>(address.size()), family);
        if (entry == nullptr) return std::nullopt;
        return std::string(entry->h_name);
    };
    names.port_to_service = [](std::uint16_t port,
                               Protocol protocol) -> std::optional<std::string> {
        const servent* entry = getservbyport(htons(port), protocol_db_name(protocol));
        if (entry == nullptr) return std::nullopt;
        return std::string(entry->s_name);
    };
    return names;
}

NameLookup numeric_names() {
    NameLookup names;
    names.host_to_ipv4 = [](const std::string&) -> std::optional<Address> { return std::nullopt; };
    names.service_to_port = [](const std::string&, Protocol) -> std::optional<std::uint16_t> {
        return std::nullopt;
    };
    names.address_to_host = [](const Address&) -> std::optional<std::string> {
        return std::nullopt;
    };
    names.port_to_service = [](std::uint16_t, Protocol) -> std::optional<std::string> {
        return std::nullopt;
    };
    return names;
}

}  // namespace ipvsctl::cli
