// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include <string>

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

namespace {
// Lines as Debian's 6.1 kernel prints them in the guest, with every
// scheduler and the SIP engine loaded and `services` services on the host.
std::string modules_with(unsigned ipvs_references, unsigned sip_references = 0,
                         const char* extra_user = "") {
    return "nf_conntrack_sip 45056 1 ip_vs_pe_sip, Live 0xffffffffc0790000\n"
           "ip_vs_wrr 16384 0 - Live 0xffffffffc0764000\n"
           "ip_vs_pe_sip 16384 " +
           std::to_string(sip_references) +
           " - Live 0xffffffffc074c000\n"
           "ip_vs 188416 " +
           std::to_string(ipvs_references) + " ip_vs_wrr,ip_vs_pe_sip,ip_vs_rr," + extra_user +
           " Live 0xffffffffc06e0000\n"
           "nf_conntrack 188416 4 nf_conntrack_sip,ip_vs,nft_ct, Live 0xffffffffc0690000\n";
}
}  // namespace

TEST_CASE("/proc/modules: a module's references and users") {
    const std::string text = modules_with(9);
    const auto ipvs = proc::parse_module_use(text, "ip_vs");
    REQUIRE(ipvs);
    CHECK(ipvs->references == 9);
    CHECK(ipvs->users == std::vector<std::string_view>{"ip_vs_wrr", "ip_vs_pe_sip", "ip_vs_rr"});
    const auto wrr = proc::parse_module_use(text, "ip_vs_wrr");
    REQUIRE(wrr);
    CHECK(wrr->references == 0);
    CHECK(wrr->users.empty());
    // A name is matched whole, not as a prefix of another module's.
    CHECK_FALSE(proc::parse_module_use(text, "ip_vs_w"));
    CHECK_FALSE(proc::parse_module_use("ip_vs 188416 x - Live 0x0\n", "ip_vs"));
    CHECK_FALSE(proc::parse_module_use("ip_vs 188416 3 a,,b, Live 0x0\n", "ip_vs"));
    CHECK_FALSE(proc::parse_module_use("ip_vs 188416\n", "ip_vs"));
    CHECK_FALSE(proc::parse_module_use("", "ip_vs"));
}

TEST_CASE("/proc/modules: IPVS services counted from ip_vs's references") {
    // Three users, each linked (+1) and registered (+1): 6 before services.
    CHECK(proc::ipvs_services_from_modules(modules_with(6)) == 0u);
    CHECK(proc::ipvs_services_from_modules(modules_with(10006)) == 10000u);
    // Fewer references than the users explain: the accounting does not hold.
    CHECK_FALSE(proc::ipvs_services_from_modules(modules_with(5)));
    // A service bound to the SIP engine holds a reference to it.
    CHECK_FALSE(proc::ipvs_services_from_modules(modules_with(7, 1)));
    // A user whose references are not accounted for (an application helper).
    CHECK_FALSE(proc::ipvs_services_from_modules(modules_with(9, 0, "ip_vs_ftp,")));
    // ip_vs not loaded, or built in.
    CHECK_FALSE(proc::ipvs_services_from_modules("nf_conntrack 188416 0 - Live 0x0\n"));
}
