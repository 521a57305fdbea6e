// SPDX-License-Identifier: GPL-2.0-or-later
// Tracked objects (interfaces now; scripts later) and the effective priority
// they give an instance, as keepalived defines them: weight > 0 is added
// while the object is up, weight < 0 is added (subtracted) while it is down,
// weight 0 puts the instance in FAULT while it is down. `reverse` swaps up
// and down. The address owner (255) is never adjusted.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace ipvsctl::vrrp {

struct TrackedObject {
    std::string name;
    int weight = 0;
    bool reverse = false;
    friend bool operator==(const TrackedObject&, const TrackedObject&) = default;
};

struct TrackedState {
    const TrackedObject* object = nullptr;
    bool up = true;
};

/// The priority to advertise, clamped to 1..254; nullopt means FAULT.
std::optional<std::uint8_t> effective_priority(std::uint8_t base,
                                               std::span<const TrackedState> tracked);

}  // namespace ipvsctl::vrrp
