// SPDX-License-Identifier: LGPL-2.1-or-later
#include <arpa/inet.h>

#include <cstring>
#include <tuple>

#include "ipvsctl/types.hpp"

namespace ipvsctl {

std::optional<Address> Address::parse(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    const std::string copy(text);
    Address address;
    if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) {
        address.family = Family::Inet;
        return address;
    }
    if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) {
        address.family = Family::Inet6;
        return address;
    }
    return std::nullopt;
}

Address Address::v4(std::uint32_t host_order) {
    Address address;
    address.family = Family::Inet;
    const std::uint32_t network = htonl(host_order);
    std::memcpy(address.bytes.data(), &network, 4);
    return address;
}

std::string Address::to_string() const {
    char buffer[INET6_ADDRSTRLEN] = {};
    const int af = is_v6() ? AF_INET6 : AF_INET;
    if (family == Family::Unspec) return "unspecified";
    inet_ntop(af, bytes.data(), buffer, sizeof(buffer));
    return buffer;
}

std::string_view to_string(Protocol protocol) {
    switch (protocol) {
        case Protocol::TCP:
            return "TCP";
        case Protocol::UDP:
            return "UDP";
        case Protocol::SCTP:
            return "SCTP";
    }
    return "?";
}

std::optional<Protocol> parse_protocol(std::string_view name) {
    if (name == "tcp" || name == "TCP") return Protocol::TCP;
    if (name == "udp" || name == "UDP") return Protocol::UDP;
    if (name == "sctp" || name == "SCTP") return Protocol::SCTP;
    return std::nullopt;
}

std::optional<Protocol> parse_protocol_number(std::uint16_t number) {
    switch (number) {
        case 6:
            return Protocol::TCP;
        case 17:
            return Protocol::UDP;
        case 132:
            return Protocol::SCTP;
        default:
            return std::nullopt;
    }
}

namespace {
std::string bracketed(const Address& address, std::uint16_t port) {
    if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(port);
    return address.to_string() + ":" + std::to_string(port);
}
}  // namespace

std::string ServiceKey::to_string() const {
    if (is_fwmark())
        return "FWM " + std::to_string(fwmark) + (family == Family::Inet6 ? " IPv6" : "");
    return std::string(ipvsctl::to_string(protocol)) + " " + bracketed(address, port);
}

std::strong_ordering ServiceKey::operator<=>(const ServiceKey& other) const {
    // Fwmark services are identified by family and mark only.
    if (is_fwmark() || other.is_fwmark())
        return std::tie(fwmark, family) <=> std::tie(other.fwmark, other.family);
    return std::tie(family, protocol, address, port) <=>
           std::tie(other.family, other.protocol, other.address, other.port);
}

ServiceKey ServiceKey::tcp(const Address& address, std::uint16_t port) {
    return ServiceKey{address.family, Protocol::TCP, address, port, 0};
}
ServiceKey ServiceKey::udp(const Address& address, std::uint16_t port) {
    return ServiceKey{address.family, Protocol::UDP, address, port, 0};
}
ServiceKey ServiceKey::sctp(const Address& address, std::uint16_t port) {
    return ServiceKey{address.family, Protocol::SCTP, address, port, 0};
}
ServiceKey ServiceKey::mark(std::uint32_t fwmark, Family family) {
    ServiceKey key;
    key.family = family;
    key.fwmark = fwmark;
    return key;
}

bool Service::same_settings(const Service& other) const {
    return key == other.key && scheduler == other.scheduler &&
           (flags & service_flags::user_mask) == (other.flags & service_flags::user_mask) &&
           timeout == other.timeout && netmask == other.netmask && pe_name == other.pe_name;
}

std::uint32_t Service::default_netmask(Family family) {
    return family == Family::Inet6 ? 128 : 0xffffffff;
}

std::string_view to_string(ForwardMethod method) {
    switch (method) {
        case ForwardMethod::Masquerade:
            return "Masq";
        case ForwardMethod::Local:
            return "Local";
        case ForwardMethod::Tunnel:
            return "Tunnel";
        case ForwardMethod::Route:
            return "Route";
    }
    return "?";
}

std::string_view to_string(TunnelType type) {
    switch (type) {
        case TunnelType::IPIP:
            return "ipip";
        case TunnelType::GUE:
            return "gue";
        case TunnelType::GRE:
            return "gre";
    }
    return "?";
}

std::string Destination::endpoint() const {
    return bracketed(address, port);
}

bool Destination::same_settings(const Destination& other) const {
    const bool tunnel = method == ForwardMethod::Tunnel;
    return same_endpoint(other) && method == other.method && weight == other.weight &&
           upper_threshold == other.upper_threshold && lower_threshold == other.lower_threshold &&
           (!tunnel || (tunnel_type == other.tunnel_type && tunnel_port == other.tunnel_port &&
                        tunnel_flags == other.tunnel_flags));
}

std::string_view to_string(SyncState state) {
    switch (state) {
        case SyncState::None:
            return "none";
        case SyncState::Master:
            return "master";
        case SyncState::Backup:
            return "backup";
    }
    return "?";
}

std::string Info::version_string() const {
    return std::to_string((version >> 16) & 0xff) + "." + std::to_string((version >> 8) & 0xff) +
           "." + std::to_string(version & 0xff);
}

const ServiceEntry* Table::find(const ServiceKey& key) const {
    for (const auto& entry : services)
        if (entry.service.key == key) return &entry;
    return nullptr;
}

}  // namespace ipvsctl
