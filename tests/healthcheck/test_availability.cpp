// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "healthcheck/availability.hpp"

using namespace ipvsctl::healthcheck;
using namespace std::chrono_literals;

TEST_CASE("nines of a ratio", "[availability]") {
    CHECK(*nines(0.9995) == Approx(3.30).margin(0.005));
    CHECK(*nines(0.99) == Approx(2.0));
    CHECK(*nines(0.999) == Approx(3.0));
    CHECK(*nines(0.0) == 0.0);
    CHECK_FALSE(nines(1.0));
}

TEST_CASE("availability over time with a fake clock", "[availability]") {
    FakeClock clock;
    const TimePoint t0 = clock.now();
    Availability a(t0, true);
    CHECK(a.report(clock.now()).ratio == 1.0);
    CHECK_FALSE(a.report(clock.now()).nines);

    clock.advance(9995s);
    a.update(clock.now(), false);
    a.update(clock.now(), false);  // repeats change nothing
    clock.advance(5s);
    a.update(clock.now(), true);
    auto r = a.report(clock.now());
    CHECK(r.observed == 10000s);
    CHECK(r.up == 9995s);
    CHECK(r.ratio == Approx(0.9995));
    CHECK(*r.nines == Approx(3.30).margin(0.005));
    REQUIRE(r.downtime.size() == 1);
    CHECK(r.downtime[0].start == t0 + 9995s);
    CHECK(r.downtime[0].end == t0 + 10000s);

    // Down now: the open interval counts up to the report's time.
    clock.advance(10000s);
    a.update(clock.now(), false);
    clock.advance(1000s);
    r = a.report(clock.now());
    CHECK(r.observed == 21000s);
    CHECK(r.up == 19995s);
    REQUIRE(r.downtime.size() == 2);
    CHECK_FALSE(r.downtime[1].end);
    CHECK(r.downtime_count == 2);
}

TEST_CASE("availability that starts down, and a bounded interval list", "[availability]") {
    FakeClock clock;
    Availability a(clock.now(), false, 3);
    clock.advance(10s);
    CHECK(a.report(clock.now()).ratio == 0.0);
    for (int i = 0; i < 5; ++i) {
        a.update(clock.now(), true);
        clock.advance(10s);
        a.update(clock.now(), false);
        clock.advance(10s);
    }
    const auto r = a.report(clock.now());
    CHECK(r.downtime.size() == 3);
    CHECK(r.downtime_count == 6);
    CHECK(r.ratio == Approx(50.0 / 110.0));
}
