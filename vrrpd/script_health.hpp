// SPDX-License-Identifier: GPL-2.0-or-later
// vrrp_script results to an up/down state with keepalived's rise and fall:
// `fall` consecutive failures take an up script down, `rise` consecutive
// successes bring a down script up. Pure; the runner lives in scripts.hpp.
#pragma once

namespace ipvsctl::vrrp {

struct ScriptHealth {
    bool up = true;
    int streak = 0;  ///< consecutive results against the current state

    /// Initial state: down with init_fail, else up.
    static ScriptHealth initial(bool init_fail) { return {!init_fail, 0}; }
    friend bool operator==(const ScriptHealth&, const ScriptHealth&) = default;
};

/// The state after one run (`success`: exit status 0 within the timeout).
ScriptHealth next(ScriptHealth health, bool success, int rise, int fall);

}  // namespace ipvsctl::vrrp
