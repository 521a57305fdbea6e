// SPDX-License-Identifier: GPL-2.0-or-later
// Converts the typed configuration (common/config) into InstanceSettings, so
// the VRRP core never depends on the parser.
#pragma once

#include <string>
#include <vector>

#include "config/model.hpp"
#include "instance.hpp"
#include "lvs_sync.hpp"
#include "scripts.hpp"
#include "sync_group.hpp"

namespace ipvsctl::vrrp {

struct AdaptResult {
    std::vector<InstanceSettings> instances;
    /// The vrrp_scripts some instance tracks.
    std::vector<ScriptSettings> scripts;
    /// vrrp_sync_groups with their notify scripts. Members' own tracking
    /// weights are set to 0 and the group's tracked objects are added to
    /// every member (keepalived's rule: a group needs equal priorities).
    std::vector<SyncGroupSettings> groups;
    /// global_defs lvs_sync_daemon, when configured.
    std::optional<LvsSyncSettings> lvs_sync;
    /// "file:line:col: vrrp_instance VI_1: ..." for instances vrrpd cannot run.
    std::vector<std::string> errors;
};

/// Every vrrp_instance of `config`. The primary address stays unset unless
/// unicast_src_ip / mcast_src_ip gives it; the daemon looks it up.
AdaptResult adapt(const config::Config& config);

/// One instance (exposed for tests).
std::variant<InstanceSettings, std::string> adapt(const config::VrrpInstance& instance);

}  // namespace ipvsctl::vrrp
