// SPDX-License-Identifier: GPL-2.0-or-later
#include "lvs_sync.hpp"

namespace ipvsctl::vrrp {
namespace {
constexpr int kLogErr = 3;
constexpr int kLogInfo = 6;
constexpr int kLogDebug = 7;
}  // namespace

std::string_view to_string(SyncRole role) {
    return role == SyncRole::master ? "master" : "backup";
}

SyncRoles wanted_roles(const LvsSyncSettings& settings, std::optional<State> bound_state) {
    if (!settings.instance) return {true, true};
    const bool master = bound_state && *bound_state == State::master;
    return {master, !master};
}

LvsSyncBinding::LvsSyncBinding(LvsSyncSettings settings, SyncDaemonControl& control, Logger& log)
    : settings_(std::move(settings)), control_(control), log_(log) {}

void LvsSyncBinding::begin(std::optional<State> bound_state) {
    for (SyncRole role : {SyncRole::master, SyncRole::backup}) {
        if (auto err = control_.stop(role)) {
            log_.log(kLogDebug, "[lvs_sync_daemon] no " + std::string(to_string(role)) +
                                    " sync daemon to take over: " + err->to_string());
        }
    }
    running_ = {};
    apply(wanted_roles(settings_, bound_state));
}

void LvsSyncBinding::follow(State bound_state) {
    apply(wanted_roles(settings_, bound_state));
}

void LvsSyncBinding::end() {
    apply({});
}

void LvsSyncBinding::apply(SyncRoles wanted) {
    // Stop first: the interface and port are shared by both roles' settings.
    if (!wanted.master && running_.master) set(SyncRole::master, false);
    if (!wanted.backup && running_.backup) set(SyncRole::backup, false);
    if (wanted.master && !running_.master) set(SyncRole::master, true);
    if (wanted.backup && !running_.backup) set(SyncRole::backup, true);
}

void LvsSyncBinding::set(SyncRole role, bool on) {
    const std::string what = std::string(on ? "starting " : "stopping ") +
                             std::string(to_string(role)) + " sync daemon on " +
                             settings_.interface + " (syncid " + std::to_string(settings_.sync_id) +
                             ")";
    auto err = on ? control_.start(role, settings_) : control_.stop(role);
    if (err) {
        ++errors_;
        log_.log(kLogErr, "[lvs_sync_daemon] " + what + " failed: " + err->to_string());
        // A stop that failed leaves nothing we know of running.
        if (on) return;
    } else {
        log_.log(kLogInfo, "[lvs_sync_daemon] " + what);
    }
    (role == SyncRole::master ? running_.master : running_.backup) = on;
}

}  // namespace ipvsctl::vrrp
