// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ipvsctl/operation.hpp"

namespace ipvsctl {

Operation Operation::add_service(Service service) {
    Operation op;
    op.kind = OpKind::AddService;
    op.service = std::move(service);
    return op;
}

Operation Operation::edit_service(Service service) {
    Operation op = add_service(std::move(service));
    op.kind = OpKind::EditService;
    return op;
}

Operation Operation::delete_service(const ServiceKey& key) {
    Operation op;
    op.kind = OpKind::DeleteService;
    op.service.key = key;
    return op;
}

Operation Operation::add_destination(const ServiceKey& key, Destination destination) {
    Operation op;
    op.kind = OpKind::AddDestination;
    op.service.key = key;
    op.destination = std::move(destination);
    return op;
}

Operation Operation::edit_destination(const ServiceKey& key, Destination destination) {
    Operation op = add_destination(key, std::move(destination));
    op.kind = OpKind::EditDestination;
    return op;
}

Operation Operation::delete_destination(const ServiceKey& key, Destination destination) {
    Operation op = add_destination(key, std::move(destination));
    op.kind = OpKind::DeleteDestination;
    return op;
}

Operation Operation::zero(const ServiceKey& key) {
    Operation op;
    op.kind = OpKind::ZeroService;
    op.service.key = key;
    return op;
}

Operation Operation::zero_all() {
    Operation op;
    op.kind = OpKind::ZeroAll;
    return op;
}

Operation Operation::flush() {
    Operation op;
    op.kind = OpKind::Flush;
    return op;
}

Operation Operation::set_timeouts(Timeouts timeouts) {
    Operation op;
    op.kind = OpKind::SetTimeouts;
    op.timeouts = timeouts;
    return op;
}

Operation Operation::start_daemon(SyncDaemon daemon) {
    Operation op;
    op.kind = OpKind::StartDaemon;
    op.daemon = std::move(daemon);
    return op;
}

Operation Operation::stop_daemon(SyncState state) {
    Operation op;
    op.kind = OpKind::StopDaemon;
    op.daemon.state = state;
    return op;
}

std::string_view Operation::verb() const {
    switch (kind) {
        case OpKind::AddService:
            return "add service";
        case OpKind::EditService:
            return "edit service";
        case OpKind::DeleteService:
            return "delete service";
        case OpKind::AddDestination:
            return "add destination";
        case OpKind::EditDestination:
            return "edit destination";
        case OpKind::DeleteDestination:
            return "delete destination";
        case OpKind::ZeroService:
            return "zero service";
        case OpKind::ZeroAll:
            return "zero counters";
        case OpKind::Flush:
            return "flush";
        case OpKind::SetTimeouts:
            return "set timeouts";
        case OpKind::StartDaemon:
            return "start sync daemon";
        case OpKind::StopDaemon:
            return "stop sync daemon";
    }
    return "?";
}

std::string Operation::object() const {
    switch (kind) {
        case OpKind::AddService:
        case OpKind::EditService:
        case OpKind::DeleteService:
        case OpKind::ZeroService:
            return service.key.to_string();
        case OpKind::AddDestination:
        case OpKind::EditDestination:
        case OpKind::DeleteDestination:
            return destination.endpoint() + " in " + service.key.to_string();
        case OpKind::StartDaemon:
        case OpKind::StopDaemon:
            return std::string(to_string(daemon.state));
        case OpKind::ZeroAll:
        case OpKind::Flush:
        case OpKind::SetTimeouts:
            return {};
    }
    return {};
}

std::string Operation::describe() const {
    std::string text(verb());
    switch (kind) {
        case OpKind::AddService:
        case OpKind::EditService:
            text += " " + service.key.to_string() + " (" + service.scheduler;
            if (service.persistent()) text += ", persistent " + std::to_string(service.timeout);
            text += ")";
            break;
        case OpKind::AddDestination:
        case OpKind::EditDestination:
            text += " " + destination.endpoint() + " to " + service.key.to_string() + " (" +
                    std::string(to_string(destination.method)) + ", weight " +
                    std::to_string(destination.weight) + ")";
            break;
        case OpKind::DeleteDestination:
            text += " " + destination.endpoint() + " from " + service.key.to_string();
            break;
        case OpKind::SetTimeouts:
            text += " " + std::to_string(timeouts.tcp) + " " + std::to_string(timeouts.tcp_fin) +
                    " " + std::to_string(timeouts.udp);
            break;
        case OpKind::StartDaemon:
            text += " " + std::string(to_string(daemon.state)) + " on " + daemon.interface +
                    " syncid " + std::to_string(daemon.sync_id);
            break;
        default: {
            const auto what = object();
            if (!what.empty()) text += " " + what;
        }
    }
    return text;
}

}  // namespace ipvsctl
