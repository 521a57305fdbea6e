// SPDX-License-Identifier: GPL-2.0-or-later
#include "script_health.hpp"

#include <algorithm>

namespace ipvsctl::vrrp {

ScriptHealth next(ScriptHealth health, bool success, int rise, int fall) {
    if (success == health.up) return {health.up, 0};  // agrees: the streak is broken
    const int needed = std::max(1, success ? rise : fall);
    if (health.streak + 1 >= needed) return {success, 0};
    return {health.up, health.streak + 1};
}

}  // namespace ipvsctl::vrrp
