// SPDX-License-Identifier: GPL-2.0-or-later
#include "healthcheck/transition.hpp"

#include <algorithm>

namespace ipvsctl::healthcheck {

std::string_view to_string(Health health) {
    return health == Health::up ? "UP" : "DOWN";
}

Thresholds Thresholds::from_keepalived(int rise, int retry) {
    return Thresholds{std::max(1, rise), std::max(1, retry + 1)};
}

CheckerHealth initial_checker_health(bool alpha) {
    CheckerHealth state;
    state.health = alpha ? Health::down : Health::up;
    state.provisional = alpha;
    return state;
}

CheckerStep step(const CheckerHealth& current, bool probe_succeeded, const Thresholds& thresholds) {
    CheckerHealth next = current;
    if (probe_succeeded) {
        next.consecutive_failures = 0;
        next.consecutive_successes = std::min(current.consecutive_successes + 1, 1 << 20);
        // A provisional down (alpha) has had no verdict yet: one success suffices.
        if (current.health == Health::down &&
            (current.provisional || next.consecutive_successes >= thresholds.rise)) {
            next.health = Health::up;
        }
    } else {
        next.consecutive_successes = 0;
        next.consecutive_failures = std::min(current.consecutive_failures + 1, 1 << 20);
        if (current.health == Health::up && next.consecutive_failures >= thresholds.fall) {
            next.health = Health::down;
        }
    }
    // A provisional down that fails is now a real verdict.
    next.provisional = false;
    const bool changed =
        next.health != current.health || (current.provisional && next.health == Health::down);
    return CheckerStep{next, changed};
}

bool in_retry(const CheckerHealth& state, const Thresholds& thresholds) {
    return state.health == Health::up && state.consecutive_failures > 0 &&
           state.consecutive_failures < thresholds.fall;
}

bool step_quorum(bool has_quorum, std::int64_t alive_weight, int quorum, int hysteresis) {
    if (has_quorum) return alive_weight >= std::int64_t{quorum} - hysteresis;
    return alive_weight >= std::int64_t{quorum} + hysteresis;
}

}  // namespace ipvsctl::healthcheck
