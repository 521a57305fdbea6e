// SPDX-License-Identifier: LGPL-2.1-or-later
// One change to the IPVS table, as sent to the kernel in a batch.
#pragma once

#include <string>
#include <vector>

#include "ipvsctl/types.hpp"

namespace ipvsctl {

enum class OpKind {
    AddService,
    EditService,
    DeleteService,
    AddDestination,
    EditDestination,
    DeleteDestination,
    ZeroService,  ///< zero one service's counters
    ZeroAll,
    Flush,
    SetTimeouts,
    StartDaemon,
    StopDaemon,
};

struct Operation {
    OpKind kind = OpKind::AddService;
    Service service;          ///< the service, or the key of the destination's service
    Destination destination;  ///< destination operations only
    Timeouts timeouts;        ///< SetTimeouts only
    SyncDaemon daemon;        ///< StartDaemon / StopDaemon only

    static Operation add_service(Service service);
    static Operation edit_service(Service service);
    static Operation delete_service(const ServiceKey& key);
    static Operation add_destination(const ServiceKey& key, Destination destination);
    static Operation edit_destination(const ServiceKey& key, Destination destination);
    static Operation delete_destination(const ServiceKey& key, Destination destination);
    static Operation zero(const ServiceKey& key);
    static Operation zero_all();
    static Operation flush();
    static Operation set_timeouts(Timeouts timeouts);
    static Operation start_daemon(SyncDaemon daemon);
    static Operation stop_daemon(SyncState state);

    /// "add service TCP 10.0.0.1:80 (wlc)" or
    /// "add destination 10.0.1.1:80 to TCP 10.0.0.1:80 (route, weight 1)".
    [[nodiscard]] std::string describe() const;
    /// "add service", "delete destination", ...
    [[nodiscard]] std::string_view verb() const;
    /// The object named in error messages: "TCP 10.0.0.1:80" or
    /// "10.0.1.1:80 in TCP 10.0.0.1:80".
    [[nodiscard]] std::string object() const;
};

}  // namespace ipvsctl
