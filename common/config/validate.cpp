// SPDX-License-Identifier: GPL-2.0-or-later
// Checks that need the whole configuration: names, VRIDs, addresses and
// virtual servers must be unique; references must resolve.
#include <map>
#include <tuple>

#include "config/builder.hpp"

namespace ipvsctl::config {
namespace {

template <typename Object>
void check_unique_names(const std::vector<Object>& objects, std::string_view kind,
                        Diagnostics& diagnostics) {
    std::map<std::string, const Object*, std::less<>> seen;
    for (const auto& object : objects) {
        const auto [it, inserted] = seen.emplace(object.name, &object);
        if (!inserted) {
            diagnostics.error(object.where, std::string(kind) + " " + object.name +
                                                " is defined twice (first at " +
                                                it->second->where.to_string() + ")");
        }
    }
}

void check_instances(const Config& config, Diagnostics& diagnostics) {
    // A VRID may appear once per interface and family among multicast instances;
    // unicast instances are told apart by their peers, as in keepalived.
    std::map<std::tuple<std::string, AddressFamily, int>, const VrrpInstance*> vrids;
    std::map<IpAddress, const VrrpInstance*> addresses;
    for (const auto& instance : config.vrrp_instances) {
        if (instance.unicast_peers.empty() && instance.interface &&
            instance.virtual_router_id != 0) {
            const auto key =
                std::make_tuple(*instance.interface, instance.family, instance.virtual_router_id);
            const auto [it, inserted] = vrids.emplace(key, &instance);
            if (!inserted) {
                diagnostics.error(
                    instance.where,
                    "virtual_router_id " + std::to_string(instance.virtual_router_id) + " on " +
                        *instance.interface + " (" + std::string(to_string(instance.family)) +
                        ") is already used by vrrp_instance " + it->second->name + " at " +
                        it->second->where.to_string());
            }
        }
        for (const auto* list :
             {&instance.virtual_ipaddresses, &instance.virtual_ipaddresses_excluded}) {
            for (const auto& vip : *list) {
                const auto [it, inserted] = addresses.emplace(vip.prefix.address, &instance);
                if (!inserted && it->second != &instance) {
                    diagnostics.error(
                        vip.where, "virtual address " + vip.prefix.address.to_string() +
                                       " is already managed by vrrp_instance " + it->second->name);
                }
            }
        }
    }
}

void check_sync_groups(const Config& config, Diagnostics& diagnostics) {
    std::map<std::string, const VrrpSyncGroup*, std::less<>> owner;
    for (const auto& group : config.vrrp_sync_groups) {
        for (const auto& member : group.members) {
            const auto [it, inserted] = owner.emplace(member, &group);
            if (!inserted) {
                diagnostics.error(group.where, "vrrp_instance " + member +
                                                   " is in vrrp_sync_group " + it->second->name +
                                                   " and " + group.name +
                                                   "; an instance can be in one group only");
            }
            const auto* instance = config.find_instance(member);
            if (instance == nullptr) continue;
            for (const auto& tracked : instance->track_scripts) {
                if (tracked.weight != 0) {
                    diagnostics.warning(tracked.where,
                                        "track_script " + tracked.name + " of vrrp_instance " +
                                            member +
                                            " has a weight, which is ignored because the "
                                            "instance is in vrrp_sync_group " +
                                            group.name);
                }
            }
        }
    }
}

void check_virtual_servers(const Config& config, Diagnostics& diagnostics) {
    std::map<std::string, const VirtualServer*> keys;
    for (const auto& server : config.virtual_servers) {
        const auto [it, inserted] = keys.emplace(server.key(), &server);
        if (!inserted) {
            diagnostics.error(server.where, "virtual_server " + server.key() +
                                                " is defined twice (first at " +
                                                it->second->where.to_string() + ")");
        }
    }
}

void check_global(const Config& config, Diagnostics& diagnostics) {
    const auto& sync = config.global_defs.lvs_sync_daemon;
    if (sync && sync->vrrp_instance && config.find_instance(*sync->vrrp_instance) == nullptr) {
        diagnostics.error(config.global_defs.where, "lvs_sync_daemon names vrrp_instance " +
                                                        *sync->vrrp_instance +
                                                        ", which is not defined");
    }
}

}  // namespace

void validate_config(const Config& config, Diagnostics& diagnostics) {
    check_unique_names(config.vrrp_scripts, "vrrp_script", diagnostics);
    check_unique_names(config.vrrp_instances, "vrrp_instance", diagnostics);
    check_unique_names(config.vrrp_sync_groups, "vrrp_sync_group", diagnostics);
    check_unique_names(config.virtual_server_groups, "virtual_server_group", diagnostics);
    check_instances(config, diagnostics);
    check_sync_groups(config, diagnostics);
    check_virtual_servers(config, diagnostics);
    check_global(config, diagnostics);
}

}  // namespace ipvsctl::config
