// SPDX-License-Identifier: GPL-2.0-or-later
// Objects are matched by identity and compared through their JSON form, so
// the changed-field names are the keywords an operator wrote.
#include "config/diff.hpp"

#include <map>

#include "config/json.hpp"

namespace ipvsctl::config {
namespace {

using nlohmann::json;

std::vector<std::string> changed_fields(const json& before, const json& after) {
    std::vector<std::string> fields;
    for (const auto& [key, value] : after.items()) {
        if (!before.contains(key) || before.at(key) != value) fields.push_back(key);
    }
    for (const auto& [key, value] : before.items()) {
        if (!after.contains(key)) fields.push_back(key);
    }
    return fields;
}

/// Compares two lists of objects keyed by `key_of`, in the order of `after`
/// (removed ones last, in the order of `before`).
template <typename Object, typename KeyOf, typename ToJson>
std::vector<Change> compare(const std::vector<Object>& before, const std::vector<Object>& after,
                            KeyOf key_of, ToJson to_json_of, const std::string& prefix = {}) {
    std::map<std::string, const Object*> old_by_key;
    for (const auto& object : before) old_by_key.emplace(key_of(object), &object);
    std::map<std::string, bool> present;
    std::vector<Change> changes;
    for (const auto& object : after) {
        const auto key = key_of(object);
        present[key] = true;
        const auto found = old_by_key.find(key);
        if (found == old_by_key.end()) {
            changes.push_back({ChangeKind::added, prefix + key, {}});
            continue;
        }
        auto fields = changed_fields(to_json_of(*found->second), to_json_of(object));
        if (!fields.empty())
            changes.push_back({ChangeKind::changed, prefix + key, std::move(fields)});
    }
    for (const auto& object : before) {
        const auto key = key_of(object);
        if (!present.count(key)) changes.push_back({ChangeKind::removed, prefix + key, {}});
    }
    return changes;
}

template <typename Object>
std::string name_of(const Object& object) {
    return object.name;
}

json changes_json(const std::vector<Change>& changes) {
    json out = json::array();
    for (const auto& change : changes) {
        json item = {{"change", to_string(change.kind)}, {"name", change.name}};
        if (change.kind == ChangeKind::changed) item["fields"] = change.fields;
        out.push_back(item);
    }
    return out;
}

}  // namespace

std::string_view to_string(ChangeKind kind) {
    switch (kind) {
        case ChangeKind::added:
            return "added";
        case ChangeKind::removed:
            return "removed";
        case ChangeKind::changed:
            return "changed";
    }
    return "changed";
}

bool ConfigDiff::empty() const {
    return !touches_vrrp() && !touches_virtual_servers();
}

bool ConfigDiff::touches_vrrp() const {
    return !global_defs_fields.empty() || !vrrp_scripts.empty() || !vrrp_instances.empty() ||
           !vrrp_sync_groups.empty();
}

bool ConfigDiff::touches_virtual_servers() const {
    return !global_defs_fields.empty() || !virtual_server_groups.empty() ||
           !virtual_servers.empty() || !real_servers.empty();
}

ConfigDiff diff(const Config& before, const Config& after) {
    ConfigDiff result;
    result.global_defs_fields =
        changed_fields(to_json(before.global_defs), to_json(after.global_defs));
    result.vrrp_scripts = compare(before.vrrp_scripts, after.vrrp_scripts, name_of<VrrpScript>,
                                  [](const VrrpScript& s) { return to_json(s); });
    result.vrrp_instances =
        compare(before.vrrp_instances, after.vrrp_instances, name_of<VrrpInstance>,
                [](const VrrpInstance& i) { return to_json(i); });
    result.vrrp_sync_groups =
        compare(before.vrrp_sync_groups, after.vrrp_sync_groups, name_of<VrrpSyncGroup>,
                [](const VrrpSyncGroup& g) { return to_json(g); });
    result.virtual_server_groups = compare(before.virtual_server_groups,
                                           after.virtual_server_groups, name_of<VirtualServerGroup>,
                                           [](const VirtualServerGroup& g) { return to_json(g); });
    const auto key_of = [](const VirtualServer& v) { return v.key(); };
    result.virtual_servers = compare(before.virtual_servers, after.virtual_servers, key_of,
                                     [](const VirtualServer& v) { return to_json(v, false); });
    for (const auto& server : after.virtual_servers) {
        for (const auto& old_server : before.virtual_servers) {
            if (old_server.key() != server.key()) continue;
            auto changes = compare(
                old_server.real_servers, server.real_servers,
                [](const RealServer& r) { return r.key(); },
                [](const RealServer& r) { return to_json(r); }, server.key() + " -> ");
            result.real_servers.insert(result.real_servers.end(), changes.begin(), changes.end());
            break;
        }
    }
    return result;
}

json to_json(const ConfigDiff& diff) {
    return {{"global_defs", diff.global_defs_fields},
            {"vrrp_scripts", changes_json(diff.vrrp_scripts)},
            {"vrrp_instances", changes_json(diff.vrrp_instances)},
            {"vrrp_sync_groups", changes_json(diff.vrrp_sync_groups)},
            {"virtual_server_groups", changes_json(diff.virtual_server_groups)},
            {"virtual_servers", changes_json(diff.virtual_servers)},
            {"real_servers", changes_json(diff.real_servers)}};
}

}  // namespace ipvsctl::config
