// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "nft/ruleset.hpp"

using namespace ipvsctl::nft;

namespace {
IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}
}  // namespace

TEST_CASE("mark rules are written as nft writes them") {
    Ruleset ruleset;
    ruleset.marks.push_back({ip("10.0.0.1"), ip("10.0.0.4"), L4Protocol::tcp, 80, 0x49560001});
    ruleset.marks.push_back({ip("2001:db8::1"), ip("2001:db8::1"), L4Protocol::udp, 0, 7});
    const std::string text = to_nft_text(ruleset);
    CHECK(text.find("table inet ipvsctl {") == 0);
    CHECK(text.find("type filter hook prerouting priority mangle; policy accept;") !=
          std::string::npos);
    CHECK(text.find("ip daddr 10.0.0.1-10.0.0.4 meta l4proto tcp th dport 80 counter meta mark "
                    "set 0x49560001\n") != std::string::npos);
    CHECK(text.find("ip6 daddr 2001:db8::1 meta l4proto udp counter meta mark set 0x00000007\n") !=
          std::string::npos);
    CHECK(check(ruleset).empty());
}

TEST_CASE("snat rules match the IPVS flow and the real server") {
    Ruleset ruleset;
    SnatRule by_vip;
    by_vip.service = ServiceAddress{ip("192.0.2.10"), 80};
    by_vip.real_server = ip("10.1.0.1");
    by_vip.real_port = 8080;
    by_vip.source = ip("10.1.0.254");
    SnatRule by_mark;
    by_mark.service = ServiceMark{5};
    by_mark.protocol = L4Protocol::udp;
    by_mark.real_server = ip("10.1.0.2");
    ruleset.snats = {by_vip, by_mark};
    const std::string text = to_nft_text(ruleset);
    CHECK(text.find("type nat hook postrouting priority srcnat; policy accept;") !=
          std::string::npos);
    CHECK(text.find("ct direction original ct original ip daddr 192.0.2.10 meta l4proto tcp ct "
                    "original proto-dst 80 ip daddr 10.1.0.1 th dport 8080 counter snat ip to "
                    "10.1.0.254\n") != std::string::npos);
    CHECK(text.find("ct direction original meta mark 0x00000005 meta l4proto udp ip daddr "
                    "10.1.0.2 counter masquerade\n") != std::string::npos);
    CHECK(check(ruleset).empty());
}

TEST_CASE("check names what is wrong") {
    Ruleset ruleset;
    ruleset.marks.push_back({ip("10.0.0.9"), ip("10.0.0.1"), L4Protocol::tcp, 80, 1});
    ruleset.marks.push_back({ip("10.0.0.1"), ip("::1"), L4Protocol::tcp, 80, 1});
    ruleset.marks.push_back({ip("10.0.0.1"), ip("10.0.0.1"), L4Protocol::tcp, 80, 0});
    SnatRule snat;
    snat.service = ServiceAddress{ip("2001:db8::1"), 80};
    snat.real_server = ip("10.1.0.1");
    snat.source = ip("2001:db8::2");
    ruleset.snats.push_back(snat);
    const auto problems = check(ruleset);
    REQUIRE(problems.size() == 5);
    CHECK(problems[0] == "mark rule 10.0.0.9-10.0.0.1 tcp: range ends before it starts");
    CHECK(problems[1] == "mark rule 10.0.0.1-::1 tcp: range mixes IPv4 and IPv6");
    CHECK(problems[2] == "mark rule 10.0.0.1-10.0.0.1 tcp: mark 0 is no mark");
    CHECK(problems[3].find("VIP 2001:db8::1 is of another family") != std::string::npos);
    CHECK(problems[4].find("source 2001:db8::2 is of another family") != std::string::npos);
}

TEST_CASE("an empty ruleset is empty") {
    CHECK(Ruleset{}.empty());
    Ruleset one;
    one.marks.push_back({ip("10.0.0.1"), ip("10.0.0.1"), L4Protocol::tcp, 80, 1});
    CHECK_FALSE(one.empty());
}

TEST_CASE("drop rules (vrrpd accept mode) get an input chain and nothing else") {
    Ruleset ruleset;
    ruleset.drops.push_back({ip("192.0.2.200")});
    ruleset.drops.push_back({ip("2001:db8::200")});
    CHECK_FALSE(ruleset.empty());
    CHECK(check(ruleset).empty());
    const std::string text = to_nft_text(ruleset, kVrrpTableName);
    CHECK(text ==
          "table inet ipvsctl_vrrp {\n"
          "\tchain input {\n"
          "\t\ttype filter hook input priority filter; policy accept;\n"
          "\t\tip daddr 192.0.2.200 counter drop\n"
          "\t\tip6 daddr 2001:db8::200 icmpv6 type nd-neighbor-solicit accept\n"
          "\t\tip6 daddr 2001:db8::200 icmpv6 type nd-neighbor-advert accept\n"
          "\t\tip6 daddr 2001:db8::200 counter drop\n"
          "\t}\n"
          "}\n");
}
