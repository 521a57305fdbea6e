// SPDX-License-Identifier: GPL-2.0-or-later
// Effective priority from tracked objects (keepalived's weight rules).
#include <catch2/catch.hpp>

#include <vector>

#include "vrrpd/tracking.hpp"

using namespace ipvsctl::vrrp;

TEST_CASE("tracked object weights", "[vrrp][tracking]") {
    const TrackedObject plus{"eth1", 20, false};
    const TrackedObject minus{"eth2", -30, false};
    const TrackedObject fault{"eth3", 0, false};
    const TrackedObject reversed{"eth4", -30, true};
    using S = std::vector<TrackedState>;
    CHECK(effective_priority(100, S{}) == 100);
    CHECK(effective_priority(100, S{{&plus, true}}) == 120);
    CHECK(effective_priority(100, S{{&plus, false}}) == 100);
    CHECK(effective_priority(100, S{{&minus, true}}) == 100);
    CHECK(effective_priority(100, S{{&minus, false}}) == 70);
    CHECK(effective_priority(100, S{{&plus, true}, {&minus, false}}) == 90);
    CHECK(effective_priority(100, S{{&fault, true}}) == 100);
    CHECK_FALSE(effective_priority(100, S{{&fault, false}}));
    CHECK_FALSE(effective_priority(100, S{{&plus, true}, {&fault, false}}));
    // reverse: "up" counts as failed
    CHECK(effective_priority(100, S{{&reversed, true}}) == 70);
    CHECK(effective_priority(100, S{{&reversed, false}}) == 100);
    // clamped to 1..254; the owner is never adjusted
    CHECK(effective_priority(20, S{{&minus, false}}) == 1);
    CHECK(effective_priority(250, S{{&plus, true}}) == 254);
    CHECK(effective_priority(255, S{{&minus, false}}) == 255);
    CHECK_FALSE(effective_priority(255, S{{&fault, false}}));
}

#include "vrrpd/script_health.hpp"

TEST_CASE("vrrp_script rise and fall", "[vrrp][tracking]") {
    CHECK(ScriptHealth::initial(false).up);
    CHECK_FALSE(ScriptHealth::initial(true).up);
    // fall 3: two failures keep it up, the third takes it down.
    auto h = ScriptHealth::initial(false);
    h = next(h, false, 2, 3);
    CHECK(h == ScriptHealth{true, 1});
    h = next(h, false, 2, 3);
    CHECK(h.up);
    h = next(h, true, 2, 3);  // a success breaks the streak
    CHECK(h == ScriptHealth{true, 0});
    for (int i = 0; i < 3; ++i) h = next(h, false, 2, 3);
    CHECK_FALSE(h.up);
    // rise 2: one success is not enough.
    h = next(h, true, 2, 3);
    CHECK_FALSE(h.up);
    h = next(h, true, 2, 3);
    CHECK(h == ScriptHealth{true, 0});
    // rise/fall 0 behave like 1.
    CHECK_FALSE(next(ScriptHealth{true, 0}, false, 0, 0).up);
}
