// SPDX-License-Identifier: GPL-2.0-or-later
// Which notify script a change calls: notify_up/notify_down of a real
// server, quorum_up/quorum_down of a virtual server. Pure; the script
// runner acts.
#pragma once

#include <optional>
#include <string_view>

#include "healthcheck/reconcile.hpp"

namespace ipvsctl::healthcheck {

enum class NotifyEvent { server_up, server_down, quorum_up, quorum_down };
std::string_view to_string(NotifyEvent event);

/// A real server's verdict changed. Up after down or after no verdict yet
/// (alpha) calls notify_up; down after up calls notify_down. A first
/// verdict of down calls nothing: the server never was up (keepalived's
/// alpha start).
std::optional<NotifyEvent> server_notification(ServerVerdict before, ServerVerdict after);

/// A virtual server's quorum changed (see step_quorum for the hysteresis).
std::optional<NotifyEvent> quorum_notification(bool had_quorum, bool has_quorum);

}  // namespace ipvsctl::healthcheck
