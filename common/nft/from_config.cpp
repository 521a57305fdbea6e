// SPDX-License-Identifier: GPL-2.0-or-later
#include "nft/from_config.hpp"

#include <algorithm>
#include <set>

namespace ipvsctl::nft {
namespace {

/// FNV-1a, 32 bits: stable across builds and runs.
std::uint32_t fnv1a(std::string_view text) {
    std::uint32_t hash = 2166136261u;
    for (const char c : text) {
        hash ^= static_cast<std::uint8_t>(c);
        hash *= 16777619u;
    }
    return hash;
}

L4Protocol l4(config::Protocol protocol) {
    switch (protocol) {
        case config::Protocol::udp:
            return L4Protocol::udp;
        case config::Protocol::sctp:
            return L4Protocol::sctp;
        case config::Protocol::tcp:
            break;
    }
    return L4Protocol::tcp;
}

const config::VirtualServerGroup* group_of(const config::Config& config,
                                           const config::VirtualServer& vs) {
    const auto* ref = std::get_if<config::VsGroup>(&vs.target);
    return ref ? config.find_vs_group(ref->name) : nullptr;
}

std::size_t users_of(const config::Config& config, const std::string& group) {
    return static_cast<std::size_t>(std::count_if(
        config.virtual_servers.begin(), config.virtual_servers.end(), [&](const auto& vs) {
            const auto* ref = std::get_if<config::VsGroup>(&vs.target);
            return ref && ref->name == group;
        }));
}

/// What identifies the flows IPVS accepted for `vs`: one entry per service.
std::vector<std::variant<ServiceAddress, ServiceMark>> services_of(
    const config::Config& config, const config::VirtualServer& vs,
    const std::map<std::string, std::uint32_t>& marks) {
    std::vector<std::variant<ServiceAddress, ServiceMark>> services;
    if (const auto* address = std::get_if<config::VsAddress>(&vs.target)) {
        services.emplace_back(ServiceAddress{address->address, address->port.value_or(0)});
    } else if (const auto* mark = std::get_if<config::VsFwmark>(&vs.target)) {
        services.emplace_back(ServiceMark{mark->fwmark});
    } else if (const auto* group = group_of(config, vs)) {
        if (const auto found = marks.find(vs.key()); found != marks.end())
            services.emplace_back(ServiceMark{found->second});
        for (const auto& line : group->fwmarks) services.emplace_back(ServiceMark{line.fwmark});
    }
    return services;
}

config::AddressFamily family_of(const std::variant<ServiceAddress, ServiceMark>& service,
                                const config::IpAddress& fallback) {
    if (const auto* address = std::get_if<ServiceAddress>(&service)) return address->vip.family;
    return fallback.family;
}

}  // namespace

std::map<std::string, std::uint32_t> group_marks(const config::Config& config) {
    std::set<std::uint32_t> used;
    for (const auto& vs : config.virtual_servers) {
        if (const auto* mark = std::get_if<config::VsFwmark>(&vs.target)) used.insert(mark->fwmark);
    }
    for (const auto& group : config.virtual_server_groups) {
        for (const auto& line : group.fwmarks) used.insert(line.fwmark);
    }
    std::map<std::string, std::uint32_t> marks;
    for (const auto& vs : config.virtual_servers) {
        const auto* group = group_of(config, vs);
        if (group == nullptr || group->ranges.empty()) continue;
        std::uint32_t low = fnv1a(vs.key()) & 0xffffu;
        // Linear probing: at most 65536 marks, far more than virtual servers.
        while (used.contains(kGroupMarkBase | low)) low = (low + 1) & 0xffffu;
        used.insert(kGroupMarkBase | low);
        marks[vs.key()] = kGroupMarkBase | low;
    }
    return marks;
}

config::Config collapse_groups(const config::Config& config,
                               const std::map<std::string, std::uint32_t>& marks) {
    config::Config collapsed = config;
    std::vector<config::VirtualServerGroup> replaced;
    for (auto& vs : collapsed.virtual_servers) {
        const auto found = marks.find(vs.key());
        const auto* group = group_of(config, vs);
        if (found == marks.end() || group == nullptr) continue;
        config::VirtualServerGroup marked;
        marked.where = group->where;
        marked.name = group->name;
        if (users_of(config, group->name) > 1)
            marked.name += "@" + std::string(config::to_string(vs.protocol));
        marked.fwmarks.push_back({group->where, found->second, group->ranges.front().first.family});
        for (const auto& line : group->fwmarks) marked.fwmarks.push_back(line);
        std::get<config::VsGroup>(vs.target).name = marked.name;
        replaced.push_back(std::move(marked));
    }
    // Collapsed groups replace the originals; groups nobody collapsed stay.
    auto& groups = collapsed.virtual_server_groups;
    for (auto& group : replaced) {
        const auto same = std::find_if(groups.begin(), groups.end(),
                                       [&](const auto& g) { return g.name == group.name; });
        if (same != groups.end())
            *same = std::move(group);
        else
            groups.push_back(std::move(group));
    }
    return collapsed;
}

Ruleset desired_ruleset(const config::Config& config,
                        const std::map<std::string, std::uint32_t>& marks) {
    Ruleset ruleset;
    for (const auto& vs : config.virtual_servers) {
        if (const auto found = marks.find(vs.key()); found != marks.end()) {
            for (const auto& range : group_of(config, vs)->ranges) {
                ruleset.marks.push_back({range.first, range.last, l4(vs.protocol),
                                         range.port.value_or(0), found->second});
            }
        }
        const auto snat_to = [&](const config::IpAddress& server, std::optional<std::uint16_t> port,
                                 std::uint16_t virtual_port, const config::Forwarding& forwarding) {
            for (const auto& service : services_of(config, vs, marks)) {
                // IPVS NAT keeps the family; a mismatch is for IPVS to refuse.
                if (family_of(service, server) != server.family) continue;
                SnatRule rule;
                rule.service = service;
                rule.protocol = l4(vs.protocol);
                rule.real_server = server;
                rule.real_port = port.value_or(virtual_port);
                rule.source = forwarding.fnat_source;
                ruleset.snats.push_back(rule);
            }
        };
        const std::uint16_t vport = [&]() -> std::uint16_t {
            const auto* address = std::get_if<config::VsAddress>(&vs.target);
            return address ? address->port.value_or(0) : 0;
        }();
        for (const auto& rs : vs.real_servers) {
            if (rs.forwarding.method == config::ForwardingMethod::fnat)
                snat_to(rs.address, rs.port, vport, rs.forwarding);
        }
        if (vs.sorry_server && vs.sorry_server->forwarding.method == config::ForwardingMethod::fnat)
            snat_to(vs.sorry_server->address, vs.sorry_server->port, vport,
                    vs.sorry_server->forwarding);
    }
    return ruleset;
}

bool needs_ipvs_conntrack(const Ruleset& ruleset) {
    return !ruleset.snats.empty();
}

}  // namespace ipvsctl::nft
