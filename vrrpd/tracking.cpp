// SPDX-License-Identifier: GPL-2.0-or-later
#include "tracking.hpp"

#include <algorithm>

namespace ipvsctl::vrrp {

std::optional<std::uint8_t> effective_priority(std::uint8_t base,
                                               std::span<const TrackedState> tracked) {
    int priority = base;
    for (const auto& t : tracked) {
        const bool ok = t.up != t.object->reverse;
        const int w = t.object->weight;
        if (w == 0 && !ok) return std::nullopt;
        if ((w > 0 && ok) || (w < 0 && !ok)) priority += w;
    }
    if (base == 255) return base;
    return static_cast<std::uint8_t>(std::clamp(priority, 1, 254));
}

}  // namespace ipvsctl::vrrp
