// SPDX-License-Identifier: GPL-2.0-or-later
#include "healthcheck/notify.hpp"

namespace ipvsctl::healthcheck {

std::string_view to_string(NotifyEvent event) {
    switch (event) {
        case NotifyEvent::server_up:
            return "notify_up";
        case NotifyEvent::server_down:
            return "notify_down";
        case NotifyEvent::quorum_up:
            return "quorum_up";
        case NotifyEvent::quorum_down:
            break;
    }
    return "quorum_down";
}

std::optional<NotifyEvent> server_notification(ServerVerdict before, ServerVerdict after) {
    if (before == after) return std::nullopt;
    if (after == ServerVerdict::up) return NotifyEvent::server_up;
    if (after == ServerVerdict::down && before == ServerVerdict::up)
        return NotifyEvent::server_down;
    return std::nullopt;
}

std::optional<NotifyEvent> quorum_notification(bool had_quorum, bool has_quorum) {
    if (had_quorum == has_quorum) return std::nullopt;
    return has_quorum ? NotifyEvent::quorum_up : NotifyEvent::quorum_down;
}

}  // namespace ipvsctl::healthcheck
