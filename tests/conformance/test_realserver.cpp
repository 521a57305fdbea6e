// SPDX-License-Identifier: GPL-2.0-or-later
// realserver setup/teardown planning: pure, from a described system.
#include <catch2/catch.hpp>

#include "realserver.hpp"

using namespace ipvsctl;
using namespace ipvsctl::cli;

namespace {

std::vector<std::string> described(const std::vector<Change>& plan) {
    std::vector<std::string> out;
    for (const auto& c : plan) out.push_back(c.describe());
    return out;
}

RealServerRequest request(RealServerMode mode, std::initializer_list<const char*> vips) {
    RealServerRequest r;
    r.mode = mode;
    for (const auto* v : vips) r.vips.push_back(*Address::parse(v));
    return r;
}

SystemView fresh() {
    SystemView view;
    view.links = {{"lo", true}, {"eth0", true}};
    view.addresses = {"lo 127.0.0.1/8", "lo ::1/128"};
    for (const auto* dev : {"all", "lo", "eth0"})
        for (const auto* key : {"arp_ignore", "arp_announce", "rp_filter"})
            view.sysctls[std::string("net/ipv4/conf/") + dev + "/" + key] = "0";
    return view;
}

}  // namespace

TEST_CASE("DR setup: VIPs on lo, ARP sysctls only for IPv4", "[realserver]") {
    auto plan =
        plan_setup(request(RealServerMode::DirectRouting, {"192.0.2.1", "2001:db8::1"}), fresh());
    REQUIRE(std::holds_alternative<std::vector<Change>>(plan));
    CHECK(described(std::get<std::vector<Change>>(plan)) ==
          std::vector<std::string>{"add 192.0.2.1/32 to lo", "add 2001:db8::1/128 to lo",
                                   "set net.ipv4.conf.all.arp_ignore = 1 (was 0)",
                                   "set net.ipv4.conf.all.arp_announce = 2 (was 0)",
                                   "set net.ipv4.conf.lo.arp_ignore = 1 (was 0)",
                                   "set net.ipv4.conf.lo.arp_announce = 2 (was 0)"});
    auto v6_only = plan_setup(request(RealServerMode::DirectRouting, {"2001:db8::1"}), fresh());
    CHECK(described(std::get<std::vector<Change>>(v6_only)) ==
          std::vector<std::string>{"add 2001:db8::1/128 to lo"});
}

TEST_CASE("DR setup is idempotent and checks the interface", "[realserver]") {
    auto view = fresh();
    view.addresses.insert("eth0 192.0.2.1/32");
    view.sysctls["net/ipv4/conf/all/arp_ignore"] = "1";
    view.sysctls["net/ipv4/conf/all/arp_announce"] = "2";
    view.sysctls["net/ipv4/conf/eth0/arp_ignore"] = "1";
    view.sysctls["net/ipv4/conf/eth0/arp_announce"] = "2";
    auto r = request(RealServerMode::DirectRouting, {"192.0.2.1"});
    r.interface = "eth0";
    CHECK(std::get<std::vector<Change>>(plan_setup(r, view)).empty());
    r.interface = "eth9";
    CHECK(std::get<std::string>(plan_setup(r, view)) == "interface 'eth9' does not exist");
}

TEST_CASE("TUN setup: tunnels created and up, rp_filter off, ARP sysctls as for DR",
          "[realserver]") {
    auto plan = plan_setup(request(RealServerMode::Tunnel, {"192.0.2.1", "2001:db8::1"}), fresh());
    CHECK(described(std::get<std::vector<Change>>(plan)) ==
          std::vector<std::string>{
              "create tunl0 (ipip module)", "set tunl0 up", "add 192.0.2.1/32 to tunl0",
              "set net.ipv4.conf.tunl0.rp_filter = 0 (was not yet present)",
              "set net.ipv4.conf.all.arp_ignore = 1 (was 0)",
              "set net.ipv4.conf.all.arp_announce = 2 (was 0)", "create ip6tnl0 (ip6tnl module)",
              "set ip6tnl0 up", "add 2001:db8::1/128 to ip6tnl0"});
    auto view = fresh();
    view.links["tunl0"] = false;
    view.sysctls["net/ipv4/conf/all/rp_filter"] = "1";
    view.sysctls["net/ipv4/conf/tunl0/rp_filter"] = "0";
    auto existing = plan_setup(request(RealServerMode::Tunnel, {"192.0.2.1"}), view);
    CHECK(described(std::get<std::vector<Change>>(existing)) ==
          std::vector<std::string>{"set tunl0 up", "add 192.0.2.1/32 to tunl0",
                                   "set net.ipv4.conf.all.rp_filter = 0 (was 1)",
                                   "set net.ipv4.conf.all.arp_ignore = 1 (was 0)",
                                   "set net.ipv4.conf.all.arp_announce = 2 (was 0)"});
}

TEST_CASE("teardown undoes what was recorded, skipping what is gone", "[realserver]") {
    RealServerState state;
    for (const auto& change :
         std::vector<Change>{{ChangeKind::LinkUp, "tunl0", "", "", {}},
                             {ChangeKind::AddAddress, "tunl0", "192.0.2.1/32", "", {}},
                             {ChangeKind::AddAddress, "tunl0", "192.0.2.2/32", "", {}},
                             {ChangeKind::SetSysctl, "", "0", "net/ipv4/conf/all/rp_filter", "2"},
                             {ChangeKind::SetSysctl, "", "5", "net/ipv4/conf/all/rp_filter", "0"}})
        state.record(change);
    CHECK(state.sysctls.at("net/ipv4/conf/all/rp_filter") == "2");  // the first original
    auto round = RealServerState::from_json(state.to_json());
    REQUIRE(std::holds_alternative<RealServerState>(round));
    state = std::get<RealServerState>(round);

    SystemView view;
    view.links = {{"tunl0", true}};
    view.addresses = {"tunl0 192.0.2.1/32"};  // 192.0.2.2 removed by hand meanwhile
    view.sysctls = {{"net/ipv4/conf/all/rp_filter", "0"}};
    CHECK(described(plan_teardown(state, view)) ==
          std::vector<std::string>{"remove 192.0.2.1/32 from tunl0", "set tunl0 down",
                                   "set net.ipv4.conf.all.rp_filter = 2 (was 0)"});
    view.addresses.clear();
    view.links["tunl0"] = false;
    view.sysctls["net/ipv4/conf/all/rp_filter"] = "2";
    CHECK(plan_teardown(state, view).empty());
}

TEST_CASE("state files that are not ours are refused", "[realserver]") {
    CHECK(std::holds_alternative<std::string>(RealServerState::from_json({{"addresses", 1}})));
    CHECK(std::get<std::string>(
              RealServerState::from_json({{"addresses", nlohmann::json::array()},
                                          {"links_up", nlohmann::json::array()},
                                          {"sysctls", {{"kernel/../../etc/passwd", "x"}}}})) ==
          "not a realserver state: sysctl 'kernel/../../etc/passwd'");
}
