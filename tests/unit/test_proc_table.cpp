// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "proc_table.hpp"

using namespace ipvsctl;

TEST_CASE("/proc/net/ip_vs: services, IPv6, fwmarks and their real servers") {
    const char* text =
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"
        "TCP  0A000001:0050 wlc \n"
        "  -> 0A010001:1F90      Masq    3      7          11        \n"
        "  -> 0A010002:0050      Route   0      0          0         \n"
        "UDP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0035 rr persistent 60 FFFFFFFF\n"
        "  -> [2001:0db8:0001:0000:0000:0000:0000:0005]:0035      Masq    1      0          0         \n"
        "FWM  00000007 mh \n"
        "  -> 0A010009:0000      Local   1      0          0         \n"
        "TCP  0A000002:0050 rr \n"
        "  -> 0A010003:0050      Tunnel  1      0          0         \n";
    const auto rows = proc::parse_ip_vs(text);
    REQUIRE(rows.size() == 4);
    CHECK(rows[0].key == ServiceKey::tcp(*Address::parse("10.0.0.1"), 80));
    REQUIRE(rows[0].destinations.size() == 2);
    CHECK(rows[0].destinations[0].endpoint() == "10.1.0.1:8080");
    CHECK(rows[0].destinations[0].method == ForwardMethod::Masquerade);
    CHECK(rows[0].destinations[0].weight == 3);
    CHECK(rows[0].destinations[0].active_conns == 7);
    CHECK(rows[0].destinations[0].inactive_conns == 11);
    CHECK(rows[0].destinations[1].method == ForwardMethod::Route);
    CHECK(rows[1].key == ServiceKey::udp(*Address::parse("2001:db8::1"), 53));
    CHECK(rows[1].destinations.at(0).endpoint() == "[2001:db8:1::5]:53");
    CHECK(rows[2].key.fwmark == 7);
    CHECK(rows[2].destinations.at(0).method == ForwardMethod::Local);
    CHECK_FALSE(rows[2].has_tunnel);
    CHECK(rows[3].has_tunnel);
}

TEST_CASE("/proc/net/ip_vs: a line it does not understand drops only its service") {
    const char* text =
        "TCP  0A000001:0050 wlc \n"
        "  -> 0A010001:1F90      Masq    3      0          0         \n"
        "  -> 0A010002:0050      Strange 1      0          0         \n"
        "TCP  0A000002:0050 rr \n"
        "  -> 0A010003:0050      Route   1      0          0         \n"
        "garbage\n"
        "  -> 0A010004:0050      Route   1      0          0         \n";
    const auto rows = proc::parse_ip_vs(text);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].key.address == *Address::parse("10.0.0.2"));
    CHECK(rows[0].destinations.size() == 1);
    CHECK(proc::parse_ip_vs("").empty());
    CHECK(proc::parse_ip_vs("TCP ZZ:0050 wlc\n").empty());
}
