// SPDX-License-Identifier: GPL-2.0-or-later
#include "types.hpp"

#include <arpa/inet.h>

namespace ipvsctl::vrrp {

std::string_view to_string(Family family) {
    return family == Family::inet ? "v4" : "v6";
}

Address Address::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    Address r;
    r.bytes[0] = a;
    r.bytes[1] = b;
    r.bytes[2] = c;
    r.bytes[3] = d;
    return r;
}

std::optional<Address> Address::parse(std::string_view text) {
    const std::string s(text);
    Address r;
    if (inet_pton(AF_INET, s.c_str(), r.bytes.data()) == 1) return r;
    r.family = Family::inet6;
    if (inet_pton(AF_INET6, s.c_str(), r.bytes.data()) == 1) return r;
    return std::nullopt;
}

std::string Address::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family == Family::inet ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

Address vrrp_group_v4() {
    return Address::v4(224, 0, 0, 18);
}

Address vrrp_group_v6() {
    Address r;
    r.family = Family::inet6;
    r.bytes[0] = 0xff;
    r.bytes[1] = 0x02;
    r.bytes[15] = 0x12;
    return r;
}

}  // namespace ipvsctl::vrrp
