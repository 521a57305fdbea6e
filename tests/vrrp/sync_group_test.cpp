// SPDX-License-Identifier: GPL-2.0-or-later
// vrrp_sync_group over the fake LAN: two routers, each with instances A and
// B on two LANs grouped together; a fault, a takeover or a step-down of one
// member moves the whole group, and the group state follows.
#include <catch2/catch.hpp>

#include "fakes.hpp"
#include "vrrpd/sync_group.hpp"

using namespace ipvsctl::vrrp;
using namespace ipvsctl::vrrp::testing;
using namespace std::chrono_literals;

namespace {

InstanceSettings member(const std::string& name, std::uint8_t vrid, std::uint8_t priority,
                        const Address& me, const Address& vip) {
    InstanceSettings s;
    s.name = name;
    s.interface = name == "A" ? "eth0" : "eth1";
    s.vrid = vrid;
    s.protocol.version = 3;
    s.protocol.priority = priority;
    s.protocol.advert_interval = Centiseconds(100);
    s.protocol.primary_address = me;
    s.addresses = {{vip, 24, ""}};
    s.garp_master_delay = Centiseconds(0);
    return s;
}

const Address kVipA = Address::v4(192, 0, 2, 100);
const Address kVipB = Address::v4(198, 51, 100, 100);

/// One router: instance A on LAN a, instance B on LAN b, grouped as G.
struct Router {
    Router(FakeClock& clock, Lan& lan_a, Lan& lan_b, std::uint8_t priority, std::uint8_t host)
        : port_a(lan_a.port(Address::v4(192, 0, 2, host))),
          port_b(lan_b.port(Address::v4(198, 51, 100, host))),
          a(member("A", 51, priority, Address::v4(192, 0, 2, host), kVipA), clock, clock, port_a,
            addresses, log),
          b(member("B", 52, priority, Address::v4(198, 51, 100, host), kVipB), clock, clock, port_b,
            addresses, log),
          group(SyncGroupSettings{"G", {"A", "B"}, {}}, log) {
        lan_a.attach(port_a, a);
        lan_b.attach(port_b, b);
        a.on_transition([this](const LastTransition& t) { group.member_transitioned(a, t); });
        b.on_transition([this](const LastTransition& t) { group.member_transitioned(b, t); });
        group.on_state([this](const SyncGroup&, State, State to) { group_states.push_back(to); });
        group.set_members({&a, &b});
    }
    void start() {
        a.start();
        b.start();
    }
    Lan::Port& port_a;
    Lan::Port& port_b;
    FakeAddresses addresses;
    RecordingLog log;
    Instance a;
    Instance b;
    SyncGroup group;
    std::vector<State> group_states;
};

}  // namespace

TEST_CASE("sync group: members move together", "[vrrp][group]") {
    FakeClock clock;
    Lan lan_a(clock);
    Lan lan_b(clock);
    Router r1(clock, lan_a, lan_b, 200, 1);
    Router r2(clock, lan_a, lan_b, 100, 2);
    r1.start();
    r2.start();
    clock.advance(10s);
    REQUIRE(r1.a.state() == State::master);
    REQUIRE(r1.b.state() == State::master);
    REQUIRE(r2.a.state() == State::backup);
    REQUIRE(r2.b.state() == State::backup);
    CHECK(r1.group.state() == State::master);
    CHECK(r2.group.state() == State::backup);
    CHECK(r1.group_states == std::vector<State>{State::backup, State::master});
    CHECK(r2.group_states == std::vector<State>{State::backup});

    SECTION("a fault of one member faults the group; the peer group takes over as one") {
        // A's link goes down on r1: nothing of A reaches LAN a any more.
        r1.port_a.cut = true;
        r1.group.set_member_fault(r1.a, true);
        CHECK(r1.a.state() == State::fault);
        CHECK(r1.b.state() == State::fault);
        CHECK(r1.group.state() == State::fault);
        CHECK_FALSE(r1.addresses.has("192.0.2.100"));
        CHECK_FALSE(r1.addresses.has("198.51.100.100"));
        // B sent priority 0, so r2's B takes over after Skew_Time (0.6 s)
        // and A comes along at once, long before its own 3.6 s timeout.
        clock.advance(700ms);
        CHECK(r2.b.state() == State::master);
        CHECK(r2.a.state() == State::master);
        CHECK(r2.a.last_transition()->why == "sync group member became master");
        CHECK(r2.group.state() == State::master);
        CHECK(r2.addresses.has("192.0.2.100"));
        CHECK(r2.addresses.has("198.51.100.100"));
        // The tracking of the healthy member alone cannot lift the group FAULT.
        r1.group.set_member_fault(r1.b, false);
        CHECK(r1.b.state() == State::fault);
        clock.advance(5s);
        CHECK(r1.a.state() == State::fault);

        // Recovery: both back to backup, then the higher priority preempts
        // and the peer group steps down as one.
        r1.port_a.cut = false;
        r1.group.set_member_fault(r1.a, false);
        CHECK(r1.a.state() == State::backup);
        CHECK(r1.b.state() == State::backup);
        clock.advance(5s);
        CHECK(r1.a.state() == State::master);
        CHECK(r1.b.state() == State::master);
        CHECK(r2.a.state() == State::backup);
        CHECK(r2.b.state() == State::backup);
        CHECK(r1.group_states == std::vector<State>{State::backup, State::master, State::fault,
                                                    State::backup, State::master});
        CHECK(r2.group_states == std::vector<State>{State::backup, State::master, State::backup});
        const auto transitions = r1.a.counters().transitions + r2.a.counters().transitions;
        clock.advance(20s);
        CHECK(r1.a.counters().transitions + r2.a.counters().transitions == transitions);
    }

    SECTION("a master that steps down takes its group with it") {
        // r2 raises both members (a consistent group) and preempts.
        for (Instance* i : {&r2.a, &r2.b}) {
            auto s = i->settings();
            s.protocol.priority = 250;
            i->update(s);
        }
        clock.advance(5s);
        CHECK(r2.a.state() == State::master);
        CHECK(r2.b.state() == State::master);
        CHECK(r1.a.state() == State::backup);
        CHECK(r1.b.state() == State::backup);
        CHECK(r1.group.state() == State::backup);
        const auto transitions = r1.b.counters().transitions;
        clock.advance(20s);
        CHECK(r1.b.counters().transitions == transitions);  // no flapping
    }

    SECTION("stopped members leave the group state to the rest") {
        r1.a.stop();
        CHECK(r1.b.state() == State::master);
        r1.group.set_members({&r1.b});
        CHECK(r1.group.state() == State::master);
        r1.b.stop();
        r1.group.set_members({});
        CHECK(r1.group.state() == State::initialize);
        CHECK(group_state_name(r1.group.state()) == "STOP");
    }
}
