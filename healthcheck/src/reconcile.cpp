// SPDX-License-Identifier: GPL-2.0-or-later
#include "healthcheck/reconcile.hpp"

#include <algorithm>

namespace ipvsctl::healthcheck {
namespace {

Protocol kernel_protocol(config::Protocol protocol) {
    switch (protocol) {
        case config::Protocol::udp:
            return Protocol::UDP;
        case config::Protocol::sctp:
            return Protocol::SCTP;
        case config::Protocol::tcp:
            break;
    }
    return Protocol::TCP;
}

Family kernel_family(config::AddressFamily family) {
    return family == config::AddressFamily::inet6 ? Family::Inet6 : Family::Inet;
}

ForwardMethod kernel_method(config::ForwardingMethod method) {
    switch (method) {
        case config::ForwardingMethod::dr:
            return ForwardMethod::Route;
        case config::ForwardingMethod::tun:
            return ForwardMethod::Tunnel;
        // FULLNAT is not in the stock kernel; its SNAT half is nftables' job,
        // the IPVS half is masquerading.
        case config::ForwardingMethod::fnat:
        case config::ForwardingMethod::nat:
            break;
    }
    return ForwardMethod::Masquerade;
}

void apply_forwarding(const config::Forwarding& forwarding, Destination& destination) {
    destination.method = kernel_method(forwarding.method);
    switch (forwarding.tunnel_type) {
        case config::TunnelType::gue:
            destination.tunnel_type = TunnelType::GUE;
            break;
        case config::TunnelType::gre:
            destination.tunnel_type = TunnelType::GRE;
            break;
        case config::TunnelType::ipip:
            destination.tunnel_type = TunnelType::IPIP;
            break;
    }
    destination.tunnel_port = forwarding.tunnel_port.value_or(0);
    switch (forwarding.tunnel_checksum) {
        case config::TunnelChecksum::csum:
            destination.tunnel_flags = tunnel_flags::csum;
            break;
        case config::TunnelChecksum::remcsum:
            destination.tunnel_flags = tunnel_flags::remcsum;
            break;
        case config::TunnelChecksum::none:
        case config::TunnelChecksum::nocsum:
            destination.tunnel_flags = tunnel_flags::nocsum;
    }
}

/// Next address in network byte order (for group ranges); false on wrap.
bool increment(config::IpAddress& address) {
    const std::size_t size = address.is_v6() ? 16 : 4;
    for (std::size_t i = size; i-- > 0;) {
        if (++address.bytes[i] != 0) return true;
    }
    return false;
}

const ServerHealth kUnknown{};

const ServerHealth& lookup(const HealthMap& health, const std::string& vs, const std::string& rs) {
    const auto found = health.find(ServerRef{vs, rs});
    return found == health.end() ? kUnknown : found->second;
}

}  // namespace

Address to_kernel_address(const config::IpAddress& address) {
    Address out;
    out.family = kernel_family(address.family);
    out.bytes = address.bytes;
    return out;
}

std::uint16_t virtual_port(const config::VirtualServer& vs) {
    if (const auto* plain = std::get_if<config::VsAddress>(&vs.target))
        return plain->port.value_or(0);
    return 0;
}

std::vector<ServiceKey> service_keys(const config::VirtualServer& vs,
                                     const std::vector<config::VirtualServerGroup>& groups) {
    std::vector<ServiceKey> keys;
    const auto address_key = [&](const config::IpAddress& address, std::uint16_t port) {
        ServiceKey key;
        key.family = kernel_family(address.family);
        key.protocol = kernel_protocol(vs.protocol);
        key.address = to_kernel_address(address);
        key.port = port;
        return key;
    };
    if (const auto* plain = std::get_if<config::VsAddress>(&vs.target)) {
        keys.push_back(address_key(plain->address, plain->port.value_or(0)));
    } else if (const auto* mark = std::get_if<config::VsFwmark>(&vs.target)) {
        keys.push_back(ServiceKey::mark(mark->fwmark, kernel_family(vs.family)));
    } else if (const auto* group_ref = std::get_if<config::VsGroup>(&vs.target)) {
        const auto group = std::find_if(groups.begin(), groups.end(),
                                        [&](const auto& g) { return g.name == group_ref->name; });
        if (group == groups.end()) return keys;
        for (const auto& range : group->ranges) {
            // Bounded: a validated range differs only in its last byte.
            config::IpAddress address = range.first;
            for (int n = 0; n < 256; ++n) {
                keys.push_back(address_key(address, range.port.value_or(0)));
                if (address == range.last || !increment(address)) break;
            }
        }
        for (const auto& group_mark : group->fwmarks) {
            keys.push_back(ServiceKey::mark(group_mark.fwmark,
                                            kernel_family(group_mark.family.value_or(vs.family))));
        }
    }
    return keys;
}

Service service_settings(const config::VirtualServer& vs) {
    Service service;
    service.scheduler = vs.scheduler.empty() ? std::string("wlc") : vs.scheduler;
    const Family family = kernel_family(vs.family);
    service.netmask = Service::default_netmask(family);
    if (vs.persistence_timeout) {
        service.flags |= service_flags::persistent;
        service.timeout = static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::seconds>(*vs.persistence_timeout).count());
    }
    if (vs.persistence_granularity) {
        const int length =
            std::clamp(*vs.persistence_granularity, 0, family == Family::Inet6 ? 128 : 32);
        if (family == Family::Inet6) {
            service.netmask = static_cast<std::uint32_t>(length);
        } else {
            service.netmask = length == 0 ? 0u : ~std::uint32_t{0} << (32 - length);
        }
    }
    if (vs.one_packet_scheduling) service.flags |= service_flags::one_packet;
    for (const auto& flag : vs.scheduler_flags) {
        if (flag == "flag-1" || flag == "sh-fallback" || flag == "mh-fallback")
            service.flags |= service_flags::sched1;
        else if (flag == "flag-2" || flag == "sh-port" || flag == "mh-port")
            service.flags |= service_flags::sched2;
        else if (flag == "flag-3")
            service.flags |= service_flags::sched3;
    }
    return service;
}

Destination destination_for(const config::VirtualServer& vs, const config::RealServer& rs) {
    Destination destination;
    destination.address = to_kernel_address(rs.address);
    destination.port = rs.port.value_or(virtual_port(vs));
    destination.weight = rs.weight;
    destination.upper_threshold = static_cast<std::uint32_t>(std::max(0, rs.uthreshold));
    destination.lower_threshold = static_cast<std::uint32_t>(std::max(0, rs.lthreshold));
    apply_forwarding(rs.forwarding, destination);
    return destination;
}

Destination sorry_destination(const config::VirtualServer& vs, const config::SorryServer& sorry) {
    Destination destination;
    destination.address = to_kernel_address(sorry.address);
    destination.port = sorry.port.value_or(virtual_port(vs));
    destination.weight = 1;
    apply_forwarding(sorry.forwarding, destination);
    return destination;
}

bool counts_alive(const config::RealServer& rs, const ServerHealth& health, bool in_kernel) {
    if (rs.down) return false;
    switch (health.verdict) {
        case ServerVerdict::up:
            return true;
        case ServerVerdict::down:
            return false;
        case ServerVerdict::unknown:
            return in_kernel;
    }
    return false;
}

int effective_weight(const config::RealServer& rs, const ServerHealth& health) {
    return std::max(0, health.weight.value_or(rs.weight));
}

namespace {

template <typename Lookup>
std::int64_t alive_weight_of(const config::VirtualServer& vs, Lookup&& health_of,
                             const std::function<bool(const config::RealServer&)>& in_kernel) {
    std::int64_t primaries = 0, backups = 0;
    bool any_primary = false;
    std::size_t index = 0;
    for (const auto& rs : vs.real_servers) {
        const ServerHealth& h = health_of(rs, index++);
        if (h.drain != DrainPhase::none || !counts_alive(rs, h, in_kernel(rs))) continue;
        if (rs.backup) {
            backups += effective_weight(rs, h);
        } else {
            any_primary = true;
            primaries += effective_weight(rs, h);
        }
    }
    return any_primary ? primaries : backups;
}

}  // namespace

std::int64_t alive_weight(const config::VirtualServer& vs, const HealthMap& health,
                          const std::function<bool(const config::RealServer&)>& in_kernel) {
    const std::string vs_key = vs.key();
    return alive_weight_of(
        vs,
        [&](const config::RealServer& rs, std::size_t) -> const ServerHealth& {
            return lookup(health, vs_key, rs.key());
        },
        in_kernel);
}

std::int64_t alive_weight(const config::VirtualServer& vs, const ServerHealth* health,
                          const std::function<bool(const config::RealServer&)>& in_kernel) {
    return alive_weight_of(
        vs,
        [&](const config::RealServer&, std::size_t index) -> const ServerHealth& {
            return health[index];
        },
        in_kernel);
}

Endpoints::Endpoints(const ServiceEntry* entry, bool positive_weight) {
    if (entry == nullptr) return;
    sorted_.reserve(entry->destinations.size());
    for (const auto& d : entry->destinations)
        if (!positive_weight || d.weight > 0) sorted_.emplace_back(d.address, d.port);
    std::sort(sorted_.begin(), sorted_.end());
}

bool Endpoints::contains(const Destination& destination) const {
    return std::binary_search(sorted_.begin(), sorted_.end(),
                              std::pair{destination.address, destination.port});
}

Table desired_table(const ReconcileInput& input) {
    Table table;
    static const std::vector<config::VirtualServerGroup> kNoGroups;
    static const HealthMap kNoHealth;
    static const Table kNoTable;
    static const std::map<std::string, bool> kNoQuorum;
    const auto& groups = input.groups ? *input.groups : kNoGroups;
    const auto& health = input.health ? *input.health : kNoHealth;
    const auto& current = input.current ? *input.current : kNoTable;
    const auto& quorum = input.quorum ? *input.quorum : kNoQuorum;
    if (input.virtual_servers == nullptr) return table;

    // Per real server, computed once: the lookups below run for every
    // server of every virtual server on each reconcile (tens of thousands).
    struct Server {
        const config::RealServer* rs;
        const ServerHealth* health;
        Destination destination;
        bool alive;
    };
    std::vector<Server> servers;
    std::size_t next_server = 0;  // of the first real server of vs, in health_in_order
    for (const auto& vs : *input.virtual_servers) {
        const std::size_t first = next_server;
        next_server += vs.real_servers.size();
        const std::string vs_key = vs.key();
        const auto keys = service_keys(vs, groups);
        if (keys.empty()) continue;

        // Adoption looks at the first service of the virtual server.
        const Endpoints in_kernel(current.find(keys.front()));
        servers.clear();
        servers.reserve(vs.real_servers.size());
        bool any_primary_alive = false;
        for (std::size_t i = 0; i < vs.real_servers.size(); ++i) {
            const auto& rs = vs.real_servers[i];
            const ServerHealth* h = input.health_in_order != nullptr
                                        ? &(*input.health_in_order)[first + i]
                                        : &lookup(health, vs_key, rs.key());
            Server server{&rs, h, destination_for(vs, rs), false};
            server.alive = counts_alive(rs, *server.health, in_kernel.contains(server.destination));
            if (!rs.backup && server.health->drain == DrainPhase::none && server.alive)
                any_primary_alive = true;
            servers.push_back(std::move(server));
        }
        const auto quorum_found = quorum.find(vs_key);
        const bool has_quorum = quorum_found == quorum.end() || quorum_found->second;
        // keepalived takes the live servers out while the sorry server serves.
        const bool sorry_active = !has_quorum && vs.sorry_server.has_value();

        std::vector<Destination> destinations;
        destinations.reserve(servers.size() + 1);
        for (auto& server : servers) {
            const config::RealServer& rs = *server.rs;
            const ServerHealth& h = *server.health;
            // Backups serve only while no primary is alive.
            const bool serving =
                server.alive && !sorry_active && (!rs.backup || !any_primary_alive);
            Destination& destination = server.destination;
            if (h.drain == DrainPhase::drained) continue;
            if (h.drain == DrainPhase::draining) {
                // Existing connections finish; no new ones are scheduled.
                if (server.alive || rs.inhibit_on_failure || vs.inhibit_on_failure) {
                    destination.weight = 0;
                    destinations.push_back(destination);
                }
                continue;
            }
            if (serving) {
                destination.weight = effective_weight(rs, h);
                destinations.push_back(destination);
            } else if (rs.inhibit_on_failure || vs.inhibit_on_failure) {
                destination.weight = 0;
                destinations.push_back(destination);
            }
        }
        if (vs.sorry_server) {
            if (sorry_active) {
                destinations.push_back(sorry_destination(vs, *vs.sorry_server));
            } else if (vs.sorry_server->inhibit) {
                Destination sorry = sorry_destination(vs, *vs.sorry_server);
                sorry.weight = 0;
                destinations.push_back(sorry);
            }
        }
        // A sorry server that is also a real server appears once, with the
        // higher weight, where it first appeared.
        std::vector<Destination> unique;
        unique.reserve(destinations.size());
        std::map<std::pair<Address, std::uint16_t>, std::size_t> position;
        for (auto& d : destinations) {
            const auto [found, inserted] =
                position.try_emplace(std::pair{d.address, d.port}, unique.size());
            if (inserted) {
                unique.push_back(std::move(d));
            } else if (d.weight > unique[found->second].weight) {
                unique[found->second] = std::move(d);
            }
        }

        Service settings = service_settings(vs);
        for (std::size_t i = 0; i < keys.size(); ++i) {
            ServiceEntry entry;
            entry.service = settings;
            entry.service.key = keys[i];
            // The last service takes the list, the others a copy.
            entry.destinations = i + 1 == keys.size() ? std::move(unique) : unique;
            table.services.push_back(std::move(entry));
        }
    }
    return table;
}

Table owned_part(const Table& current, const std::set<ServiceKey>& owned) {
    Table part;
    for (const auto& entry : current.services)
        if (owned.contains(entry.service.key)) part.services.push_back(entry);
    return part;
}

}  // namespace ipvsctl::healthcheck
