// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "healthcheck/drain.hpp"

using namespace ipvsctl;
using namespace ipvsctl::healthcheck;
using namespace std::chrono_literals;

TEST_CASE("control-socket service names", "[drain]") {
    std::string error;
    CHECK(parse_service_spec("tcp:192.0.2.1:80", error) ==
          ServiceKey::tcp(*Address::parse("192.0.2.1"), 80));
    CHECK(parse_service_spec("udp:[2001:db8::1]:53", error) ==
          ServiceKey::udp(*Address::parse("2001:db8::1"), 53));
    CHECK(parse_service_spec("sctp:192.0.2.1:3868", error) ==
          ServiceKey::sctp(*Address::parse("192.0.2.1"), 3868));
    const auto mark = parse_service_spec("fwmark:7", error);
    REQUIRE(mark);
    CHECK(mark->fwmark == 7);
    CHECK(mark->family == Family::Unspec);

    for (const char* bad :
         {"", "tcp", "tcp:192.0.2.1", "tcp:192.0.2.1:", "tcp:192.0.2.1:65536", "tcp:192.0.2.1:-1",
          "tcp:2001:db8::1:80", "tcp:[192.0.2.1]:80", "icmp:192.0.2.1:80", "fwmark:0", "fwmark:x",
          "fwmark:4294967296", "tcp:[2001:db8::1]80", "tcp:192.0.2.256:80"}) {
        error.clear();
        INFO(bad);
        CHECK_FALSE(parse_service_spec(bad, error));
        CHECK(error.find(std::string("bad service '") + bad + "'") == 0);
    }
}

TEST_CASE("control-socket server names", "[drain]") {
    std::string error;
    const auto v4 = parse_server_spec("10.0.0.1:80", error);
    REQUIRE(v4);
    CHECK(v4->address == *Address::parse("10.0.0.1"));
    CHECK(v4->port == 80);
    const auto v6 = parse_server_spec("[2001:db8::10]:8080", error);
    REQUIRE(v6);
    CHECK(v6->port == 8080);
    CHECK_FALSE(parse_server_spec("10.0.0.1", error));
    CHECK(error == "bad server '10.0.0.1': expected ADDR:PORT or [ADDR]:PORT");
    CHECK_FALSE(parse_server_spec("2001:db8::10:80", error));
}

TEST_CASE("fwmark names match either family", "[drain]") {
    std::string error;
    const auto mark = *parse_service_spec("fwmark:7", error);
    CHECK(service_matches(mark, ServiceKey::mark(7, Family::Inet)));
    CHECK(service_matches(mark, ServiceKey::mark(7, Family::Inet6)));
    CHECK_FALSE(service_matches(mark, ServiceKey::mark(8, Family::Inet)));
    const auto tcp = *parse_service_spec("tcp:192.0.2.1:80", error);
    CHECK(service_matches(tcp, ServiceKey::tcp(*Address::parse("192.0.2.1"), 80)));
    CHECK_FALSE(service_matches(tcp, ServiceKey::udp(*Address::parse("192.0.2.1"), 80)));
    CHECK_FALSE(service_matches(tcp, ServiceKey::mark(7)));
}

TEST_CASE("a drain ends with the last connection or at its deadline", "[drain]") {
    FakeClock clock;
    const TimePoint deadline = clock.now() + 300s;
    CHECK_FALSE(drain_complete(3, clock.now(), deadline));
    CHECK(drain_complete(0, clock.now(), deadline));
    CHECK_FALSE(drain_complete(3, clock.now(), std::nullopt));
    clock.advance(299s);
    CHECK_FALSE(drain_complete(1, clock.now(), deadline));
    clock.advance(1s);
    CHECK(drain_complete(1, clock.now(), deadline));
}
