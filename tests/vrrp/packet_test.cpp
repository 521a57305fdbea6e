// SPDX-License-Identifier: GPL-2.0-or-later
// VRRP codec: encode/decode vectors and every receive-side check.
#include <catch2/catch.hpp>

#include <vector>

#include "vrrpd/packet.hpp"

using namespace ipvsctl::vrrp;
using Bytes = std::vector<std::uint8_t>;

namespace {

Address addr(const char* text) {
    return *Address::parse(text);
}

IpContext v4_ctx(const char* src = "192.0.2.1", const char* dst = "224.0.0.18", int ttl = 255) {
    return {Family::inet, addr(src), addr(dst), ttl};
}
IpContext v6_ctx(const char* src = "fe80::1", const char* dst = "ff02::12", int ttl = 255) {
    return {Family::inet6, addr(src), addr(dst), ttl};
}

// Vectors computed independently (Python, RFC 1071 sum) for VRID 51,
// priority 100, one address.
const Bytes kV2Pass = {0x21, 0x33, 0x64, 0x01, 0x01, 0x01, 0x7b, 0x19, 0xc0, 0x00,
                       0x02, 0x64, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x00, 0x00};
const Bytes kV3Inet = {0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x05, 0x72, 0xc0, 0x00, 0x02, 0x64};
const Bytes kV3Inet6 = {0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x3d, 0x8f, 0x20, 0x01, 0x0d, 0xb8,
                        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00};

Advert v2_advert() {
    Advert a;
    a.version = 2;
    a.vrid = 51;
    a.priority = 100;
    a.advert_interval = std::chrono::seconds(1);
    a.addresses = {addr("192.0.2.100")};
    a.auth_type = AuthType::simple_text;
    a.auth_pass = "secret";
    return a;
}

Advert v3_advert(Family f) {
    Advert a;
    a.version = 3;
    a.family = f;
    a.vrid = 51;
    a.priority = 100;
    a.advert_interval = Centiseconds(100);
    a.addresses = {f == Family::inet ? addr("192.0.2.100") : addr("2001:db8::100")};
    return a;
}

}  // namespace

TEST_CASE("internet checksum follows RFC 1071", "[vrrp][packet]") {
    // RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
    const Bytes data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK(internet_checksum(data) == static_cast<std::uint16_t>(~0xddf2));
    const Bytes odd = {0x01};
    CHECK(internet_checksum(odd) == static_cast<std::uint16_t>(~0x0100));
}

TEST_CASE("VRRPv2 with PASS encodes to the reference bytes", "[vrrp][packet]") {
    const auto ctx = v4_ctx();
    CHECK(encode(v2_advert(), ctx.source, ctx.destination) == kV2Pass);
    auto d = decode(kV2Pass, ctx);
    REQUIRE(d.ok());
    CHECK(*d == v2_advert());
}

TEST_CASE("VRRPv3 over IPv4 uses the IPv4 pseudo-header", "[vrrp][packet]") {
    const auto ctx = v4_ctx();
    CHECK(encode(v3_advert(Family::inet), ctx.source, ctx.destination) == kV3Inet);
    auto d = decode(kV3Inet, ctx);
    REQUIRE(d.ok());
    CHECK(*d == v3_advert(Family::inet));
    // The same bytes from another source fail the pseudo-header checksum.
    auto other = decode(kV3Inet, v4_ctx("192.0.2.2"));
    REQUIRE_FALSE(other.ok());
    CHECK(other.error().reason == RejectReason::bad_checksum);
}

TEST_CASE("VRRPv3 over IPv6 uses the IPv6 pseudo-header", "[vrrp][packet]") {
    const auto ctx = v6_ctx();
    CHECK(encode(v3_advert(Family::inet6), ctx.source, ctx.destination) == kV3Inet6);
    auto d = decode(kV3Inet6, ctx);
    REQUIRE(d.ok());
    CHECK(*d == v3_advert(Family::inet6));
    auto unicast = decode(kV3Inet6, v6_ctx("fe80::1", "fe80::2"));
    REQUIRE_FALSE(unicast.ok());
    CHECK(unicast.error().reason == RejectReason::bad_checksum);
}

TEST_CASE("round trips keep every field", "[vrrp][packet]") {
    Advert a = v3_advert(Family::inet6);
    a.priority = 255;
    a.vrid = 255;
    a.advert_interval = Centiseconds(4095);
    a.addresses = {addr("2001:db8::1"), addr("2001:db8::2"), addr("2001:db8:ffff::3")};
    const auto ctx = v6_ctx();
    const auto bytes = encode(a, ctx.source, ctx.destination);
    CHECK(bytes.size() == 8 + 3 * 16);
    auto d = decode(bytes, ctx);
    REQUIRE(d.ok());
    CHECK(*d == a);

    Advert b = v2_advert();
    b.auth_type = AuthType::none;
    b.auth_pass.clear();
    b.advert_interval = std::chrono::seconds(255);
    auto db = decode(encode(b, {}, {}), v4_ctx());
    REQUIRE(db.ok());
    CHECK(*db == b);
}

TEST_CASE("encode clamps out-of-range fields", "[vrrp][packet]") {
    Advert a = v3_advert(Family::inet);
    a.advert_interval = Centiseconds(10000);  // more than 12 bits
    auto bytes = encode(a, addr("192.0.2.1"), addr("224.0.0.18"));
    CHECK((bytes[4] & 0xf0) == 0);  // reserved bits stay zero
    CHECK((bytes[4] << 8 | bytes[5]) == 4095);
    Advert b = v2_advert();
    b.auth_pass = "muchtoolongpassword";
    auto d = decode(encode(b, {}, {}), v4_ctx());
    REQUIRE(d.ok());
    CHECK(d->auth_pass == "muchtool");
}

TEST_CASE("decode rejects with named reasons", "[vrrp][packet]") {
    SECTION("TTL must be 255") {
        auto d = decode(kV2Pass, v4_ctx("192.0.2.1", "224.0.0.18", 64));
        REQUIRE_FALSE(d.ok());
        CHECK(d.error().reason == RejectReason::bad_ttl);
        CHECK(d.error().detail == "TTL 64, expected 255");
        CHECK(name(d.error().reason) == "bad_ttl");
    }
    SECTION("hop limit must be 255") {
        auto d = decode(kV3Inet6, v6_ctx("fe80::1", "ff02::12", 1));
        REQUIRE_FALSE(d.ok());
        CHECK(d.error().reason == RejectReason::bad_ttl);
    }
    SECTION("short header") {
        const Bytes b(kV2Pass.begin(), kV2Pass.begin() + 7);
        CHECK(decode(b, v4_ctx()).error().reason == RejectReason::truncated);
    }
    SECTION("version") {
        Bytes b = kV3Inet;
        b[0] = 0x41;
        CHECK(decode(b, v4_ctx()).error().reason == RejectReason::bad_version);
    }
    SECTION("v2 over IPv6") {
        CHECK(decode(kV2Pass, v6_ctx()).error().reason == RejectReason::family_mismatch);
    }
    SECTION("type") {
        Bytes b = kV3Inet;
        b[0] = 0x32;
        CHECK(decode(b, v4_ctx()).error().reason == RejectReason::bad_type);
    }
    SECTION("address count larger than the packet") {
        Bytes b = kV3Inet;
        b[3] = 2;
        CHECK(decode(b, v4_ctx()).error().reason == RejectReason::truncated_addresses);
        Bytes v2 = kV2Pass;
        v2.pop_back();  // auth data incomplete
        CHECK(decode(v2, v4_ctx()).error().reason == RejectReason::truncated_addresses);
    }
    SECTION("checksum") {
        Bytes b = kV2Pass;
        b[2] = 101;
        auto d = decode(b, v4_ctx());
        CHECK(d.error().reason == RejectReason::bad_checksum);
        CHECK(d.error().detail.find("checksum 0x7b19") == 0);
    }
}

TEST_CASE("per-instance checks", "[vrrp][packet]") {
    Expectation e;
    e.version = 2;
    e.vrid = 51;
    e.priority = 100;
    e.advert_interval = std::chrono::seconds(1);
    e.auth_type = AuthType::simple_text;
    e.auth_pass = "secret";
    e.addresses = std::vector{addr("192.0.2.100")};
    Advert a = v2_advert();
    CHECK_FALSE(check(a, e));

    auto reason = [&](const Advert& x, const Expectation& y) {
        auto r = check(x, y);
        return r ? r->reason : RejectReason::truncated;  // truncated never comes from check()
    };
    Advert other = a;
    other.vrid = 52;
    CHECK(reason(other, e) == RejectReason::vrid_mismatch);
    Expectation owner = e;
    owner.priority = 255;
    CHECK(reason(a, owner) == RejectReason::owner_receives);
    Advert noauth = a;
    noauth.auth_type = AuthType::none;
    CHECK(reason(noauth, e) == RejectReason::auth_type_mismatch);
    Advert wrong = a;
    wrong.auth_pass = "guess";
    CHECK(reason(wrong, e) == RejectReason::auth_failure);
    Advert slow = a;
    slow.advert_interval = std::chrono::seconds(2);
    CHECK(reason(slow, e) == RejectReason::interval_mismatch);
    Advert more = a;
    more.addresses.push_back(addr("192.0.2.101"));
    CHECK(reason(more, e) == RejectReason::address_mismatch);
    more.priority = 255;  // RFC 3768 7.1: the owner's advert is still processed
    CHECK_FALSE(check(more, e));
    Expectation v3 = e;
    v3.version = 3;
    CHECK(reason(a, v3) == RejectReason::bad_version);

    // v3 carries no auth and may advertise another interval.
    Expectation e3;
    e3.version = 3;
    e3.vrid = 51;
    e3.advert_interval = Centiseconds(10);
    e3.addresses = std::vector{addr("192.0.2.100")};
    CHECK_FALSE(check(v3_advert(Family::inet), e3));
    Expectation e6 = e3;
    e6.family = Family::inet6;
    CHECK(reason(v3_advert(Family::inet), e6) == RejectReason::family_mismatch);
}

TEST_CASE("split_ipv4 reads the header a raw socket delivers", "[vrrp][packet]") {
    Bytes dgram = {0x45, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 112,
                   0x00, 0x00, 192,  0,    2,    1,    224,  0,    0,    18};
    dgram.insert(dgram.end(), kV3Inet.begin(), kV3Inet.end());
    dgram[3] = static_cast<std::uint8_t>(dgram.size());
    auto d = split_ipv4(dgram);
    REQUIRE(d.ok());
    CHECK(d->ip.ttl == 255);
    CHECK(d->ip.source == addr("192.0.2.1"));
    CHECK(d->ip.destination == addr("224.0.0.18"));
    CHECK(d->payload.size() == kV3Inet.size());
    CHECK(decode(d->payload, d->ip).ok());

    Bytes udp = dgram;
    udp[9] = 17;
    CHECK(split_ipv4(udp).error().reason == RejectReason::not_vrrp_protocol);
    CHECK(split_ipv4(Bytes(dgram.begin(), dgram.begin() + 10)).error().reason ==
          RejectReason::truncated_ip_header);
}

TEST_CASE("reject counters count by reason", "[vrrp][packet]") {
    RejectCounters c;
    c.count(RejectReason::bad_ttl);
    c.count(RejectReason::bad_ttl);
    c.count(RejectReason::auth_failure);
    CHECK(c[RejectReason::bad_ttl] == 2);
    CHECK(c[RejectReason::auth_failure] == 1);
    CHECK(c.total() == 3);
    for (std::size_t i = 0; i < kRejectReasonCount; ++i) {
        CHECK(name(static_cast<RejectReason>(i)) != "unknown");
    }
}

namespace {

Bytes hex(std::string_view text) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
        out.push_back(
            static_cast<std::uint8_t>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

}  // namespace

// Captured from Debian's keepalived 2.2.7 in a network namespace (VRID 51,
// priority 200, advert_int 1, VIP 192.0.2.100 or 2001:db8::100); our encoder
// must produce the same bytes.
TEST_CASE("adverts captured from keepalived decode and re-encode identically",
          "[vrrp][packet][keepalived]") {
    SECTION("VRRPv2 with PASS, whole IPv4 datagram") {
        const auto dgram =
            hex("45c0002800010000ff701891c0000201e00000122133c80101011719c00002647365637265740000");
        auto d = split_ipv4(dgram);
        REQUIRE(d.ok());
        CHECK(d->ip.source == addr("192.0.2.1"));
        auto a = decode(d->payload, d->ip);
        REQUIRE(a.ok());
        CHECK(a->version == 2);
        CHECK(a->vrid == 51);
        CHECK(a->priority == 200);
        CHECK(a->advert_interval == std::chrono::seconds(1));
        CHECK(a->auth_type == AuthType::simple_text);
        CHECK(a->auth_pass == "secret");
        CHECK(a->addresses == std::vector{addr("192.0.2.100")});
        CHECK(encode(*a, d->ip.source, d->ip.destination) ==
              Bytes(d->payload.begin(), d->payload.end()));
    }
    SECTION("VRRPv3 over IPv4, whole datagram") {
        const auto dgram = hex("45c0002000010000ff701899c0000201e00000123133c8010064a171c0000264");
        auto d = split_ipv4(dgram);
        REQUIRE(d.ok());
        auto a = decode(d->payload, d->ip);
        REQUIRE(a.ok());
        CHECK(a->version == 3);
        CHECK(a->advert_interval == Centiseconds(100));
        CHECK(encode(*a, d->ip.source, d->ip.destination) ==
              Bytes(d->payload.begin(), d->payload.end()));
    }
    SECTION("VRRPv3 over IPv6 (hop limit 255 from ancillary data)") {
        const auto msg = hex("3133c8010064820e20010db8000000000000000000000100");
        const IpContext ip{Family::inet6, addr("fe80::c8bf:11ff:fe6b:7e56"), addr("ff02::12"), 255};
        auto a = decode(msg, ip);
        REQUIRE(a.ok());
        CHECK(a->priority == 200);
        CHECK(a->addresses == std::vector{addr("2001:db8::100")});
        CHECK(encode(*a, ip.source, ip.destination) == msg);
    }
}
