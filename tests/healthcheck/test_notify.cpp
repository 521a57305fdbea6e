// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "healthcheck/notify.hpp"
#include "healthcheck/transition.hpp"

using namespace ipvsctl::healthcheck;

TEST_CASE("which real-server transitions call notify scripts", "[notify]") {
    using V = ServerVerdict;
    CHECK(server_notification(V::down, V::up) == NotifyEvent::server_up);
    CHECK(server_notification(V::up, V::down) == NotifyEvent::server_down);
    // alpha: the first success is an up; a first failure was never up.
    CHECK(server_notification(V::unknown, V::up) == NotifyEvent::server_up);
    CHECK_FALSE(server_notification(V::unknown, V::down));
    CHECK_FALSE(server_notification(V::up, V::up));
    CHECK_FALSE(server_notification(V::down, V::down));
    CHECK_FALSE(server_notification(V::up, V::unknown));
}

TEST_CASE("quorum scripts follow the hysteresis band", "[notify][quorum]") {
    // quorum 10, hysteresis 2: lost below 8, regained at 12.
    bool has = true;
    std::vector<std::string> calls;
    for (const int alive : {10, 9, 8, 7, 9, 11, 12, 9, 8, 7, 13}) {
        const bool next = step_quorum(has, alive, 10, 2);
        if (const auto event = quorum_notification(has, next))
            calls.push_back(std::string(to_string(*event)) + "@" + std::to_string(alive));
        has = next;
    }
    CHECK(calls == std::vector<std::string>{"quorum_down@7", "quorum_up@12", "quorum_down@7",
                                            "quorum_up@13"});
    CHECK_FALSE(quorum_notification(true, true));
    CHECK_FALSE(quorum_notification(false, false));
}
