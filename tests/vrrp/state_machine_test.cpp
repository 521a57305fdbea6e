// SPDX-License-Identifier: GPL-2.0-or-later
// The pure VRRP state machine: every state against every event, and the
// RFC timer arithmetic.
#include <algorithm>

#include <catch2/catch.hpp>

#include "vrrpd/state_machine.hpp"

using namespace ipvsctl::vrrp;
using namespace std::chrono_literals;
using A = std::vector<Action>;

namespace {

const Address kMe = Address::v4(192, 0, 2, 10);
const Address kLow = Address::v4(192, 0, 2, 5);
const Address kHigh = Address::v4(192, 0, 2, 20);
const TimePoint kNow{std::chrono::seconds(100)};

Settings settings(int version = 3, std::uint8_t priority = 100) {
    Settings s;
    s.version = version;
    s.priority = priority;
    s.advert_interval = Centiseconds(100);
    s.primary_address = kMe;
    return s;
}

Machine in(State state, Centiseconds mai = Centiseconds(100)) {
    Machine m;
    m.state = state;
    m.master_adver_interval = mai;
    return m;
}

AdvertReceived advert(std::uint8_t priority, const Address& from = kHigh,
                      Centiseconds interval = Centiseconds(100)) {
    return {priority, interval, from};
}

const A kBecomeMasterFromBackup = {
    Transition{State::backup, State::master, "master down timer expired"},
    CancelMasterDownTimer{},
    AddAddresses{},
    SendAdvert{100},
    Announce{},
    ArmAdverTimer{Centiseconds(100)}};

}  // namespace

TEST_CASE("timer arithmetic follows RFC 5798 and RFC 3768", "[vrrp][timers]") {
    // v3: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256, kept to
    // the microsecond rather than truncated to centiseconds.
    CHECK(skew_time(3, 100, Centiseconds(100)) == Microseconds(609375));  // 156/256 s
    CHECK(skew_time(3, 255, Centiseconds(100)) == Microseconds(3906));
    CHECK(skew_time(3, 1, Centiseconds(100)) == Microseconds(996093));
    CHECK(skew_time(3, 128, Centiseconds(4095)) == Microseconds(20475000));
    CHECK(skew_time(3, 200, Centiseconds(1)) == Microseconds(2187));
    // Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time
    CHECK(master_down_interval(3, 100, Centiseconds(100)) == Microseconds(3609375));
    CHECK(master_down_interval(3, 100, Centiseconds(10)) == Microseconds(360937));
    CHECK(master_down_interval(3, 150, Centiseconds(10)) == Microseconds(341406));
    CHECK(master_down_interval(3, 254, Centiseconds(4095)) == Microseconds(122850000 + 319921));
    // v2: Skew_Time = (256 - Priority) / 256 seconds, independent of the interval.
    CHECK(skew_time(2, 100, Centiseconds(300)) == Microseconds(609375));
    CHECK(skew_time(2, 1, Centiseconds(100)) == Microseconds(996093));
    CHECK(master_down_interval(2, 100, Centiseconds(100)) == Microseconds(3609375));
    CHECK(master_down_interval(2, 100, Centiseconds(300)) == Microseconds(9609375));
    // Higher priority always gives a shorter master-down interval.
    for (int p = 1; p < 255; ++p) {
        CHECK(master_down_interval(3, static_cast<std::uint8_t>(p + 1), Centiseconds(100)) <=
              master_down_interval(3, static_cast<std::uint8_t>(p), Centiseconds(100)));
    }
}

TEST_CASE("Initialize state", "[vrrp][fsm]") {
    SECTION("Startup, not owner -> Backup with Master_Down_Timer") {
        auto r = step(in(State::initialize), settings(), Startup{}, kNow);
        CHECK(r.machine.state == State::backup);
        CHECK(r.actions == A{Transition{State::initialize, State::backup, "startup"},
                             ArmMasterDownTimer{Microseconds(3609375)}});
    }
    SECTION("Startup, owner (255) -> Master at once") {
        auto r = step(in(State::initialize), settings(3, 255), Startup{}, kNow);
        CHECK(r.machine.state == State::master);
        CHECK(r.actions == A{Transition{State::initialize, State::master,
                                        "address owner (priority 255) at startup"},
                             CancelMasterDownTimer{}, AddAddresses{}, SendAdvert{255}, Announce{},
                             ArmAdverTimer{Centiseconds(100)}});
    }
    SECTION("Startup resuming after a graceful restart -> Master at once, advert now") {
        auto r = step(in(State::initialize), settings(), Startup{true}, kNow);
        CHECK(r.machine.state == State::master);
        CHECK(r.actions ==
              A{Transition{State::initialize, State::master, "resumed after a graceful restart"},
                CancelMasterDownTimer{}, AddAddresses{}, SendAdvert{100}, Announce{},
                ArmAdverTimer{Centiseconds(100)}});
        // The RFC rules still hold: a higher-priority peer's advert takes
        // the addresses away (RFC 5798 section 6.4.3).
        auto next = step(r.machine, settings(), advert(200), kNow);
        CHECK(next.machine.state == State::backup);
        CHECK(std::find(next.actions.begin(), next.actions.end(), Action{RemoveAddresses{}}) !=
              next.actions.end());
    }
    SECTION("Startup resets a learned Master_Adver_Interval") {
        auto r = step(in(State::initialize, Centiseconds(7)), settings(), Startup{}, kNow);
        CHECK(r.machine.master_adver_interval == Centiseconds(100));
    }
    SECTION("every other event is ignored") {
        for (const Event& e : std::vector<Event>{Shutdown{}, MasterDownTimerFired{},
                                                 AdverTimerFired{}, advert(200), advert(0)}) {
            auto r = step(in(State::initialize), settings(), e, kNow);
            CHECK(r.machine.state == State::initialize);
            CHECK(r.actions.empty());
        }
    }
}

TEST_CASE("Backup state", "[vrrp][fsm]") {
    const auto backup = in(State::backup);
    SECTION("Shutdown -> Initialize, cancel Master_Down_Timer") {
        auto r = step(backup, settings(), Shutdown{}, kNow);
        CHECK(r.machine.state == State::initialize);
        CHECK(r.actions ==
              A{Transition{State::backup, State::initialize, "shutdown"}, CancelMasterDownTimer{}});
    }
    SECTION("Master_Down_Timer fires -> Master") {
        auto r = step(backup, settings(), MasterDownTimerFired{}, kNow);
        CHECK(r.machine.state == State::master);
        CHECK(r.actions == kBecomeMasterFromBackup);
    }
    SECTION("Adver_Timer and Startup are ignored") {
        CHECK(step(backup, settings(), AdverTimerFired{}, kNow).actions.empty());
        CHECK(step(backup, settings(), Startup{}, kNow).actions.empty());
    }
    SECTION("priority 0 advert: Master_Down_Timer = Skew_Time") {
        auto r = step(backup, settings(), advert(0), kNow);
        CHECK(r.machine.state == State::backup);
        CHECK(r.actions == A{ArmMasterDownTimer{Microseconds(609375)}});
    }
    SECTION("higher priority advert resets the timer and learns the interval (v3)") {
        auto r = step(backup, settings(), advert(200, kHigh, Centiseconds(50)), kNow);
        CHECK(r.machine.state == State::backup);
        CHECK(r.machine.master_adver_interval == Centiseconds(50));
        CHECK(r.machine.master_address == kHigh);
        // 3 * 50 cs + (156 * 50 cs) / 256 = 1.5 s + 304687 us
        CHECK(r.actions == A{ArmMasterDownTimer{Microseconds(1804687)}});
    }
    SECTION("v2 keeps its own interval") {
        auto r = step(backup, settings(2), advert(200, kHigh, Centiseconds(300)), kNow);
        CHECK(r.machine.master_adver_interval == Centiseconds(100));
        CHECK(r.actions == A{ArmMasterDownTimer{Microseconds(3609375)}});
    }
    SECTION("equal priority advert resets the timer") {
        auto r = step(backup, settings(), advert(100, kLow), kNow);
        CHECK(r.actions == A{ArmMasterDownTimer{Microseconds(3609375)}});
    }
    SECTION("lower priority advert, preempt: discarded so we take over") {
        auto r = step(backup, settings(), advert(50, kLow), kNow);
        CHECK(r.machine.state == State::backup);
        CHECK(r.actions.empty());
    }
    SECTION("lower priority advert, nopreempt: accepted") {
        auto s = settings();
        s.preempt = false;
        auto r = step(backup, s, advert(50, kLow), kNow);
        CHECK(r.actions == A{ArmMasterDownTimer{Microseconds(3609375)}});
        CHECK(r.machine.master_address == kLow);
    }
    SECTION("preempt_delay honours a lower master until the delay is over") {
        auto s = settings();
        s.preempt_delay = Centiseconds(1000);
        auto r = step(backup, s, advert(50, kLow), kNow);
        REQUIRE(r.machine.preempt_allowed_at == kNow + 10s);
        CHECK(r.actions == A{ArmMasterDownTimer{Microseconds(3609375)}});
        auto later = step(r.machine, s, advert(50, kLow), kNow + 9s);
        CHECK(later.actions == A{ArmMasterDownTimer{Microseconds(3609375)}});
        auto done = step(later.machine, s, advert(50, kLow), kNow + 10s);
        CHECK(done.actions.empty());  // discarded: Master_Down_Timer will fire
        // A legitimate (higher) master clears the running delay.
        auto higher = step(r.machine, s, advert(150), kNow + 1s);
        CHECK_FALSE(higher.machine.preempt_allowed_at);
    }
    SECTION("preempt_delay starts at startup") {
        auto s = settings();
        s.preempt_delay = Centiseconds(500);
        auto r = step(in(State::initialize), s, Startup{}, kNow);
        CHECK(r.machine.preempt_allowed_at == kNow + 5s);
        auto after = step(r.machine, s, advert(50, kLow), kNow + 6s);
        CHECK(after.actions.empty());
    }
}

TEST_CASE("Master state", "[vrrp][fsm]") {
    const auto master = in(State::master);
    SECTION("Shutdown -> Initialize, priority 0 advert, addresses removed") {
        auto r = step(master, settings(), Shutdown{}, kNow);
        CHECK(r.machine.state == State::initialize);
        CHECK(r.actions == A{Transition{State::master, State::initialize, "shutdown"},
                             CancelAdverTimer{}, SendAdvert{0}, RemoveAddresses{}});
    }
    SECTION("Adver_Timer fires -> advert and re-arm") {
        auto r = step(master, settings(), AdverTimerFired{}, kNow);
        CHECK(r.machine.state == State::master);
        CHECK(r.actions == A{SendAdvert{100}, ArmAdverTimer{Centiseconds(100)}});
    }
    SECTION("Master_Down_Timer and Startup are ignored") {
        CHECK(step(master, settings(), MasterDownTimerFired{}, kNow).actions.empty());
        CHECK(step(master, settings(), Startup{}, kNow).actions.empty());
    }
    SECTION("priority 0 advert -> advert at once and re-arm") {
        auto r = step(master, settings(), advert(0), kNow);
        CHECK(r.machine.state == State::master);
        CHECK(r.actions == A{SendAdvert{100}, ArmAdverTimer{Centiseconds(100)}});
    }
    SECTION("higher priority -> Backup") {
        auto r = step(master, settings(), advert(200, kLow, Centiseconds(20)), kNow);
        CHECK(r.machine.state == State::backup);
        CHECK(r.machine.master_adver_interval == Centiseconds(20));
        CHECK(r.actions == A{Transition{State::master, State::backup, "higher priority advert"},
                             CancelAdverTimer{}, RemoveAddresses{},
                             ArmMasterDownTimer{Microseconds(600000 + 121875)}});
    }
    SECTION("equal priority, higher address -> Backup") {
        auto r = step(master, settings(), advert(100, kHigh), kNow);
        CHECK(r.machine.state == State::backup);
        CHECK(std::get<Transition>(r.actions[0]).why == "equal priority, higher address");
    }
    SECTION("equal priority, lower address -> discarded") {
        auto r = step(master, settings(), advert(100, kLow), kNow);
        CHECK(r.machine.state == State::master);
        CHECK(r.actions.empty());
    }
    SECTION("lower priority -> discarded (nopreempt does not matter here)") {
        auto s = settings();
        s.preempt = false;
        CHECK(step(master, s, advert(50), kNow).actions.empty());
    }
}

TEST_CASE("accept mode off drops traffic to the addresses while master", "[vrrp][fsm]") {
    auto s = settings();
    s.accept_mode = false;
    auto up = step(in(State::backup), s, MasterDownTimerFired{}, kNow);
    // The filter is up before the addresses appear and goes after they left.
    CHECK(up.actions[2] == Action{DropAddressedTraffic{true}});
    CHECK(up.actions[3] == Action{AddAddresses{}});
    const auto released_then_accepting = [](const std::vector<Action>& actions) {
        const auto removed = std::find(actions.begin(), actions.end(), Action{RemoveAddresses{}});
        const auto accepting =
            std::find(actions.begin(), actions.end(), Action{DropAddressedTraffic{false}});
        return removed != actions.end() && accepting != actions.end() && removed < accepting;
    };
    CHECK(released_then_accepting(step(up.machine, s, advert(200), kNow).actions));
    CHECK(released_then_accepting(step(up.machine, s, Shutdown{}, kNow).actions));
    CHECK(released_then_accepting(step(up.machine, s, Fault{}, kNow).actions));
    // Accept mode on: no filter at all.
    auto accepting = settings();
    accepting.accept_mode = true;
    auto a = step(in(State::backup), accepting, MasterDownTimerFired{}, kNow);
    CHECK(std::find(a.actions.begin(), a.actions.end(), Action{DropAddressedTraffic{true}}) ==
          a.actions.end());
    // The owner always accepts (RFC 5798 section 6.1).
    auto owner = settings(3, 255);
    owner.accept_mode = false;
    auto o = step(in(State::initialize), owner, Startup{}, kNow);
    CHECK(std::find(o.actions.begin(), o.actions.end(), Action{DropAddressedTraffic{true}}) ==
          o.actions.end());
}

TEST_CASE("state and event names", "[vrrp][fsm]") {
    CHECK(to_string(State::initialize) == "INIT");
    CHECK(to_string(State::backup) == "BACKUP");
    CHECK(to_string(State::master) == "MASTER");
    CHECK(event_name(Event{AdvertReceived{}}) == "advert");
    CHECK(event_name(Event{MasterDownTimerFired{}}) == "master_down_timer");
}

TEST_CASE("FAULT state (tracked object with weight 0 down)", "[vrrp][fsm]") {
    SECTION("Backup + Fault -> Fault, no timers left") {
        auto r = step(in(State::backup), settings(), Fault{}, kNow);
        CHECK(r.machine.state == State::fault);
        CHECK(r.actions == A{Transition{State::backup, State::fault, "tracked object failed"},
                             CancelMasterDownTimer{}});
    }
    SECTION("Master + Fault -> Fault, priority 0 and addresses released") {
        auto r = step(in(State::master), settings(), Fault{}, kNow);
        CHECK(r.machine.state == State::fault);
        CHECK(r.actions == A{Transition{State::master, State::fault, "tracked object failed"},
                             CancelAdverTimer{}, SendAdvert{0}, RemoveAddresses{}});
    }
    SECTION("Fault + FaultCleared -> Backup with a fresh Master_Down_Timer") {
        auto r = step(in(State::fault, Centiseconds(7)), settings(), FaultCleared{}, kNow);
        CHECK(r.machine.state == State::backup);
        CHECK(r.machine.master_adver_interval == Centiseconds(100));
        CHECK(r.actions == A{Transition{State::fault, State::backup, "tracked objects recovered"},
                             ArmMasterDownTimer{Microseconds(3609375)}});
    }
    SECTION("Fault + Shutdown -> Initialize") {
        auto r = step(in(State::fault), settings(), Shutdown{}, kNow);
        CHECK(r.machine.state == State::initialize);
        CHECK(r.actions == A{Transition{State::fault, State::initialize, "shutdown"}});
    }
    SECTION("Fault ignores timers, adverts and Startup") {
        for (const Event& e :
             std::vector<Event>{Startup{}, MasterDownTimerFired{}, AdverTimerFired{}, advert(50),
                                advert(0), Fault{}}) {
            auto r = step(in(State::fault), settings(), e, kNow);
            CHECK(r.machine.state == State::fault);
            CHECK(r.actions.empty());
        }
    }
    SECTION("FaultCleared outside Fault and Fault in Initialize are ignored") {
        CHECK(step(in(State::backup), settings(), FaultCleared{}, kNow).actions.empty());
        CHECK(step(in(State::master), settings(), FaultCleared{}, kNow).actions.empty());
        CHECK(step(in(State::initialize), settings(), Fault{}, kNow).actions.empty());
    }
    CHECK(to_string(State::fault) == "FAULT");
    CHECK(event_name(Event{FaultCleared{}}) == "fault_cleared");
}

TEST_CASE("sync group: FollowGroup moves backups up and masters down", "[vrrp][fsm][group]") {
    SECTION("Backup + FollowGroup(master) -> Master at once") {
        auto r = step(in(State::backup), settings(), FollowGroup{State::master}, kNow);
        CHECK(r.machine.state == State::master);
        CHECK(r.actions ==
              A{Transition{State::backup, State::master, "sync group member became master"},
                CancelMasterDownTimer{}, AddAddresses{}, SendAdvert{100}, Announce{},
                ArmAdverTimer{Centiseconds(100)}});
    }
    SECTION("Master + FollowGroup(backup) -> Backup, addresses released") {
        auto r = step(in(State::master), settings(), FollowGroup{State::backup}, kNow);
        CHECK(r.machine.state == State::backup);
        CHECK(r.actions ==
              A{Transition{State::master, State::backup, "sync group member left master"},
                CancelAdverTimer{}, RemoveAddresses{}, ArmMasterDownTimer{Microseconds(3609375)}});
    }
    SECTION("everything else ignores it") {
        for (State s : {State::initialize, State::fault}) {
            for (State to : {State::master, State::backup, State::fault}) {
                auto r = step(in(s), settings(), FollowGroup{to}, kNow);
                CHECK(r.machine.state == s);
                CHECK(r.actions.empty());
            }
        }
        CHECK(
            step(in(State::backup), settings(), FollowGroup{State::backup}, kNow).actions.empty());
        CHECK(
            step(in(State::master), settings(), FollowGroup{State::master}, kNow).actions.empty());
    }
    CHECK(event_name(Event{FollowGroup{}}) == "follow_group");
}
