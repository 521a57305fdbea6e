// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "ipvsctl/types.hpp"

using namespace ipvsctl;

TEST_CASE("addresses parse and print in both families") {
    const auto v4 = Address::parse("192.0.2.10");
    REQUIRE(v4);
    CHECK(v4->family == Family::Inet);
    CHECK(v4->to_string() == "192.0.2.10");
    CHECK(*v4 == Address::v4(0xc000020a));

    const auto v6 = Address::parse("2001:db8::1");
    REQUIRE(v6);
    CHECK(v6->is_v6());
    CHECK(v6->to_string() == "2001:db8::1");

    CHECK_FALSE(Address::parse(""));
    CHECK_FALSE(Address::parse("192.0.2.300"));
    CHECK_FALSE(Address::parse("[2001:db8::1]"));
    CHECK_FALSE(Address::parse("example.org"));
}

TEST_CASE("service keys print as users write them") {
    CHECK(ServiceKey::tcp(*Address::parse("10.0.0.1"), 80).to_string() == "TCP 10.0.0.1:80");
    CHECK(ServiceKey::udp(*Address::parse("2001:db8::5"), 53).to_string() ==
          "UDP [2001:db8::5]:53");
    CHECK(ServiceKey::sctp(*Address::parse("10.0.0.2"), 9).to_string() == "SCTP 10.0.0.2:9");
    CHECK(ServiceKey::mark(7).to_string() == "FWM 7");
    CHECK(ServiceKey::mark(7, Family::Inet6).to_string() == "FWM 7 IPv6");
}

TEST_CASE("service keys compare by identity only") {
    const auto a = *Address::parse("10.0.0.1");
    CHECK(ServiceKey::tcp(a, 80) == ServiceKey::tcp(a, 80));
    CHECK(ServiceKey::tcp(a, 80) != ServiceKey::udp(a, 80));
    CHECK(ServiceKey::tcp(a, 80) != ServiceKey::tcp(a, 81));
    CHECK(ServiceKey::mark(1) == ServiceKey::mark(1));
    CHECK(ServiceKey::mark(1) != ServiceKey::mark(1, Family::Inet6));
    CHECK(ServiceKey::mark(1) != ServiceKey::tcp(a, 80));
    // A fwmark key ignores leftover protocol/address fields.
    ServiceKey noisy = ServiceKey::mark(1);
    noisy.protocol = Protocol::UDP;
    CHECK(noisy == ServiceKey::mark(1));
    CHECK(ServiceKey::tcp(a, 80) < ServiceKey::tcp(a, 81));
}

TEST_CASE("same_settings ignores counters but not settings") {
    Service s;
    s.key = ServiceKey::tcp(*Address::parse("10.0.0.1"), 80);
    Service t = s;
    t.stats.conns = 99;
    CHECK(s.same_settings(t));
    t.scheduler = "rr";
    CHECK_FALSE(s.same_settings(t));

    Destination d;
    d.address = *Address::parse("10.0.1.1");
    d.port = 80;
    Destination e = d;
    e.active_conns = 5;
    CHECK(d.same_settings(e));
    e.weight = 3;
    CHECK_FALSE(d.same_settings(e));
    // Tunnel settings matter only for tunnel destinations.
    Destination f = d;
    f.tunnel_port = 6080;
    CHECK(d.same_settings(f));
    d.method = f.method = ForwardMethod::Tunnel;
    CHECK_FALSE(d.same_settings(f));
}

TEST_CASE("info prints the kernel's version triple") {
    Info info;
    info.version = 0x010201;
    CHECK(info.version_string() == "1.2.1");
}
