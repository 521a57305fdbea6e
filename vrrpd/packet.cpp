// SPDX-License-Identifier: GPL-2.0-or-later
#include "packet.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <numeric>

namespace ipvsctl::vrrp {
namespace {

constexpr std::size_t kHeaderSize = 8;          // RFC 5798 section 5.1: fixed fields
constexpr std::size_t kAuthDataSize = 8;        // RFC 3768 section 5.3.10
constexpr std::uint8_t kTypeAdvertisement = 1;  // RFC 5798 section 5.2.2
constexpr int kRequiredTtl = 255;

std::uint32_t sum16(std::span<const std::uint8_t> data, std::uint32_t sum) {
    std::size_t i = 0;
    for (; i + 1 < data.size(); i += 2) {
        sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
    }
    if (i < data.size()) sum += static_cast<std::uint32_t>(data[i] << 8);
    return sum;
}

std::uint16_t fold(std::uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

Rejection reject(RejectReason reason, std::string detail) {
    return {reason, std::move(detail)};
}

std::size_t address_size(Family family) {
    return family == Family::inet ? 4 : 16;
}

}  // namespace

std::string_view name(RejectReason reason) {
    switch (reason) {
        case RejectReason::truncated_ip_header:
            return "truncated_ip_header";
        case RejectReason::not_vrrp_protocol:
            return "not_vrrp_protocol";
        case RejectReason::bad_ttl:
            return "bad_ttl";
        case RejectReason::truncated:
            return "truncated";
        case RejectReason::bad_version:
            return "bad_version";
        case RejectReason::bad_type:
            return "bad_type";
        case RejectReason::truncated_addresses:
            return "truncated_addresses";
        case RejectReason::bad_checksum:
            return "bad_checksum";
        case RejectReason::vrid_mismatch:
            return "vrid_mismatch";
        case RejectReason::owner_receives:
            return "owner_receives";
        case RejectReason::auth_type_mismatch:
            return "auth_type_mismatch";
        case RejectReason::auth_failure:
            return "auth_failure";
        case RejectReason::interval_mismatch:
            return "interval_mismatch";
        case RejectReason::address_mismatch:
            return "address_mismatch";
        case RejectReason::family_mismatch:
            return "family_mismatch";
    }
    return "unknown";
}

std::uint64_t RejectCounters::total() const {
    return std::accumulate(by_reason.begin(), by_reason.end(), std::uint64_t{0});
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> data, std::uint32_t initial) {
    return fold(sum16(data, initial));
}

std::uint16_t vrrp_checksum(int version, std::span<const std::uint8_t> message,
                            const Address& source, const Address& destination) {
    std::uint32_t sum = 0;
    if (version == 3) {
        // RFC 5798 section 5.2.8: "the checksum ... including the pseudo-header".
        const std::size_t n = source.size();
        sum = sum16(std::span(source.bytes.data(), n), sum);
        sum = sum16(std::span(destination.bytes.data(), n), sum);
        const auto length = static_cast<std::uint32_t>(message.size());
        if (source.family == Family::inet) {
            // RFC 768-style IPv4 pseudo-header: zero, protocol, 16-bit length.
            sum += kIpProtoVrrp;
            sum += length & 0xffff;
        } else {
            // RFC 2460 section 8.1: 32-bit upper-layer length, 3 zero bytes,
            // next header.
            sum += length >> 16;
            sum += length & 0xffff;
            sum += kIpProtoVrrp;
        }
    }
    // The checksum field (bytes 6-7) is summed as zero.
    std::uint32_t body = 0;
    if (message.size() >= kHeaderSize) {
        body = sum16(message.first(6), 0);
        body = sum16(message.subspan(kHeaderSize), body);
    } else {
        body = sum16(message, 0);
    }
    return fold(sum + body);
}

std::vector<std::uint8_t> encode(const Advert& advert, const Address& source,
                                 const Address& destination) {
    const std::size_t count = std::min<std::size_t>(advert.addresses.size(), 255);
    const std::size_t asize = address_size(advert.family);
    std::vector<std::uint8_t> out(kHeaderSize + count * asize +
                                  (advert.version == 2 ? kAuthDataSize : 0));
    out[0] = static_cast<std::uint8_t>((advert.version & 0xf) << 4 | kTypeAdvertisement);
    out[1] = advert.vrid;
    out[2] = advert.priority;
    out[3] = static_cast<std::uint8_t>(count);
    if (advert.version == 2) {
        out[4] = static_cast<std::uint8_t>(advert.auth_type);
        // RFC 3768 section 5.3.7: Adver Int in seconds.
        out[5] = static_cast<std::uint8_t>(std::clamp<std::int64_t>(
            std::chrono::duration_cast<std::chrono::seconds>(advert.advert_interval).count(), 1,
            255));
    } else {
        // RFC 5798 section 5.2.7: 12-bit Max Adver Int in centiseconds; the 4
        // high bits are reserved and sent as zero.
        const auto cs = static_cast<std::uint16_t>(
            std::clamp<std::int64_t>(advert.advert_interval.count(), 1, 0xfff));
        out[4] = static_cast<std::uint8_t>(cs >> 8);
        out[5] = static_cast<std::uint8_t>(cs & 0xff);
    }
    std::size_t at = kHeaderSize;
    for (std::size_t i = 0; i < count; ++i) {
        std::copy_n(advert.addresses[i].bytes.begin(), asize, out.begin() + static_cast<long>(at));
        at += asize;
    }
    if (advert.version == 2 && advert.auth_type == AuthType::simple_text) {
        // RFC 2338 section 5.3.10.1: up to 8 octets, zero padded.
        const std::size_t n = std::min(advert.auth_pass.size(), kAuthDataSize);
        for (std::size_t i = 0; i < n; ++i)
            out[at + i] = static_cast<std::uint8_t>(advert.auth_pass[i]);
    }
    const std::uint16_t sum = vrrp_checksum(advert.version, out, source, destination);
    out[6] = static_cast<std::uint8_t>(sum >> 8);
    out[7] = static_cast<std::uint8_t>(sum & 0xff);
    return out;
}

Result<Advert> decode(std::span<const std::uint8_t> message, const IpContext& ip) {
    // RFC 5798 section 7.1 / RFC 3768 section 7.1, in the RFCs' order.
    if (ip.ttl != kRequiredTtl) {
        return reject(RejectReason::bad_ttl, "TTL " + std::to_string(ip.ttl) + ", expected 255");
    }
    if (message.size() < kHeaderSize) {
        return reject(RejectReason::truncated,
                      std::to_string(message.size()) + " bytes, a VRRP header has 8");
    }
    Advert a;
    a.family = ip.family;
    a.version = message[0] >> 4;
    if (a.version != 2 && a.version != 3) {
        return reject(RejectReason::bad_version,
                      "version " + std::to_string(a.version) + ", expected 2 or 3");
    }
    if (a.version == 2 && ip.family == Family::inet6) {
        return reject(RejectReason::family_mismatch, "VRRPv2 is IPv4 only (RFC 3768)");
    }
    const int type = message[0] & 0xf;
    if (type != kTypeAdvertisement) {
        return reject(RejectReason::bad_type,
                      "type " + std::to_string(type) + ", expected 1 (ADVERTISEMENT)");
    }
    a.vrid = message[1];
    a.priority = message[2];
    const std::size_t count = message[3];
    const std::size_t asize = address_size(ip.family);
    const std::size_t needed = kHeaderSize + count * asize + (a.version == 2 ? kAuthDataSize : 0);
    if (message.size() < needed) {
        return reject(RejectReason::truncated_addresses,
                      std::to_string(count) + " addresses need " + std::to_string(needed) +
                          " bytes, packet has " + std::to_string(message.size()));
    }
    const std::uint16_t wire_sum = static_cast<std::uint16_t>(message[6] << 8 | message[7]);
    const std::uint16_t want = vrrp_checksum(a.version, message, ip.source, ip.destination);
    if (wire_sum != want) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "checksum 0x%04x, computed 0x%04x", wire_sum, want);
        return reject(RejectReason::bad_checksum, buf);
    }
    if (a.version == 2) {
        a.auth_type = static_cast<AuthType>(message[4]);
        a.advert_interval = std::chrono::seconds(message[5]);
    } else {
        a.advert_interval = Centiseconds((message[4] & 0x0f) << 8 | message[5]);
    }
    std::size_t at = kHeaderSize;
    a.addresses.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        Address addr;
        addr.family = ip.family;
        std::copy_n(message.begin() + static_cast<long>(at), asize, addr.bytes.begin());
        a.addresses.push_back(addr);
        at += asize;
    }
    if (a.version == 2 && a.auth_type == AuthType::simple_text) {
        const auto data = message.subspan(at, kAuthDataSize);
        const auto end = std::find(data.begin(), data.end(), std::uint8_t{0});
        a.auth_pass.assign(data.begin(), end);
    }
    return a;
}

Result<Ipv4Datagram> split_ipv4(std::span<const std::uint8_t> datagram) {
    if (datagram.size() < 20) {
        return reject(RejectReason::truncated_ip_header,
                      std::to_string(datagram.size()) + " bytes, an IPv4 header has 20");
    }
    const std::size_t ihl = static_cast<std::size_t>(datagram[0] & 0xf) * 4;
    if ((datagram[0] >> 4) != 4 || ihl < 20 || datagram.size() < ihl) {
        return reject(RejectReason::truncated_ip_header, "bad IPv4 version or header length");
    }
    if (datagram[9] != kIpProtoVrrp) {
        return reject(RejectReason::not_vrrp_protocol,
                      "IP protocol " + std::to_string(datagram[9]) + ", expected 112");
    }
    std::size_t total = static_cast<std::size_t>(datagram[2] << 8 | datagram[3]);
    // Linux raw sockets hand over the header as received; trust the smaller
    // of the total length and what arrived.
    if (total < ihl || total > datagram.size()) total = datagram.size();
    Ipv4Datagram d;
    d.ip.family = Family::inet;
    d.ip.ttl = datagram[8];
    std::copy_n(datagram.begin() + 12, 4, d.ip.source.bytes.begin());
    std::copy_n(datagram.begin() + 16, 4, d.ip.destination.bytes.begin());
    d.payload = datagram.subspan(ihl, total - ihl);
    return d;
}

std::optional<Rejection> check(const Advert& advert, const Expectation& expected) {
    if (advert.family != expected.family) {
        return reject(RejectReason::family_mismatch, "address family differs from ours");
    }
    if (advert.version != expected.version) {
        return reject(RejectReason::bad_version, "version " + std::to_string(advert.version) +
                                                     ", configured " +
                                                     std::to_string(expected.version));
    }
    if (advert.vrid != expected.vrid) {
        return reject(
            RejectReason::vrid_mismatch,
            "VRID " + std::to_string(advert.vrid) + ", ours is " + std::to_string(expected.vrid));
    }
    // RFC 5798 section 7.1: "the local router is not the IPvX address owner".
    if (expected.priority == 255) {
        return reject(RejectReason::owner_receives,
                      "we own the addresses (priority 255); advert from priority " +
                          std::to_string(advert.priority) + " ignored");
    }
    if (advert.version == 2) {
        if (advert.auth_type != expected.auth_type) {
            return reject(RejectReason::auth_type_mismatch,
                          "auth type " + std::to_string(static_cast<int>(advert.auth_type)) +
                              ", configured " +
                              std::to_string(static_cast<int>(expected.auth_type)));
        }
        if (expected.auth_type == AuthType::simple_text &&
            advert.auth_pass != expected.auth_pass.substr(0, kAuthDataSize)) {
            return reject(RejectReason::auth_failure, "authentication password mismatch");
        }
    }
    if (expected.addresses) {
        auto mine = *expected.addresses;
        auto theirs = advert.addresses;
        std::sort(mine.begin(), mine.end());
        std::sort(theirs.begin(), theirs.end());
        // RFC 3768 section 7.1: a mismatch from the owner (priority 255) is
        // logged but the advert is still processed.
        if (mine != theirs && advert.priority != 255) {
            return reject(RejectReason::address_mismatch,
                          std::to_string(theirs.size()) + " addresses, " +
                              std::to_string(mine.size()) + " configured, or they differ");
        }
    }
    // RFC 3768 section 7.1: v2 MUST discard adverts whose Adver Int differs.
    if (advert.version == 2 && advert.advert_interval != expected.advert_interval) {
        return reject(RejectReason::interval_mismatch,
                      "advert interval " +
                          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                             advert.advert_interval)
                                             .count()) +
                          " s, configured " +
                          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                             expected.advert_interval)
                                             .count()) +
                          " s");
    }
    return std::nullopt;
}

}  // namespace ipvsctl::vrrp
