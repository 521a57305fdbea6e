// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "healthcheck/transition.hpp"

using namespace ipvsctl::healthcheck;

namespace {

/// Feeds outcomes ('+' success, '-' failure) and returns the health after each.
std::string run(CheckerHealth state, const Thresholds& thresholds, std::string_view outcomes) {
    std::string trace;
    for (const char outcome : outcomes) {
        state = step(state, outcome == '+', thresholds).next;
        trace += state.health == Health::up ? 'U' : 'D';
    }
    return trace;
}

}  // namespace

TEST_CASE("keepalived retry N means N+1 consecutive failures", "[transition]") {
    CHECK(Thresholds::from_keepalived(1, 0).fall == 1);
    CHECK(Thresholds::from_keepalived(1, 3).fall == 4);
    CHECK(Thresholds::from_keepalived(0, 1).rise == 1);
}

TEST_CASE("checkers start up unless alpha", "[transition]") {
    CHECK(initial_checker_health(false).health == Health::up);
    CHECK_FALSE(initial_checker_health(false).provisional);
    CHECK(initial_checker_health(true).health == Health::down);
    CHECK(initial_checker_health(true).provisional);
}

TEST_CASE("fall counts consecutive failures only", "[transition]") {
    const Thresholds t{1, 3};
    CHECK(run(initial_checker_health(false), t, "--+--+---") == "UUUUUUUUD");
}

TEST_CASE("rise counts consecutive successes only", "[transition]") {
    const Thresholds t{3, 1};
    CHECK(run(initial_checker_health(false), t, "-++-+++") == "DDDDDDU");
}

TEST_CASE("hysteresis: rise and fall together", "[transition]") {
    const Thresholds t{2, 2};
    CHECK(run(initial_checker_health(false), t, "-+-+--+-++") == "UUUUUDDDDU");
}

TEST_CASE("alpha: first success is enough, first failure is a verdict", "[transition]") {
    const Thresholds t{3, 3};
    auto up = step(initial_checker_health(true), true, t);
    CHECK(up.changed);
    CHECK(up.next.health == Health::up);
    auto down = step(initial_checker_health(true), false, t);
    CHECK(down.changed);  // no longer provisional: a real down verdict
    CHECK(down.next.health == Health::down);
    CHECK_FALSE(down.next.provisional);
    CHECK_FALSE(step(down.next, false, t).changed);
}

TEST_CASE("changed is reported exactly on flips", "[transition]") {
    const Thresholds t{1, 2};
    CheckerHealth state = initial_checker_health(false);
    int flips = 0;
    for (const char c : std::string_view("--++--++-+-+")) {
        const auto result = step(state, c == '+', t);
        if (result.changed) ++flips;
        state = result.next;
    }
    CHECK(flips == 4);
}

TEST_CASE("in_retry while failing but not yet down", "[transition]") {
    const Thresholds t{1, 3};
    CheckerHealth state = initial_checker_health(false);
    CHECK_FALSE(in_retry(state, t));
    state = step(state, false, t).next;
    CHECK(in_retry(state, t));
    state = step(state, false, t).next;
    CHECK(in_retry(state, t));
    state = step(state, false, t).next;
    CHECK(state.health == Health::down);
    CHECK_FALSE(in_retry(state, t));
}

TEST_CASE("quorum with hysteresis", "[transition][quorum]") {
    // quorum 4, hysteresis 1: lost below 3, regained at 5.
    bool q = true;
    q = step_quorum(q, 3, 4, 1);
    CHECK(q);
    q = step_quorum(q, 2, 4, 1);
    CHECK_FALSE(q);
    q = step_quorum(q, 4, 4, 1);
    CHECK_FALSE(q);
    q = step_quorum(q, 5, 4, 1);
    CHECK(q);
    // No hysteresis: a plain threshold.
    CHECK(step_quorum(false, 1, 1, 0));
    CHECK_FALSE(step_quorum(true, 0, 1, 0));
}
