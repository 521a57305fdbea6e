// SPDX-License-Identifier: GPL-2.0-or-later
#include "config_adapter.hpp"

#include <algorithm>

namespace ipvsctl::vrrp {
namespace {

Address convert(const config::IpAddress& a) {
    Address r;
    r.family = a.is_v6() ? Family::inet6 : Family::inet;
    r.bytes = a.bytes;
    return r;
}

Centiseconds to_centiseconds(config::Duration d) {
    return std::chrono::duration_cast<Centiseconds>(d);
}

}  // namespace

std::variant<InstanceSettings, std::string> adapt(const config::VrrpInstance& in) {
    const std::string where = in.where.to_string() + ": vrrp_instance " + in.name + ": ";
    InstanceSettings s;
    s.name = in.name;
    if (!in.interface) return where + "no interface";
    s.interface = *in.interface;
    if (in.virtual_router_id < 1 || in.virtual_router_id > 255) {
        return where + "virtual_router_id " + std::to_string(in.virtual_router_id) +
               " is outside 1..255";
    }
    s.vrid = static_cast<std::uint8_t>(in.virtual_router_id);
    s.family = in.family == config::AddressFamily::inet6 ? Family::inet6 : Family::inet;
    if (in.version != 2 && in.version != 3) return where + "version must be 2 or 3";
    if (in.version == 2 && s.family == Family::inet6) {
        return where + "VRRPv2 is IPv4 only (RFC 3768); use version 3 for IPv6";
    }
    if (in.priority < 1 || in.priority > 255) {
        return where + "priority " + std::to_string(in.priority) + " is outside 1..255";
    }
    s.protocol.version = in.version;
    s.protocol.priority = static_cast<std::uint8_t>(in.priority);
    s.protocol.advert_interval = Centiseconds(in.advert_int.count());
    if (in.version == 2 && s.protocol.advert_interval.count() % 100 != 0) {
        return where + "VRRPv2 advert_int must be whole seconds (RFC 3768 section 5.3.7)";
    }
    s.protocol.preempt = !in.nopreempt;
    s.protocol.preempt_delay = to_centiseconds(in.preempt_delay);
    s.protocol.accept_mode = in.accept;
    if (in.auth_pass && in.version == 2) {
        s.auth_type = AuthType::simple_text;
        s.auth_pass = *in.auth_pass;
    }
    for (const auto& v : in.virtual_ipaddresses) {
        VirtualAddress va;
        va.address = convert(v.prefix.address);
        va.prefix_length = v.prefix.prefix_length;
        va.device = v.device.value_or("");
        s.addresses.push_back(va);
    }
    for (const auto& p : in.unicast_peers) s.unicast_peers.push_back(convert(p.address));
    if (in.unicast_src_ip && !in.unicast_peers.empty()) {
        s.source = convert(*in.unicast_src_ip);
    } else if (in.mcast_src_ip) {
        s.source = convert(*in.mcast_src_ip);
    }
    for (const auto& t : in.track_interfaces) {
        s.track_interfaces.push_back(TrackedObject{t.name, t.weight, t.reverse});
    }
    s.track_primary = !in.dont_track_primary;
    for (const auto& t : in.track_scripts) {
        s.track_scripts.push_back(TrackedObject{t.name, t.weight, t.reverse});
    }
    auto notify = [&](const std::optional<config::ScriptCommand>& c) -> std::optional<std::string> {
        if (!c) return std::nullopt;
        if (c->user && !s.notify.user) s.notify.user = c->user;
        return c->command;
    };
    s.notify.master = notify(in.notify.master);
    s.notify.backup = notify(in.notify.backup);
    s.notify.fault = notify(in.notify.fault);
    s.notify.stop = notify(in.notify.stop);
    s.notify.any = notify(in.notify.any);
    s.garp_repeat = in.garp_master_repeat > 0 ? in.garp_master_repeat : 5;
    s.garp_master_delay = to_centiseconds(in.garp_master_delay);
    s.garp_master_refresh = to_centiseconds(in.garp_master_refresh);
    s.garp_master_refresh_repeat = std::max(1, in.garp_master_refresh_repeat);
    return s;
}

AdaptResult adapt(const config::Config& config) {
    AdaptResult r;
    for (const auto& in : config.vrrp_instances) {
        auto one = adapt(in);
        if (auto* ok = std::get_if<InstanceSettings>(&one);
            ok && !ok->notify.user && config.global_defs.script_user) {
            ok->notify.user = config.global_defs.script_user->command;
        }
        if (auto* err = std::get_if<std::string>(&one)) {
            r.errors.push_back(std::move(*err));
        } else {
            r.instances.push_back(std::move(std::get<InstanceSettings>(one)));
        }
    }
    for (const auto& g : config.vrrp_sync_groups) {
        SyncGroupSettings gs;
        gs.name = g.name;
        gs.members = g.members;
        auto notify = [&](const std::optional<config::ScriptCommand>& c) {
            if (c && c->user && !gs.notify.user) gs.notify.user = c->user;
            return c ? std::optional<std::string>(c->command) : std::nullopt;
        };
        gs.notify.master = notify(g.notify.master);
        gs.notify.backup = notify(g.notify.backup);
        gs.notify.fault = notify(g.notify.fault);
        gs.notify.stop = notify(g.notify.stop);
        gs.notify.any = notify(g.notify.any);
        if (!gs.notify.user && config.global_defs.script_user) {
            gs.notify.user = config.global_defs.script_user->command;
        }
        for (const auto& name : g.members) {
            auto it = std::find_if(r.instances.begin(), r.instances.end(),
                                   [&](const InstanceSettings& s) { return s.name == name; });
            if (it == r.instances.end()) {
                if (config.find_instance(name) == nullptr) {
                    r.errors.push_back(g.where.to_string() + ": vrrp_sync_group " + g.name +
                                       ": vrrp_instance " + name + " is not defined");
                }
                continue;
            }
            for (auto& t : it->track_interfaces) t.weight = 0;
            for (auto& t : it->track_scripts) t.weight = 0;
            for (const auto& t : g.track_interfaces) {
                it->track_interfaces.push_back(TrackedObject{t.name, t.weight, t.reverse});
            }
            for (const auto& t : g.track_scripts) {
                it->track_scripts.push_back(TrackedObject{t.name, t.weight, t.reverse});
            }
        }
        r.groups.push_back(std::move(gs));
    }
    if (const auto& sync = config.global_defs.lvs_sync_daemon) {
        LvsSyncSettings ls;
        ls.interface = sync->interface;
        ls.instance = sync->vrrp_instance;
        if (sync->sync_id) {
            ls.sync_id = static_cast<std::uint8_t>(*sync->sync_id);
        } else if (const auto* in =
                       sync->vrrp_instance ? config.find_instance(*sync->vrrp_instance) : nullptr) {
            // keepalived: the sync id defaults to the instance's VRID.
            ls.sync_id = static_cast<std::uint8_t>(in->virtual_router_id);
        }
        ls.max_length = static_cast<std::uint16_t>(sync->max_length.value_or(0));
        ls.port = static_cast<std::uint16_t>(sync->port);
        ls.ttl = static_cast<std::uint8_t>(sync->ttl.value_or(0));
        ls.group = convert(sync->group);
        r.lvs_sync = ls;
    }
    for (const auto& script : config.vrrp_scripts) {
        const bool tracked =
            std::any_of(r.instances.begin(), r.instances.end(), [&](const InstanceSettings& s) {
                return std::any_of(s.track_scripts.begin(), s.track_scripts.end(),
                                   [&](const TrackedObject& t) { return t.name == script.name; });
            });
        if (!tracked) continue;
        ScriptSettings ss;
        ss.name = script.name;
        ss.command = script.script;
        if (script.interval.count() > 0) ss.interval = script.interval;
        ss.timeout = script.timeout.count() > 0 ? script.timeout : ss.interval;
        ss.rise = script.rise;
        ss.fall = script.fall;
        ss.init_fail = script.init_fail;
        if (script.user) {
            ss.user = script.user->command;
        } else if (config.global_defs.script_user) {
            ss.user = config.global_defs.script_user->command;
        }
        r.scripts.push_back(std::move(ss));
    }
    return r;
}

}  // namespace ipvsctl::vrrp
