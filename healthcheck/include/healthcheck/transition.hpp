// SPDX-License-Identifier: GPL-2.0-or-later
// Decide, then act: the health of one checker of one real server as a pure
// transition over probe outcomes (rise/fall), and the quorum of a virtual
// server with hysteresis.
#pragma once

#include <cstdint>
#include <string_view>

namespace ipvsctl::healthcheck {

enum class Health { up, down };
std::string_view to_string(Health health);

/// How many consecutive outcomes flip a checker. keepalived's `retry N`
/// means N further attempts after the first failure, so fall = N + 1.
struct Thresholds {
    int rise = 1;
    int fall = 1;
    static Thresholds from_keepalived(int rise, int retry);
};

struct CheckerHealth {
    Health health = Health::up;
    /// True until the first verdict: alpha checkers start down this way,
    /// which lets a server already in the kernel stay there (adoption).
    bool provisional = false;
    int consecutive_successes = 0;
    int consecutive_failures = 0;
    friend bool operator==(const CheckerHealth&, const CheckerHealth&) = default;
};

/// keepalived starts a checker up unless `alpha` is set.
CheckerHealth initial_checker_health(bool alpha);

struct CheckerStep {
    CheckerHealth next;
    bool changed = false;  ///< `health` flipped
};

/// One probe outcome applied to a checker's state.
CheckerStep step(const CheckerHealth& current, bool probe_succeeded, const Thresholds& thresholds);

/// Whether a failing checker should be probed again after
/// delay_before_retry rather than a full delay_loop.
bool in_retry(const CheckerHealth& state, const Thresholds& thresholds);

/// A virtual server has quorum while the weight of its live real servers is
/// at least `quorum`; hysteresis widens the band: gained at quorum +
/// hysteresis, lost below quorum - hysteresis.
bool step_quorum(bool has_quorum, std::int64_t alive_weight, int quorum, int hysteresis);

}  // namespace ipvsctl::healthcheck
