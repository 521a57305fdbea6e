// SPDX-License-Identifier: GPL-2.0-or-later
// The instance runtime over fake clock, fake LAN and fake address control:
// elections, failover and shutdown with time advanced by hand.
#include <catch2/catch.hpp>

#include <map>
#include <memory>

#include "fakes.hpp"

using namespace ipvsctl::vrrp;
using namespace std::chrono_literals;

using namespace ipvsctl::vrrp::testing;

namespace {

InstanceSettings instance_settings(std::uint8_t priority, const Address& me, int version = 3) {
    InstanceSettings s;
    s.name = "VI_1";
    s.interface = "eth0";
    s.vrid = 51;
    s.protocol.version = version;
    s.protocol.priority = priority;
    s.protocol.advert_interval = Centiseconds(100);
    s.protocol.primary_address = me;
    s.addresses = {{Address::v4(192, 0, 2, 100), 24, ""}};
    s.garp_repeat = 3;
    s.garp_master_delay = Centiseconds(500);
    if (version == 2) {
        s.auth_type = AuthType::simple_text;
        s.auth_pass = "secret";
    }
    return s;
}

struct Router {
    Router(FakeClock& clock, Lan& lan, std::uint8_t priority, const Address& me, int version = 3)
        : port(lan.port(me)),
          instance(instance_settings(priority, me, version), clock, clock, port, addresses, log) {
        lan.attach(port, instance);
    }
    Lan::Port& port;
    FakeAddresses addresses;
    RecordingLog log;
    Instance instance;
};

const Address kA = Address::v4(192, 0, 2, 1);
const Address kB = Address::v4(192, 0, 2, 2);

}  // namespace

TEST_CASE("a lone router becomes master after Master_Down_Interval", "[vrrp][instance]") {
    FakeClock clock;
    Lan lan(clock);
    Router a(clock, lan, 100, kA);
    a.instance.start();
    CHECK(a.instance.state() == State::backup);
    clock.advance(3600ms);  // Master_Down_Interval = 3 s + 156/256 s = 3.609375 s
    CHECK(a.instance.state() == State::backup);
    CHECK(a.port.sent.empty());
    clock.advance(10ms);
    CHECK(a.instance.state() == State::master);
    CHECK(a.addresses.has("192.0.2.100"));
    CHECK(a.addresses.announced == 3);
    CHECK(a.port.sent.size() == 1);
    CHECK(a.log.has("<6>[VI_1 vrid 51 v4] BACKUP -> MASTER (master down timer expired)"));
    clock.advance(5s);  // adverts every second, plus the delayed second GARP burst
    CHECK(a.port.sent.size() == 6);
    CHECK(a.addresses.announced == 6);
    CHECK(a.instance.counters().became_master == 1);
}

TEST_CASE("election, failover on priority 0 and preemption", "[vrrp][instance]") {
    for (int version : {2, 3}) {
        FakeClock clock;
        Lan lan(clock);
        Router low(clock, lan, 100, kA, version);
        Router high(clock, lan, 200, kB, version);
        low.instance.start();
        high.instance.start();
        clock.advance(10s);
        CHECK(high.instance.state() == State::master);
        CHECK(low.instance.state() == State::backup);
        CHECK(low.instance.counters().became_master == 0);
        CHECK(low.instance.machine().master_address == kB);
        CHECK_FALSE(low.addresses.has("192.0.2.100"));
        CHECK(high.addresses.has("192.0.2.100"));

        // Clean shutdown: priority 0 makes the backup take over after Skew_Time.
        high.instance.stop();
        CHECK(high.instance.counters().priority_zero_sent == 1);
        CHECK_FALSE(high.addresses.has("192.0.2.100"));
        clock.advance(590ms);  // Skew_Time for priority 100 = 156/256 s = 609.375 ms
        CHECK(low.instance.state() == State::backup);
        clock.advance(20ms);
        CHECK(low.instance.state() == State::master);
        CHECK(low.addresses.has("192.0.2.100"));

        // The higher-priority router returns and preempts.
        high.instance.start();
        clock.advance(4s);
        CHECK(high.instance.state() == State::master);
        CHECK(low.instance.state() == State::backup);
        CHECK(low.log.has("MASTER -> BACKUP (higher priority advert)"));
        CHECK_FALSE(low.addresses.has("192.0.2.100"));
    }
}

TEST_CASE("silent master death: takeover after Master_Down_Interval", "[vrrp][instance]") {
    FakeClock clock;
    Lan lan(clock);
    Router backup(clock, lan, 100, kA);
    Router master(clock, lan, 200, kB);
    backup.instance.start();
    master.instance.start();
    clock.advance(10s);
    REQUIRE(master.instance.state() == State::master);
    master.port.cut = true;  // SIGKILL: no priority 0, nothing more on the wire
    // The master won at 3.21875 s (3 s + 56/256 s) and advertised every
    // second: the last advert left at 9.21875 s, so the backup's 3.609375 s
    // Master_Down_Interval ends at 12.828125 s, 2.828 s after the cut.
    clock.advance(2820ms);
    CHECK(backup.instance.state() == State::backup);
    clock.advance(20ms);
    CHECK(backup.instance.state() == State::master);
}

TEST_CASE("nopreempt keeps a lower-priority master", "[vrrp][instance]") {
    FakeClock clock;
    Lan lan(clock);
    Router low(clock, lan, 100, kA);
    low.instance.start();
    clock.advance(5s);
    REQUIRE(low.instance.state() == State::master);
    auto s = instance_settings(200, kB);
    s.protocol.preempt = false;
    FakeAddresses addresses;
    RecordingLog log;
    auto& port = lan.port(kB);
    Instance high(s, clock, clock, port, addresses, log);
    lan.attach(port, high);
    high.start();
    clock.advance(20s);
    CHECK(low.instance.state() == State::master);
    CHECK(high.state() == State::backup);
}

TEST_CASE("rejected adverts are counted by reason and change nothing", "[vrrp][instance]") {
    FakeClock clock;
    Lan lan(clock);
    Router r(clock, lan, 100, kA, 2);
    r.instance.start();
    Advert a;
    a.version = 2;
    a.vrid = 51;
    a.priority = 200;
    a.advert_interval = 1s;
    a.addresses = {Address::v4(192, 0, 2, 100)};
    a.auth_type = AuthType::simple_text;
    a.auth_pass = "wrong";
    const auto group = vrrp_group_v4();
    r.instance.receive(encode(a, kB, group), {Family::inet, kB, group, 255});
    r.instance.receive(encode(a, kB, group), {Family::inet, kB, group, 64});
    a.vrid = 52;
    r.instance.receive(encode(a, kB, group), {Family::inet, kB, group, 255});
    const auto& c = r.instance.counters();
    CHECK(c.rejected[RejectReason::auth_failure] == 1);
    CHECK(c.rejected[RejectReason::bad_ttl] == 1);
    CHECK(c.rejected[RejectReason::vrid_mismatch] == 1);
    CHECK(c.adverts_received == 0);
    CHECK(r.log.has("<4>[VI_1 vrid 51 v4] advert from 192.0.2.2 rejected (auth_failure)"));
    clock.advance(3700ms);  // nothing valid arrived: we still take over
    CHECK(r.instance.state() == State::master);
}

TEST_CASE("update() keeps state and timers", "[vrrp][instance]") {
    FakeClock clock;
    Lan lan(clock);
    Router r(clock, lan, 100, kA);
    r.instance.start();
    clock.advance(5s);
    REQUIRE(r.instance.state() == State::master);
    auto s = r.instance.settings();
    s.protocol.priority = 150;
    r.instance.update(s);
    CHECK(r.instance.state() == State::master);
    const auto sent = r.port.sent.size();
    clock.advance(1s);
    REQUIRE(r.port.sent.size() == sent + 1);
    CHECK(r.port.sent.back()[2] == 150);            // the next advert carries the new priority
    CHECK(r.instance.counters().transitions == 2);  // INIT -> BACKUP -> MASTER
}

TEST_CASE("IPv6 instance sends v3 adverts to ff02::12", "[vrrp][instance]") {
    FakeClock clock;
    Lan lan(clock);
    const Address me = *Address::parse("fe80::1");
    auto s = instance_settings(255, me);
    s.family = Family::inet6;
    s.addresses = {{*Address::parse("2001:db8::100"), 64, ""}};
    FakeAddresses addresses;
    RecordingLog log;
    auto& port = lan.port(me);
    Instance owner(s, clock, clock, port, addresses, log);
    owner.start();
    CHECK(owner.state() == State::master);
    REQUIRE(port.sent.size() == 1);
    auto d = decode(port.sent[0], {Family::inet6, me, vrrp_group_v6(), 255});
    REQUIRE(d.ok());
    CHECK(d->priority == 255);
    CHECK(d->addresses == std::vector{*Address::parse("2001:db8::100")});
    CHECK(log.has("[VI_1 vrid 51 v6] INIT -> MASTER"));
}

TEST_CASE("same_identity separates tunables from identity", "[vrrp][instance]") {
    const auto a = instance_settings(100, kA);
    auto b = a;
    b.protocol.priority = 50;
    b.protocol.advert_interval = Centiseconds(10);
    b.protocol.preempt = false;
    b.garp_repeat = 1;
    CHECK(same_identity(a, b));
    auto c = a;
    c.vrid = 52;
    CHECK_FALSE(same_identity(a, c));
    auto d = a;
    d.addresses.push_back({Address::v4(192, 0, 2, 101), 32, ""});
    CHECK_FALSE(same_identity(a, d));
    auto e = a;
    e.auth_pass = "other";
    CHECK_FALSE(same_identity(a, e));
}

#include "vrrpd/status.hpp"

TEST_CASE("status JSON carries state, counters and the last transition", "[vrrp][status]") {
    FakeClock clock;
    Lan lan(clock);
    Router low(clock, lan, 100, kA);
    Router high(clock, lan, 200, kB);
    high.instance.start();
    clock.advance(5s);
    low.instance.start();
    clock.advance(2s);
    const auto j = status_json(low.instance, clock.now());
    CHECK(j["instance"] == "VI_1");
    CHECK(j["vrid"] == 51);
    CHECK(j["family"] == "inet");
    CHECK(j["state"] == "BACKUP");
    CHECK(j["priority"] == 100);
    CHECK(j["master_address"] == "192.0.2.2");
    CHECK(j["master_down_interval_cs"] == 360);
    CHECK(j["master_down_interval_us"] == 3609375);
    CHECK(j["counters"]["adverts_received"] == 2);
    CHECK(j["counters"]["rejected"]["bad_ttl"] == 0);
    CHECK(j["last_transition"]["to"] == "BACKUP");
    CHECK(j["last_transition"]["why"] == "startup");
    CHECK(j["last_transition"]["seconds_ago"] == 2.0);
    const auto m = status_json(high.instance, clock.now());
    CHECK(m["state"] == "MASTER");
    CHECK(m["master_address"] == "192.0.2.2");
    CHECK(m["counters"]["became_master"] == 1);
}

TEST_CASE("tracking: priority changes and FAULT move the master", "[vrrp][instance]") {
    FakeClock clock;
    Lan lan(clock);
    Router low(clock, lan, 100, kA);
    Router high(clock, lan, 200, kB);
    high.instance.start();
    clock.advance(5s);
    low.instance.start();
    clock.advance(2s);
    REQUIRE(high.instance.state() == State::master);

    high.instance.set_priority(50);  // e.g. a tracked interface with weight -150 went down
    CHECK(high.log.has("effective priority 200 -> 50"));
    clock.advance(1s);  // the next advert carries 50: low discards it and takes over
    clock.advance(4s);
    CHECK(low.instance.state() == State::master);
    CHECK(high.instance.state() == State::backup);
    CHECK(high.instance.base_priority() == 200);

    high.instance.set_priority(200);
    clock.advance(5s);
    CHECK(high.instance.state() == State::master);

    high.instance.set_fault(true);
    CHECK(high.instance.state() == State::fault);
    CHECK(high.instance.counters().priority_zero_sent == 1);
    CHECK_FALSE(high.addresses.has("192.0.2.100"));
    clock.advance(700ms);  // priority 0: low takes over after Skew_Time
    CHECK(low.instance.state() == State::master);
    const auto sent_in_fault = high.port.sent.size();
    clock.advance(10s);
    CHECK(high.instance.state() == State::fault);  // no adverts, no takeover while faulted
    CHECK(high.port.sent.size() == sent_in_fault);
    high.instance.set_fault(false);
    CHECK(high.instance.state() == State::backup);
    clock.advance(5s);
    CHECK(high.instance.state() == State::master);  // preempts again
}

TEST_CASE("the transition hook runs after the step's actions", "[vrrp][instance]") {
    FakeClock clock;
    Lan lan(clock);
    Router r(clock, lan, 100, kA);
    std::vector<std::string> seen;
    r.instance.on_transition([&](const LastTransition& t) {
        seen.push_back(std::string(to_string(t.to)) +
                       (r.addresses.has("192.0.2.100") ? "+vip" : ""));
    });
    r.instance.start();
    clock.advance(4s);
    r.instance.stop();
    CHECK(seen == std::vector<std::string>{"BACKUP", "MASTER+vip", "INIT"});
}

TEST_CASE("gratuitous ARP refresh while master", "[vrrp][instance]") {
    FakeClock clock;
    Lan lan(clock);
    auto s = instance_settings(100, kA);
    s.garp_repeat = 2;
    s.garp_master_delay = Centiseconds(0);
    s.garp_master_refresh = Centiseconds(1000);
    s.garp_master_refresh_repeat = 1;
    FakeAddresses addresses;
    RecordingLog log;
    auto& port = lan.port(kA);
    Instance r(s, clock, clock, port, addresses, log);
    lan.attach(port, r);
    r.start();
    clock.advance(3610ms);
    REQUIRE(r.state() == State::master);
    CHECK(addresses.announced == 2);
    clock.advance(10s);
    CHECK(addresses.announced == 3);
    clock.advance(20s);
    CHECK(addresses.announced == 5);
    r.stop();
    clock.advance(30s);
    CHECK(addresses.announced == 5);  // no refresh once we are not master
}

TEST_CASE("repeated rejections are rate-limited in the log", "[vrrp][instance]") {
    FakeClock clock;
    Lan lan(clock);
    Router r(clock, lan, 100, kA, 2);
    r.instance.start();
    Advert a;
    a.version = 2;
    a.vrid = 51;
    a.priority = 200;
    a.advert_interval = 1s;
    a.addresses = {Address::v4(192, 0, 2, 100)};
    a.auth_type = AuthType::simple_text;
    a.auth_pass = "wrong";
    const auto group = vrrp_group_v4();
    for (int i = 0; i < 150; ++i) {
        r.instance.receive(encode(a, kB, group), {Family::inet, kB, group, 255});
    }
    const auto warnings = std::count_if(r.log.lines.begin(), r.log.lines.end(),
                                        [](const auto& l) { return l.rfind("<4>", 0) == 0; });
    CHECK(warnings == 3);  // the 1st, 10th and 100th
    CHECK(r.log.has("[100 so far]"));
    CHECK(r.instance.counters().rejected[RejectReason::auth_failure] == 150);
}

namespace {

/// An advert from kB as a master would send it, for the socket queue below.
std::vector<std::uint8_t> advert_from_b(std::uint8_t priority) {
    Advert a;
    a.vrid = 51;
    a.priority = priority;
    a.advert_interval = Centiseconds(100);
    a.addresses = {Address::v4(192, 0, 2, 100)};
    return encode(a, kB, vrrp_group_v4());
}

/// A backup whose receive socket holds `queued` adverts the event loop has
/// not read yet (the process was not scheduled); the drain hook reads them.
struct StarvedBackup {
    explicit StarvedBackup(FakeClock& clock) : lan(clock), router(clock, lan, 100, kA) {
        router.instance.set_receive_drain([this] {
            while (!queued.empty()) {
                auto m = std::move(queued.front());
                queued.erase(queued.begin());
                router.instance.receive(m, IpContext{Family::inet, kB, vrrp_group_v4(), 255});
            }
        });
    }
    Lan lan;
    Router router;
    std::vector<std::vector<std::uint8_t>> queued;
};

}  // namespace

TEST_CASE("late timer: a queued in-time advert prevents the takeover", "[vrrp][instance][late]") {
    FakeClock clock;
    StarvedBackup b(clock);
    b.router.instance.start();
    b.router.instance.receive(advert_from_b(200),
                              IpContext{Family::inet, kB, vrrp_group_v4(), 255});
    // The master's next advert reaches the socket at +1 s, but the process
    // sleeps through the 3.6 s Master_Down_Interval and wakes on the timer.
    b.queued.push_back(advert_from_b(200));
    clock.advance(3610ms);
    CHECK(b.router.instance.state() == State::backup);
    CHECK(b.queued.empty());
    CHECK(b.router.instance.counters().adverts_received == 2);
    CHECK(b.router.instance.counters().late_expiries_averted == 1);
    CHECK(b.router.instance.counters().transitions == 1);  // INIT -> BACKUP only
    CHECK_FALSE(b.router.addresses.has("192.0.2.100"));
    // The advert re-armed the timer from when it was read: the master is
    // really gone after another Master_Down_Interval with nothing queued.
    clock.advance(3590ms);
    CHECK(b.router.instance.state() == State::backup);
    clock.advance(20ms);
    CHECK(b.router.instance.state() == State::master);
    CHECK(b.router.instance.counters().late_expiries_averted == 1);
}

TEST_CASE("late timer: with nothing queued the backup takes over", "[vrrp][instance][late]") {
    FakeClock clock;
    StarvedBackup b(clock);
    b.router.instance.start();
    b.router.instance.receive(advert_from_b(200),
                              IpContext{Family::inet, kB, vrrp_group_v4(), 255});
    clock.advance(3610ms);
    CHECK(b.router.instance.state() == State::master);
    CHECK(b.router.instance.counters().late_expiries_averted == 0);
}

TEST_CASE("late timer: a queued lower-priority advert does not hold off a preempting backup",
          "[vrrp][instance][late]") {
    FakeClock clock;
    StarvedBackup b(clock);
    b.router.instance.start();
    // RFC 5798 section 6.4.2: with preempt, a lower-priority advert is
    // discarded and does not reset Master_Down_Timer.
    b.queued.push_back(advert_from_b(50));
    clock.advance(3610ms);
    CHECK(b.queued.empty());
    CHECK(b.router.instance.counters().adverts_received == 1);
    CHECK(b.router.instance.state() == State::master);
    CHECK(b.router.instance.counters().late_expiries_averted == 0);
}

TEST_CASE("late timer: a queued priority 0 advert leads to takeover after Skew_Time",
          "[vrrp][instance][late]") {
    FakeClock clock;
    StarvedBackup b(clock);
    b.router.instance.start();
    b.router.instance.receive(advert_from_b(200),
                              IpContext{Family::inet, kB, vrrp_group_v4(), 255});
    b.queued.push_back(advert_from_b(0));
    clock.advance(3610ms);
    CHECK(b.router.instance.state() == State::backup);
    clock.advance(700ms);  // Skew_Time = (256 - 100) * 100 / 256 cs = 0.609 s
    CHECK(b.router.instance.state() == State::master);
}
