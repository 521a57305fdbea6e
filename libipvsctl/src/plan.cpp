// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ipvsctl/plan.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <unordered_map>
#include <unordered_set>

namespace ipvsctl {
namespace {

struct EndpointHash {
    std::size_t operator()(const Destination* d) const noexcept {
        std::uint64_t halves[2];
        std::memcpy(halves, d->address.bytes.data(), sizeof halves);
        std::uint64_t hash = (halves[0] * 0x9e3779b97f4a7c15ULL) ^ halves[1];
        hash ^= std::uint64_t{d->port} << 8 | static_cast<std::uint64_t>(d->address.family);
        hash *= 0xbf58476d1ce4e5b9ULL;
        return static_cast<std::size_t>(hash ^ (hash >> 31));
    }
};
struct SameEndpoint {
    bool operator()(const Destination* a, const Destination* b) const {
        return a->same_endpoint(*b);
    }
};

/// One service's destinations by endpoint. Hashed above a handful: a
/// scan per destination made comparing services of 100 servers quadratic
/// (20,000 address comparisons each), the bulk of healthcheckd's drift
/// check at 10,000 servers.
class DestinationIndex {
  public:
    explicit DestinationIndex(const std::vector<Destination>& dests) : dests_(dests) {
        if (dests.size() <= kScanned) return;
        hashed_.reserve(dests.size());
        for (const auto& d : dests) hashed_.insert(&d);  // a duplicate: the first one counts
    }
    [[nodiscard]] const Destination* find(const Destination& d) const {
        if (dests_.size() <= kScanned) {
            for (const auto& candidate : dests_)
                if (candidate.same_endpoint(d)) return &candidate;
            return nullptr;
        }
        const auto found = hashed_.find(&d);
        return found == hashed_.end() ? nullptr : *found;
    }

  private:
    static constexpr std::size_t kScanned = 8;
    const std::vector<Destination>& dests_;
    std::unordered_set<const Destination*, EndpointHash, SameEndpoint> hashed_;
};

bool same_endpoints_in_order(const std::vector<Destination>& a, const std::vector<Destination>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!a[i].same_endpoint(b[i])) return false;
    return true;
}

}  // namespace

Plan make_plan(const Table& current, const Table& desired, const PlanOptions& options) {
    // Hashed: four lookups per service, 10,000s of services.
    std::unordered_map<ServiceKey, const ServiceEntry*, ServiceKeyHash> existing;
    existing.reserve(current.services.size());
    for (const auto& entry : current.services) existing.emplace(entry.service.key, &entry);
    std::unordered_map<ServiceKey, const ServiceEntry*, ServiceKeyHash> wanted;
    wanted.reserve(desired.services.size());
    for (const auto& entry : desired.services) wanted.emplace(entry.service.key, &entry);

    Plan plan;
    std::vector<Operation> changes;    // edits and destination changes of kept services
    std::vector<Operation> deletions;  // destinations first, then services

    for (const auto& entry : desired.services) {
        const ServiceKey& key = entry.service.key;
        if (wanted.at(key) != &entry) continue;  // a duplicate key: the first one counts
        const auto found = existing.find(key);
        if (found == existing.end()) {
            plan.operations.push_back(Operation::add_service(entry.service));
            for (const auto& dest : entry.destinations)
                plan.operations.push_back(Operation::add_destination(key, dest));
            continue;
        }
        const ServiceEntry& have = *found->second;
        if (!have.service.same_settings(entry.service))
            changes.push_back(Operation::edit_service(entry.service));
        if (same_endpoints_in_order(have.destinations, entry.destinations)) {
            // The usual case when nothing changed (a table read back against
            // the one it was planned from): no index to build.
            for (std::size_t i = 0; i < entry.destinations.size(); ++i)
                if (!have.destinations[i].same_settings(entry.destinations[i]))
                    changes.push_back(Operation::edit_destination(key, entry.destinations[i]));
            continue;
        }
        const DestinationIndex had(have.destinations);
        for (const auto& dest : entry.destinations) {
            const Destination* old = had.find(dest);
            if (old == nullptr)
                changes.push_back(Operation::add_destination(key, dest));
            else if (!old->same_settings(dest))
                changes.push_back(Operation::edit_destination(key, dest));
        }
        if (options.prune) {
            const DestinationIndex wanted_dests(entry.destinations);
            for (const auto& dest : have.destinations)
                if (wanted_dests.find(dest) == nullptr)
                    deletions.push_back(Operation::delete_destination(key, dest));
        }
    }
    if (options.prune)
        for (const auto& entry : current.services)
            if (!wanted.contains(entry.service.key))
                deletions.push_back(Operation::delete_service(entry.service.key));

    // Moved into one allocation of the final size, not copied into a
    // growing one: an operation is 424 bytes, and a reload's thousands of
    // them touched megabytes of fresh pages per copy and regrowth.
    std::vector<Operation> operations;
    operations.reserve(plan.operations.size() + changes.size() + deletions.size());
    for (auto* part : {&plan.operations, &changes, &deletions})
        operations.insert(operations.end(), std::make_move_iterator(part->begin()),
                          std::make_move_iterator(part->end()));
    plan.operations = std::move(operations);
    return plan;
}

TableModel::TableModel(const Table& initial) {
    for (const auto& entry : initial.services) services_.emplace(entry.service.key, entry);
}

Table TableModel::table() const {
    Table table;
    table.services.reserve(services_.size());
    for (const auto& [key, entry] : services_) table.services.push_back(entry);
    return table;
}

Result<void> TableModel::apply(const Operation& op) {
    const auto refuse = [&](int errnum) -> Result<void> {
        return make_error(errnum, std::string(op.verb()), op.object());
    };
    const ServiceKey& key = op.service.key;
    switch (op.kind) {
        case OpKind::AddService: {
            if (services_.contains(key)) return refuse(EEXIST);
            ServiceEntry entry;
            entry.service = op.service;
            entry.service.stats = {};
            services_.emplace(key, std::move(entry));
            return {};
        }
        case OpKind::EditService: {
            const auto found = services_.find(key);
            if (found == services_.end()) return refuse(ESRCH);
            const Stats stats = found->second.service.stats;
            found->second.service = op.service;
            found->second.service.stats = stats;
            return {};
        }
        case OpKind::DeleteService:
            if (services_.erase(key) == 0) return refuse(ESRCH);
            return {};
        case OpKind::AddDestination:
        case OpKind::EditDestination:
        case OpKind::DeleteDestination: {
            const auto found = services_.find(key);
            if (found == services_.end()) return refuse(ESRCH);
            auto& dests = found->second.destinations;
            const auto it = std::find_if(dests.begin(), dests.end(), [&](const Destination& d) {
                return d.same_endpoint(op.destination);
            });
            if (op.kind == OpKind::AddDestination) {
                if (it != dests.end()) return refuse(EEXIST);
                dests.push_back(op.destination);
            } else if (it == dests.end()) {
                return refuse(ENOENT);
            } else if (op.kind == OpKind::EditDestination) {
                *it = op.destination;
            } else {
                dests.erase(it);
            }
            return {};
        }
        case OpKind::ZeroService:
            if (!services_.contains(key)) return refuse(ESRCH);
            return {};
        case OpKind::Flush:
            services_.clear();
            return {};
        case OpKind::ZeroAll:
        case OpKind::SetTimeouts:
        case OpKind::StartDaemon:
        case OpKind::StopDaemon:
            return {};  // not part of the service table
    }
    return {};
}

Result<ApplyReport> apply_plan(Client& client, const Plan& plan, const Table& before,
                               const ApplyOptions& options) {
    ApplyReport result;
    if (plan.empty()) return result;
    auto report = client.execute_batch(plan.operations, options.batch);
    if (!report) return std::move(report).take_error();
    if (report->ok()) {
        result.applied = plan.operations.size();
        return result;
    }
    Error error = batch_error(plan.operations, *report);
    if (!options.rollback) return error;

    // Restore from what the kernel really holds now, not from assumptions
    // about which requests succeeded.
    auto now = client.table();
    if (!now) {
        error.detail += "; rollback failed: " + now.error().message();
        return error;
    }
    const Plan restore = make_plan(*now, before, PlanOptions{.prune = true});
    BatchOptions keep_going = options.batch;
    keep_going.stop_on_error = false;
    auto undone = client.execute_batch(restore.operations, keep_going);
    if (!undone || !undone->ok()) {
        error.detail += "; rollback failed";
        if (!undone)
            error.detail += ": " + undone.error().message();
        else
            error.detail += ": " + batch_error(restore.operations, *undone).message();
        return error;
    }
    error.detail += "; rolled back " + std::to_string(report->succeeded()) + " applied operation" +
                    (report->succeeded() == 1 ? "" : "s");
    return error;
}

}  // namespace ipvsctl
