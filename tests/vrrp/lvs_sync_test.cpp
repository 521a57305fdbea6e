// SPDX-License-Identifier: GPL-2.0-or-later
// lvs_sync_daemon: the IPVS sync daemons follow the bound instance, checked
// through a recording SyncDaemonControl (the kernel side is a guest test).
#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "fakes.hpp"
#include "vrrpd/config_adapter.hpp"
#include "vrrpd/lvs_sync.hpp"

using namespace ipvsctl::vrrp;
using namespace ipvsctl::vrrp::testing;
using namespace std::chrono_literals;

namespace {

struct RecordingControl : SyncDaemonControl {
    std::vector<std::string> actions;
    bool fail_start = false;
    Status start(SyncRole role, const LvsSyncSettings& s) override {
        actions.push_back("start " + std::string(to_string(role)) + " " + s.interface + " " +
                          std::to_string(s.sync_id));
        if (fail_start) return Error{19, "start sync daemon"};
        return std::nullopt;
    }
    Status stop(SyncRole role) override {
        actions.push_back("stop " + std::string(to_string(role)));
        return std::nullopt;
    }
};

LvsSyncSettings bound(const char* instance) {
    LvsSyncSettings s;
    s.interface = "eth1";
    s.instance = instance;
    s.sync_id = 51;
    return s;
}

using Actions = std::vector<std::string>;

}  // namespace

TEST_CASE("wanted sync daemon roles", "[vrrp][lvs_sync]") {
    LvsSyncSettings unbound;
    CHECK(wanted_roles(unbound, std::nullopt) == SyncRoles{true, true});
    CHECK(wanted_roles(unbound, State::backup) == SyncRoles{true, true});
    const auto b = bound("VI_1");
    CHECK(wanted_roles(b, State::master) == SyncRoles{true, false});
    CHECK(wanted_roles(b, State::backup) == SyncRoles{false, true});
    CHECK(wanted_roles(b, State::fault) == SyncRoles{false, true});
    CHECK(wanted_roles(b, State::initialize) == SyncRoles{false, true});
    CHECK(wanted_roles(b, std::nullopt) == SyncRoles{false, true});
}

TEST_CASE("the sync daemons follow the bound instance", "[vrrp][lvs_sync]") {
    RecordingControl control;
    RecordingLog log;
    LvsSyncBinding binding(bound("VI_1"), control, log);
    binding.begin(State::backup);
    // Leftovers of a predecessor are stopped first, then the backup starts.
    CHECK(control.actions == Actions{"stop master", "stop backup", "start backup eth1 51"});
    control.actions.clear();
    binding.follow(State::master);
    CHECK(control.actions == Actions{"stop backup", "start master eth1 51"});
    CHECK(binding.running() == SyncRoles{true, false});
    control.actions.clear();
    binding.follow(State::master);  // no change, nothing to do
    CHECK(control.actions.empty());
    binding.follow(State::fault);
    CHECK(control.actions == Actions{"stop master", "start backup eth1 51"});
    control.actions.clear();
    binding.follow(State::backup);
    CHECK(control.actions.empty());
    binding.end();
    CHECK(control.actions == Actions{"stop backup"});
    CHECK(binding.running() == SyncRoles{false, false});
    CHECK(log.has("[lvs_sync_daemon] starting master sync daemon on eth1 (syncid 51)"));
}

TEST_CASE("a failed start is counted, logged and retried on the next change", "[vrrp][lvs_sync]") {
    RecordingControl control;
    RecordingLog log;
    LvsSyncBinding binding(bound("VI_1"), control, log);
    control.fail_start = true;
    binding.begin(State::master);
    CHECK(binding.errors() == 1);
    CHECK(binding.running() == SyncRoles{false, false});
    CHECK(log.has("<3>[lvs_sync_daemon] starting master sync daemon on eth1 (syncid 51) failed"));
    control.fail_start = false;
    control.actions.clear();
    binding.follow(State::master);
    CHECK(control.actions == Actions{"start master eth1 51"});
    CHECK(binding.running() == SyncRoles{true, false});
}

TEST_CASE("failover on the fake LAN moves the sync daemons", "[vrrp][lvs_sync]") {
    FakeClock clock;
    Lan lan(clock);
    RecordingLog log;
    FakeAddresses addresses_a;
    FakeAddresses addresses_b;
    auto settings = [](std::uint8_t priority, const Address& me) {
        InstanceSettings s;
        s.name = "VI_1";
        s.interface = "eth0";
        s.vrid = 51;
        s.protocol.priority = priority;
        s.protocol.primary_address = me;
        s.addresses = {{Address::v4(192, 0, 2, 100), 24, ""}};
        return s;
    };
    auto& port_a = lan.port(Address::v4(192, 0, 2, 1));
    auto& port_b = lan.port(Address::v4(192, 0, 2, 2));
    Instance a(settings(200, Address::v4(192, 0, 2, 1)), clock, clock, port_a, addresses_a, log);
    Instance b(settings(100, Address::v4(192, 0, 2, 2)), clock, clock, port_b, addresses_b, log);
    lan.attach(port_a, a);
    lan.attach(port_b, b);
    RecordingControl control_a;
    RecordingControl control_b;
    LvsSyncBinding sync_a(bound("VI_1"), control_a, log);
    LvsSyncBinding sync_b(bound("VI_1"), control_b, log);
    a.on_transition([&](const LastTransition& t) { sync_a.follow(t.to); });
    b.on_transition([&](const LastTransition& t) { sync_b.follow(t.to); });
    a.start();
    b.start();
    sync_a.begin(a.state());
    sync_b.begin(b.state());
    clock.advance(10s);
    CHECK(sync_a.running() == SyncRoles{true, false});
    CHECK(sync_b.running() == SyncRoles{false, true});
    port_a.cut = true;  // the master dies silently
    clock.advance(5s);
    REQUIRE(b.state() == State::master);
    CHECK(sync_b.running() == SyncRoles{true, false});
    CHECK(control_b.actions.back() == "start master eth1 51");
}

TEST_CASE("lvs_sync_daemon from the configuration", "[vrrp][lvs_sync][config]") {
    const char* text = R"(
global_defs {
    lvs_sync_daemon eth1 VI_1 maxlen 1400 ttl 3
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 42
    priority 100
    virtual_ipaddress {
        192.0.2.100/24
    }
}
)";
    auto loaded = ipvsctl::config::parse_config(text, "s.conf");
    REQUIRE(loaded.ok());
    auto r = adapt(*loaded.config);
    REQUIRE(r.lvs_sync);
    CHECK(r.lvs_sync->interface == "eth1");
    CHECK(r.lvs_sync->instance == "VI_1");
    CHECK(r.lvs_sync->sync_id == 42);  // the instance's VRID by default
    CHECK(r.lvs_sync->max_length == 1400);
    CHECK(r.lvs_sync->ttl == 3);
    CHECK(r.lvs_sync->port == 8848);
    CHECK(r.lvs_sync->group == Address::parse("224.0.0.81"));
}
