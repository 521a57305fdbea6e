// SPDX-License-Identifier: GPL-2.0-or-later
// From the shared configuration language to vrrpd's instance settings.
#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "vrrpd/config_adapter.hpp"

using namespace ipvsctl::vrrp;

TEST_CASE("keepalived.conf instances become instance settings", "[vrrp][config]") {
    auto loaded = ipvsctl::config::load_config(VRRP_TEST_DIR "/data/pair.conf");
    for (const auto& d : loaded.diagnostics) INFO(d.to_string());
    REQUIRE(loaded.ok());
    auto r = adapt(*loaded.config);
    REQUIRE(r.errors.empty());
    REQUIRE(r.instances.size() == 2);

    const auto& v4 = r.instances[0];
    CHECK(v4.name == "VI_1");
    CHECK(v4.interface == "eth0");
    CHECK(v4.vrid == 51);
    CHECK(v4.family == Family::inet);
    CHECK(v4.protocol.version == 2);
    CHECK(v4.protocol.priority == 150);
    CHECK(v4.protocol.advert_interval == Centiseconds(100));
    CHECK_FALSE(v4.protocol.preempt);
    CHECK(v4.protocol.preempt_delay == Centiseconds(500));
    CHECK(v4.auth_type == AuthType::simple_text);
    CHECK(v4.auth_pass == "secret");
    REQUIRE(v4.addresses.size() == 2);
    CHECK(v4.addresses[0].address == *Address::parse("192.0.2.100"));
    CHECK(v4.addresses[0].prefix_length == 24);
    CHECK(v4.addresses[0].device == "eth0");
    CHECK(v4.addresses[1].prefix_length == 32);
    CHECK(v4.unicast_peers == std::vector{*Address::parse("192.0.2.2")});
    CHECK(v4.source == Address::parse("192.0.2.1"));
    CHECK(v4.track_scripts == std::vector{TrackedObject{"chk_lb", -20, false}});
    CHECK(v4.track_interfaces == std::vector{TrackedObject{"eth1", 10, false}});
    CHECK(v4.track_primary);
    CHECK(v4.garp_master_refresh == Centiseconds(6000));
    CHECK(v4.garp_master_refresh_repeat == 2);
    REQUIRE(r.scripts.size() == 1);  // "unused" is tracked by no instance
    CHECK(r.scripts[0].name == "chk_lb");
    CHECK(r.scripts[0].command == "/bin/true");
    CHECK(r.scripts[0].interval == std::chrono::seconds(2));
    CHECK(r.scripts[0].timeout == std::chrono::seconds(2));
    CHECK(r.scripts[0].fall == 3);
    CHECK(r.scripts[0].rise == 2);

    const auto& v6 = r.instances[1];
    CHECK(v6.family == Family::inet6);
    CHECK(v6.protocol.version == 3);
    CHECK(v6.protocol.owner());
    CHECK(v6.protocol.advert_interval == Centiseconds(5));
    CHECK(v6.auth_type == AuthType::none);
    CHECK_FALSE(v6.source);
}

TEST_CASE("instances vrrpd cannot run are reported with their location", "[vrrp][config]") {
    ipvsctl::config::VrrpInstance in;
    in.name = "VI_X";
    in.where.file = "x.conf";
    in.where.line = 3;
    in.where.column = 1;
    in.virtual_router_id = 51;
    in.priority = 100;
    in.advert_int = ipvsctl::config::Centiseconds(100);
    auto no_if = adapt(in);
    REQUIRE(std::holds_alternative<std::string>(no_if));
    CHECK(std::get<std::string>(no_if) == "x.conf:3:1: vrrp_instance VI_X: no interface");
    in.interface = "eth0";
    CHECK(std::holds_alternative<InstanceSettings>(adapt(in)));
    in.advert_int = ipvsctl::config::Centiseconds(150);
    CHECK(std::holds_alternative<std::string>(adapt(in)));  // v2 needs whole seconds
    in.version = 3;
    CHECK(std::holds_alternative<InstanceSettings>(adapt(in)));
    in.virtual_router_id = 0;
    CHECK(std::holds_alternative<std::string>(adapt(in)));
}

TEST_CASE("vrrp_sync_group: members, notify and tracking", "[vrrp][config][group]") {
    const char* text = R"(
global_defs { script_user nobody }
vrrp_script chk {
    script /bin/true
    weight -20
}
vrrp_sync_group G1 {
    group {
        VI_A
        VI_B
    }
    track_interface { eth9 weight -30 }
    notify_master "/bin/echo m"
    notify "/bin/echo any"
}
vrrp_instance VI_A {
    interface eth0
    virtual_router_id 51
    priority 100
    track_interface { eth1 weight 10 }
    track_script { chk }
    virtual_ipaddress { 192.0.2.100/24 }
}
vrrp_instance VI_B {
    interface eth1
    virtual_router_id 52
    priority 100
    virtual_ipaddress { 198.51.100.100/24 }
}
)";
    auto loaded = ipvsctl::config::parse_config(text, "g.conf");
    std::string diagnostics;
    for (const auto& d : loaded.diagnostics) diagnostics += d.to_string() + "\n";
    INFO(diagnostics);
    REQUIRE(loaded.ok());
    auto r = adapt(*loaded.config);
    REQUIRE(r.errors.empty());
    REQUIRE(r.groups.size() == 1);
    CHECK(r.groups[0].name == "G1");
    CHECK(r.groups[0].members == std::vector<std::string>{"VI_A", "VI_B"});
    CHECK(r.groups[0].notify.master == "/bin/echo m");
    CHECK(r.groups[0].notify.any == "/bin/echo any");
    CHECK_FALSE(r.groups[0].notify.backup);
    CHECK(r.groups[0].notify.user == "nobody");
    REQUIRE(r.instances.size() == 2);
    // Members' own weights become 0; the group's tracking applies to each.
    CHECK(r.instances[0].track_interfaces ==
          std::vector{TrackedObject{"eth1", 0, false}, TrackedObject{"eth9", -30, false}});
    CHECK(r.instances[0].track_scripts == std::vector{TrackedObject{"chk", 0, false}});
    CHECK(r.instances[1].track_interfaces == std::vector{TrackedObject{"eth9", -30, false}});
}
