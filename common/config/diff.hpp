// SPDX-License-Identifier: GPL-2.0-or-later
// What a reload changes: old and new configuration compared object by object.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/model.hpp"

namespace ipvsctl::config {

enum class ChangeKind { added, removed, changed };

std::string_view to_string(ChangeKind kind);

/// One object that differs between two configurations.
struct Change {
    ChangeKind kind = ChangeKind::changed;
    /// Object identity: a name (vrrp_instance VI_1), a virtual server key
    /// ("10.0.0.1:80/tcp") or, for a real server, "VS_KEY -> RS_KEY".
    std::string name;
    /// For `changed`: the keywords whose values differ (e.g. "priority").
    std::vector<std::string> fields;

    friend bool operator==(const Change&, const Change&) = default;
};

/// Per-section changes. Real servers are listed only for virtual servers
/// present in both configurations; an added or removed virtual server
/// brings or takes its real servers with it.
struct ConfigDiff {
    std::vector<std::string> global_defs_fields;  ///< changed keywords of global_defs
    std::vector<Change> vrrp_scripts;
    std::vector<Change> vrrp_instances;
    std::vector<Change> vrrp_sync_groups;
    std::vector<Change> virtual_server_groups;
    std::vector<Change> virtual_servers;
    std::vector<Change> real_servers;

    [[nodiscard]] bool empty() const;
    /// Does anything vrrpd reads differ (global_defs, scripts, instances, sync groups)?
    [[nodiscard]] bool touches_vrrp() const;
    /// Does anything healthcheckd reads differ (global_defs, virtual servers and groups)?
    [[nodiscard]] bool touches_virtual_servers() const;
};

ConfigDiff diff(const Config& before, const Config& after);

/// {"global_defs": [...], "vrrp_instances": [{"change": "changed", "name": ..., "fields": [...]}],
/// ...}
nlohmann::json to_json(const ConfigDiff& diff);

}  // namespace ipvsctl::config
