// SPDX-License-Identifier: GPL-2.0-or-later
// What IPVS should look like, given the configured virtual servers and what
// the checks say: a pure function, applied through libipvsctl's plan.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/model.hpp"
#include "healthcheck/drain.hpp"
#include "ipvsctl/types.hpp"

namespace ipvsctl::healthcheck {

/// The verdict on one real server of one virtual server.
enum class ServerVerdict {
    unknown,  ///< no check has decided yet: adopt what the kernel has
    up,
    down,
};

struct ServerHealth {
    ServerVerdict verdict = ServerVerdict::unknown;
    /// Weight set at run time (misc_dynamic); the configured one otherwise.
    std::optional<int> weight;
    /// Set over the control socket: draining keeps the server at weight 0,
    /// drained keeps it out of the kernel; checks go on either way.
    DrainPhase drain = DrainPhase::none;
};

/// Identifies a real server within a virtual server: the config keys.
struct ServerRef {
    std::string virtual_server;  ///< VirtualServer::key()
    std::string real_server;     ///< RealServer::key()
    auto operator<=>(const ServerRef&) const = default;
};

using HealthMap = std::map<ServerRef, ServerHealth>;

/// The service keys a virtual server stands for (a group gives several).
std::vector<ServiceKey> service_keys(const config::VirtualServer& vs,
                                     const std::vector<config::VirtualServerGroup>& groups);

/// The service settings of a virtual server (key left for the caller).
Service service_settings(const config::VirtualServer& vs);

/// The destination a real server becomes, with its configured weight.
Destination destination_for(const config::VirtualServer& vs, const config::RealServer& rs);
Destination sorry_destination(const config::VirtualServer& vs, const config::SorryServer& sorry);

Address to_kernel_address(const config::IpAddress& address);
std::uint16_t virtual_port(const config::VirtualServer& vs);

/// The (address, port) pairs of a kernel service's destinations, for
/// lookups in O(log n) instead of a scan per real server.
class Endpoints {
  public:
    Endpoints() = default;
    /// `entry` may be null (no such service: an empty set). With
    /// `positive_weight`, destinations of weight 0 are left out.
    explicit Endpoints(const ServiceEntry* entry, bool positive_weight = false);
    [[nodiscard]] bool contains(const Destination& destination) const;

  private:
    std::vector<std::pair<Address, std::uint16_t>> sorted_;
};

/// Whether a real server counts as alive for quorum: up, or unknown and
/// adopted because the kernel already has it with a weight.
bool counts_alive(const config::RealServer& rs, const ServerHealth& health, bool in_kernel);

/// Weight of a real server while it is up.
int effective_weight(const config::RealServer& rs, const ServerHealth& health);

struct ReconcileInput {
    const std::vector<config::VirtualServer>* virtual_servers = nullptr;
    const std::vector<config::VirtualServerGroup>* groups = nullptr;
    const HealthMap* health = nullptr;
    /// Instead of `health`: one entry per real server of every virtual
    /// server, in configuration order (no string-keyed lookups).
    const std::vector<ServerHealth>* health_in_order = nullptr;
    /// The kernel table now (for adoption of servers with no verdict yet).
    const Table* current = nullptr;
    /// Quorum state per virtual server key; missing means "has quorum".
    const std::map<std::string, bool>* quorum = nullptr;
};

/// The table healthcheckd wants for its virtual servers. Services it does
/// not configure do not appear; the caller limits the plan to its own.
Table desired_table(const ReconcileInput& input);

/// Sum of the weights of the live real servers of `vs` (primaries, or the
/// backups when no primary is alive), for quorum. Drained servers do not count.
std::int64_t alive_weight(const config::VirtualServer& vs, const HealthMap& health,
                          const std::function<bool(const config::RealServer&)>& in_kernel);

/// The same, with `health` pointing at the health of the first real server
/// of `vs`, the others following in configuration order.
std::int64_t alive_weight(const config::VirtualServer& vs, const ServerHealth* health,
                          const std::function<bool(const config::RealServer&)>& in_kernel);

/// `current` restricted to the services in `owned`.
Table owned_part(const Table& current, const std::set<ServiceKey>& owned);

}  // namespace ipvsctl::healthcheck
