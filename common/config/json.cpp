// SPDX-License-Identifier: GPL-2.0-or-later
#include "config/json.hpp"

namespace ipvsctl::config {
namespace {

using nlohmann::json;

json seconds(Duration duration) {
    const auto micros = duration.count();
    if (micros % 1000000 == 0) return micros / 1000000;
    return static_cast<double>(micros) / 1e6;
}

json seconds(Centiseconds duration) {
    if (duration.count() % 100 == 0) return duration.count() / 100;
    return static_cast<double>(duration.count()) / 100.0;
}

template <typename T, typename Fn>
json optional(const std::optional<T>& value, Fn convert) {
    return value ? convert(*value) : json(nullptr);
}

template <typename T, typename Fn>
json optional(const Boxed<T>& value, Fn convert) {
    return value ? convert(*value) : json(nullptr);
}

template <typename T>
json optional(const std::optional<T>& value) {
    return value ? json(*value) : json(nullptr);
}

json address(const IpAddress& value) {
    return value.to_string();
}

json script(const ScriptCommand& command) {
    return {{"command", command.command},
            {"user", optional(command.user)},
            {"group", optional(command.group)}};
}

json user(const ScriptCommand& command) {
    return {{"user", command.command}, {"group", optional(command.group)}};
}

json notify(const Notify& value) {
    return {{"notify_master", optional(value.master, script)},
            {"notify_backup", optional(value.backup, script)},
            {"notify_fault", optional(value.fault, script)},
            {"notify_stop", optional(value.stop, script)},
            {"notify", optional(value.any, script)}};
}

json tracked_interfaces(const std::vector<TrackedInterface>& list) {
    json out = json::array();
    for (const auto& item : list) {
        out.push_back({{"name", item.name}, {"weight", item.weight}, {"reverse", item.reverse}});
    }
    return out;
}

json tracked_scripts(const std::vector<TrackedScript>& list) {
    json out = json::array();
    for (const auto& item : list) {
        out.push_back({{"name", item.name}, {"weight", item.weight}, {"reverse", item.reverse}});
    }
    return out;
}

json virtual_addresses(const std::vector<VirtualAddress>& list) {
    json out = json::array();
    for (const auto& item : list) {
        out.push_back({{"address", item.prefix.to_string()},
                       {"brd", optional(item.broadcast, address)},
                       {"dev", optional(item.device)},
                       {"label", optional(item.label)},
                       {"scope", optional(item.scope)}});
    }
    return out;
}

json forwarding(const Forwarding& value) {
    json out = {{"method", to_string(value.method)}};
    if (value.method == ForwardingMethod::tun) {
        out["tunnel_type"] = to_string(value.tunnel_type);
        out["tunnel_port"] = optional(value.tunnel_port);
        out["tunnel_checksum"] = to_string(value.tunnel_checksum);
    }
    if (value.method == ForwardingMethod::fnat)
        out["source"] = optional(value.fnat_source, address);
    return out;
}

json checker(const Checker& value) {
    json out = {{"type", to_string(value.type)}};
    if (value.type != CheckerType::misc_check) {
        out["connect_ip"] = optional(value.connect_ip, address);
        out["connect_port"] = optional(value.connect_port);
        out["bindto"] = optional(value.bindto, address);
        out["bind_port"] = optional(value.bind_port);
        out["bind_if"] = optional(value.bind_if);
        out["fwmark"] = optional(value.fwmark);
    }
    out["connect_timeout"] = seconds(value.connect_timeout);
    out["retry"] = value.retry;
    out["delay_before_retry"] = seconds(value.delay_before_retry);
    out["warmup"] = seconds(value.warmup);
    out["delay_loop"] = seconds(value.delay_loop);
    out["alpha"] = value.alpha;
    out["rise"] = value.rise;
    out["log_all_failures"] = value.log_all_failures;
    if (const auto* http = std::get_if<HttpCheck>(&value.details)) {
        out["http_protocol"] = http->http_protocol;
        out["virtualhost"] = optional(http->virtualhost);
        out["fast_recovery"] = http->fast_recovery;
        if (!http->tls) out["reuse_connection"] = http->reuse_connection;
        if (http->tls) {
            out["enable_sni"] = http->enable_sni;
            out["sni_name"] = optional(http->sni_name);
            out["tls_compliant"] = http->tls_compliant;
        }
        json urls = json::array();
        for (const auto& url : http->urls) {
            json codes = json::array();
            for (const auto& [low, high] : url.status_codes) {
                codes.push_back(low == high ? std::to_string(low)
                                            : std::to_string(low) + "-" + std::to_string(high));
            }
            urls.push_back({{"path", url.path},
                            {"digest", optional(url.digest)},
                            {"status_code", codes},
                            {"virtualhost", optional(url.virtualhost)}});
        }
        out["url"] = urls;
    } else if (const auto* misc = std::get_if<MiscCheck>(&value.details)) {
        out["misc_path"] = misc->path;
        out["misc_timeout"] = seconds(misc->timeout);
        out["misc_dynamic"] = misc->dynamic;
        out["user"] = optional(misc->user, user);
    }
    return out;
}

json dynamic_weight(const DynamicWeight& value) {
    json out = {{"source", to_string(value.source)}};
    if (value.source == DynamicWeightSource::response_time) {
        out["target_response_time"] = seconds(value.target_response_time);
    } else {
        out["port"] = optional(value.agent_port);
        out["interval"] = seconds(value.interval);
        out["timeout"] = seconds(value.timeout);
    }
    out["min_weight"] = value.min_weight;
    out["max_weight"] = value.max_weight;
    return out;
}

}  // namespace

json to_json(const GlobalDefs& defs) {
    json metrics = json::object();
    for (const auto& [daemon, endpoint] : defs.metrics_listen) {
        metrics[std::string(to_string(daemon))] = endpoint.to_string();
    }
    json sockets = json::object();
    for (const auto& [daemon, path] : defs.control_socket) {
        sockets[std::string(to_string(daemon))] = path;
    }
    json sync = nullptr;
    if (defs.lvs_sync_daemon) {
        const auto& s = *defs.lvs_sync_daemon;
        sync = {{"interface", s.interface},
                {"inst", optional(s.vrrp_instance)},
                {"id", optional(s.sync_id)},
                {"maxlen", optional(s.max_length)},
                {"port", s.port},
                {"ttl", optional(s.ttl)},
                {"group", address(s.group)}};
    }
    return {
        {"router_id", optional(defs.router_id)},
        {"script_user", optional(defs.script_user, user)},
        {"enable_script_security", defs.enable_script_security},
        {"vrrp_version", defs.vrrp_version},
        {"vrrp_mcast_group4", address(defs.vrrp_mcast_group4)},
        {"vrrp_mcast_group6", address(defs.vrrp_mcast_group6)},
        {"vrrp_garp_master_delay", seconds(defs.vrrp_garp_master_delay)},
        {"vrrp_garp_master_repeat", defs.vrrp_garp_master_repeat},
        {"vrrp_garp_master_refresh", seconds(defs.vrrp_garp_master_refresh)},
        {"vrrp_garp_master_refresh_repeat", defs.vrrp_garp_master_refresh_repeat},
        {"vrrp_garp_interval", seconds(defs.vrrp_garp_interval)},
        {"vrrp_gna_interval", seconds(defs.vrrp_gna_interval)},
        {"vrrp_strict", defs.vrrp_strict},
        {"vrrp_check_unicast_src", defs.vrrp_check_unicast_src},
        {"vrrp_skip_check_adv_addr", defs.vrrp_skip_check_adv_addr},
        {"vrrp_startup_delay", seconds(defs.vrrp_startup_delay)},
        {"vrrp_rt_priority", optional(defs.vrrp_rt_priority)},
        {"vrrp_no_swap", defs.vrrp_no_swap},
        {"vrrp_cpu_affinity", defs.vrrp_cpu_affinity},
        {"lvs_timeouts",
         {{"tcp", optional(defs.lvs_timeouts.tcp, [](Duration d) { return seconds(d); })},
          {"tcpfin", optional(defs.lvs_timeouts.tcp_fin, [](Duration d) { return seconds(d); })},
          {"udp", optional(defs.lvs_timeouts.udp, [](Duration d) { return seconds(d); })}}},
        {"lvs_sync_daemon", sync},
        {"lvs_flush", defs.lvs_flush},
        {"lvs_flush_on_stop", defs.lvs_flush_on_stop},
        {"metrics_listen", metrics},
        {"control_socket", sockets},
    };
}

json to_json(const VrrpScript& s) {
    return {{"name", s.name},
            {"script", s.script},
            {"interval", seconds(s.interval)},
            {"timeout", seconds(s.timeout)},
            {"weight", s.weight},
            {"reverse", s.weight_reverse},
            {"rise", s.rise},
            {"fall", s.fall},
            {"user", optional(s.user, user)},
            {"init_fail", s.init_fail}};
}

json to_json(const VrrpInstance& v) {
    json peers = json::array();
    for (const auto& peer : v.unicast_peers) {
        peers.push_back({{"address", address(peer.address)},
                         {"min_ttl", optional(peer.min_ttl)},
                         {"max_ttl", optional(peer.max_ttl)}});
    }
    json out = {
        {"name", v.name},
        {"state", to_string(v.state)},
        {"interface", optional(v.interface)},
        {"virtual_router_id", v.virtual_router_id},
        {"priority", v.priority},
        {"advert_int", seconds(v.advert_int)},
        {"version", v.version},
        {"family", to_string(v.family)},
        {"nopreempt", v.nopreempt},
        {"preempt_delay", seconds(v.preempt_delay)},
        {"accept", v.accept},
        {"authentication",
         v.auth_pass ? json{{"auth_type", "PASS"}, {"auth_pass", *v.auth_pass}} : json(nullptr)},
        {"unicast_src_ip", optional(v.unicast_src_ip, address)},
        {"unicast_peer", peers},
        {"mcast_src_ip", optional(v.mcast_src_ip, address)},
        {"dont_track_primary", v.dont_track_primary},
        {"virtual_ipaddress", virtual_addresses(v.virtual_ipaddresses)},
        {"virtual_ipaddress_excluded", virtual_addresses(v.virtual_ipaddresses_excluded)},
        {"track_interface", tracked_interfaces(v.track_interfaces)},
        {"track_script", tracked_scripts(v.track_scripts)},
        {"garp_master_delay", seconds(v.garp_master_delay)},
        {"garp_master_repeat", v.garp_master_repeat},
        {"garp_master_refresh", seconds(v.garp_master_refresh)},
        {"garp_master_refresh_repeat", v.garp_master_refresh_repeat},
    };
    out.update(notify(v.notify));
    return out;
}

json to_json(const VrrpSyncGroup& g) {
    json out = {{"name", g.name},
                {"group", g.members},
                {"track_interface", tracked_interfaces(g.track_interfaces)},
                {"track_script", tracked_scripts(g.track_scripts)}};
    out.update(notify(g.notify));
    return out;
}

json to_json(const VirtualServerGroup& g) {
    json ranges = json::array();
    for (const auto& range : g.ranges) {
        ranges.push_back({{"first", address(range.first)},
                          {"last", address(range.last)},
                          {"port", optional(range.port)}});
    }
    json marks = json::array();
    for (const auto& mark : g.fwmarks) {
        marks.push_back(
            {{"fwmark", mark.fwmark}, {"family", optional(mark.family, [](AddressFamily f) {
                                           return json(std::string(to_string(f)));
                                       })}});
    }
    return {{"name", g.name}, {"addresses", ranges}, {"fwmarks", marks}};
}

json to_json(const RealServer& r) {
    json checkers = json::array();
    for (const auto& c : r.checkers) checkers.push_back(checker(c));
    return {{"address", address(r.address)},
            {"port", optional(r.port)},
            {"weight", r.weight},
            {"lvs_method", forwarding(r.forwarding)},
            {"uthreshold", r.uthreshold},
            {"lthreshold", r.lthreshold},
            {"inhibit_on_failure", r.inhibit_on_failure},
            {"notify_up", optional(r.notify_up, script)},
            {"notify_down", optional(r.notify_down, script)},
            {"backup", r.backup},
            {"down", r.down},
            {"dynamic_weight", optional(r.dynamic_weight, dynamic_weight)},
            {"checkers", checkers}};
}

json to_json(const VirtualServer& v, bool with_real_servers) {
    json target;
    if (const auto* a = std::get_if<VsAddress>(&v.target)) {
        target = {{"address", address(a->address)}, {"port", optional(a->port)}};
    } else if (const auto* m = std::get_if<VsFwmark>(&v.target)) {
        target = {{"fwmark", m->fwmark}};
    } else {
        target = {{"group", std::get<VsGroup>(v.target).name}};
    }
    json sorry = nullptr;
    if (v.sorry_server) {
        sorry = {{"address", address(v.sorry_server->address)},
                 {"port", optional(v.sorry_server->port)},
                 {"inhibit", v.sorry_server->inhibit},
                 {"lvs_method", forwarding(v.sorry_server->forwarding)}};
    }
    json out = {
        {"key", v.key()},
        {"virtual_server", target},
        {"protocol", to_string(v.protocol)},
        {"ip_family", to_string(v.family)},
        {"lvs_sched", v.scheduler},
        {"scheduler_flags", v.scheduler_flags},
        {"ops", v.one_packet_scheduling},
        {"lvs_method", forwarding(v.forwarding)},
        {"persistence_timeout",
         optional(v.persistence_timeout, [](Duration d) { return seconds(d); })},
        {"persistence_granularity", optional(v.persistence_granularity)},
        {"delay_loop", seconds(v.delay_loop)},
        {"sorry_server", sorry},
        {"inhibit_on_failure", v.inhibit_on_failure},
        {"quorum", v.quorum},
        {"hysteresis", v.hysteresis},
        {"quorum_up", optional(v.quorum_up, script)},
        {"quorum_down", optional(v.quorum_down, script)},
        {"alpha", v.alpha},
        {"omega", v.omega},
        {"ha_suspend", v.ha_suspend},
        {"virtualhost", optional(v.virtualhost)},
    };
    if (with_real_servers) {
        json reals = json::array();
        for (const auto& r : v.real_servers) reals.push_back(to_json(r));
        out["real_servers"] = reals;
    }
    return out;
}

std::string json_text(const json& value, int indent) {
    return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

json to_json(const Config& config) {
    json scripts = json::array();
    for (const auto& s : config.vrrp_scripts) scripts.push_back(to_json(s));
    json instances = json::array();
    for (const auto& i : config.vrrp_instances) instances.push_back(to_json(i));
    json sync_groups = json::array();
    for (const auto& g : config.vrrp_sync_groups) sync_groups.push_back(to_json(g));
    json vs_groups = json::array();
    for (const auto& g : config.virtual_server_groups) vs_groups.push_back(to_json(g));
    json servers = json::array();
    for (const auto& v : config.virtual_servers) servers.push_back(to_json(v));
    return {{"global_defs", to_json(config.global_defs)},
            {"vrrp_scripts", scripts},
            {"vrrp_instances", instances},
            {"vrrp_sync_groups", sync_groups},
            {"virtual_server_groups", vs_groups},
            {"virtual_servers", servers}};
}

}  // namespace ipvsctl::config
