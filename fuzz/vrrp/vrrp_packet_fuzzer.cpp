// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the VRRP decoder (vrrpd/packet.hpp).
//
// Input: one selector byte, then the packet. Selector bit 0: 1 = a whole IPv4
// datagram (split_ipv4 first), 0 = a bare VRRP message; bit 1: IPv6 context;
// bits 2-7 feed the TTL. Whatever decodes must survive the per-instance
// checks and round-trip through encode() unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "vrrpd/packet.hpp"

using namespace ipvsctl::vrrp;

namespace {

void round_trip(const Advert& a, const IpContext& ip) {
    // encode() clamps out-of-range values; only in-range adverts must come
    // back identical.
    if (a.advert_interval.count() == 0) return;
    const auto bytes = encode(a, ip.source, ip.destination);
    auto again = decode(bytes, ip);
    if (!again.ok() || !(*again == a)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t selector = data[0];
    const std::span<const std::uint8_t> body(data + 1, size - 1);
    IpContext ip;
    std::span<const std::uint8_t> message = body;
    if (selector & 1) {
        auto d = split_ipv4(body);
        if (!d) return 0;
        ip = d->ip;
        message = d->payload;
    } else if (selector & 2) {
        ip.family = Family::inet6;
        ip.source = *Address::parse("fe80::1");
        ip.destination = vrrp_group_v6();
        ip.ttl = (selector & 4) ? 255 : selector >> 2;
    } else {
        ip.source = Address::v4(192, 0, 2, 1);
        ip.destination = vrrp_group_v4();
        ip.ttl = (selector & 4) ? 255 : selector >> 2;
    }
    auto advert = decode(message, ip);
    if (!advert) return 0;
    Expectation e;
    e.version = advert->version;
    e.family = advert->family;
    e.vrid = advert->vrid;
    e.addresses = advert->addresses;
    (void)check(*advert, e);
    if (advert->version == 2 && advert->auth_type != AuthType::none &&
        advert->auth_type != AuthType::simple_text) {
        return 0;  // other auth types carry data we do not keep
    }
    round_trip(*advert, ip);
    return 0;
}
