// SPDX-License-Identifier: GPL-2.0-or-later
// Instance status as JSON, for the control socket ({"command": "status"}).
#pragma once

#include <nlohmann/json.hpp>

#include "instance.hpp"

namespace ipvsctl::vrrp {

/// One instance: name, vrid, family, version, state, priority, master
/// address, intervals, counters (rejections by reason) and the last
/// transition with its reason and age relative to `now`.
nlohmann::json status_json(const Instance& instance, TimePoint now);

}  // namespace ipvsctl::vrrp
