// SPDX-License-Identifier: GPL-2.0-or-later
#include "document_table.hpp"

#include <bit>

namespace ipvsctl::cli {
namespace {

/// Service keys to positions in a table, in one flat array (open addressing,
/// linear probing): no allocation per key, as std::unordered_map makes.
/// The first position given for a key is kept.
class KeyIndex {
  public:
    template <typename KeyOf>
    KeyIndex(std::size_t count, KeyOf key_of) {
        const std::size_t capacity = std::bit_ceil(count * 2 + 2);
        slots_.assign(capacity, 0);
        shift_ = 64 - std::countr_zero(capacity);
        for (std::size_t i = 0; i < count; ++i) {
            const ServiceKey& key = key_of(i);
            std::size_t slot = home(key);
            for (;;) {
                const std::uint32_t at = slots_[slot];
                if (at == 0) {
                    slots_[slot] = static_cast<std::uint32_t>(i + 1);
                    break;
                }
                if (key_of(at - 1) == key) break;
                slot = (slot + 1) & (slots_.size() - 1);
            }
        }
    }

    /// The position of `key`, or -1.
    template <typename KeyOf>
    [[nodiscard]] std::ptrdiff_t find(const ServiceKey& key, KeyOf key_of) const {
        for (std::size_t slot = home(key);; slot = (slot + 1) & (slots_.size() - 1)) {
            const std::uint32_t at = slots_[slot];
            if (at == 0) return -1;
            if (key_of(at - 1) == key) return static_cast<std::ptrdiff_t>(at - 1);
        }
    }

  private:
    [[nodiscard]] std::size_t home(const ServiceKey& key) const {
        return static_cast<std::size_t>((ServiceKeyHash{}(key)*0x9e3779b97f4a7c15ULL) >> shift_);
    }

    std::vector<std::uint32_t> slots_;
    int shift_ = 0;
};

const ipvsctl::Destination* find_endpoint(const std::vector<ipvsctl::Destination>& dests,
                                          const ipvsctl::Destination& d) {
    for (const auto& candidate : dests)
        if (candidate.same_endpoint(d)) return &candidate;
    return nullptr;
}

}  // namespace

void DocumentTable::reserve(std::size_t services, std::size_t destinations) {
    services_.reserve(services);
    destinations_.reserve(destinations);
}

std::uint32_t DocumentTable::intern(const std::string& name) {
    // Nearly every service names the same scheduler as the one before.
    if (!names_.empty() && names_.back() == name)
        return static_cast<std::uint32_t>(names_.size() - 1);
    const auto [found, added] =
        name_index_.try_emplace(name, static_cast<std::uint32_t>(names_.size()));
    if (added) names_.push_back(name);
    return found->second;
}

void DocumentTable::append(const ipvsctl::Service& service,
                           const std::vector<ipvsctl::Destination>& dests) {
    Service s;
    s.key = service.key;
    s.flags = service.flags;
    s.timeout = service.timeout;
    s.netmask = service.netmask;
    s.scheduler = intern(service.scheduler);
    s.pe = intern(service.pe_name);
    s.first = static_cast<std::uint32_t>(destinations_.size());
    s.count = static_cast<std::uint32_t>(dests.size());
    services_.push_back(s);
    for (const auto& d : dests) {
        Destination c;
        c.address = d.address;
        c.port = d.port;
        c.method = d.method;
        c.weight = d.weight;
        c.upper_threshold = d.upper_threshold;
        c.lower_threshold = d.lower_threshold;
        c.tunnel_port = d.tunnel_port;
        c.tunnel_flags = d.tunnel_flags;
        c.tunnel_type = d.tunnel_type;
        destinations_.push_back(c);
    }
}

void DocumentTable::expand(const Service& service, ipvsctl::Service& out) const {
    out.key = service.key;
    out.scheduler.assign(names_[service.scheduler]);
    out.flags = service.flags;
    out.timeout = service.timeout;
    out.netmask = service.netmask;
    out.pe_name.assign(names_[service.pe]);
    out.stats = {};
}

void DocumentTable::expand(const Destination& d, ipvsctl::Destination& out) {
    out = ipvsctl::Destination{};
    out.address = d.address;
    out.port = d.port;
    out.method = d.method;
    out.weight = d.weight;
    out.upper_threshold = d.upper_threshold;
    out.lower_threshold = d.lower_threshold;
    out.tunnel_type = d.tunnel_type;
    out.tunnel_port = d.tunnel_port;
    out.tunnel_flags = d.tunnel_flags;
}

Table DocumentTable::to_table() const {
    Table table;
    table.services.resize(services_.size());
    for (std::size_t i = 0; i < services_.size(); ++i) {
        const Service& s = services_[i];
        ServiceEntry& entry = table.services[i];
        expand(s, entry.service);
        entry.destinations.resize(s.count);
        for (std::uint32_t j = 0; j < s.count; ++j)
            expand(destinations_[s.first + j], entry.destinations[j]);
    }
    return table;
}

DocumentTable DocumentTable::from_table(const Table& table) {
    DocumentTable out;
    for (const auto& entry : table.services) out.append(entry.service, entry.destinations);
    return out;
}

Plan plan_document(const Table& current, const DocumentTable& desired, const PlanOptions& options) {
    // The same walk as make_plan (libipvsctl/src/plan.cpp), in the same
    // order: new services with their real servers, then edits and real
    // server changes of kept services, deletions last.
    const auto current_key = [&](std::size_t i) -> const ServiceKey& {
        return current.services[i].service.key;
    };
    const KeyIndex existing(current.services.size(), current_key);
    // Which of current's services (by the first position of its key) the
    // document keeps.
    std::vector<std::uint8_t> kept(options.prune ? current.services.size() : 0);

    Plan plan;
    std::vector<Operation> changes;    // edits and real-server changes of kept services
    std::vector<Operation> deletions;  // real servers first, then services
    ipvsctl::Service service;
    ipvsctl::Destination dest;
    for (const auto& want : desired.services()) {
        const ServiceKey& key = want.key;
        desired.expand(want, service);
        const auto found = existing.find(key, current_key);
        const auto first = desired.destinations().begin() + want.first;
        const auto last = first + want.count;
        if (found < 0) {
            plan.operations.push_back(Operation::add_service(service));
            for (auto d = first; d != last; ++d) {
                DocumentTable::expand(*d, dest);
                plan.operations.push_back(Operation::add_destination(key, dest));
            }
            continue;
        }
        const ServiceEntry& have = current.services[static_cast<std::size_t>(found)];
        if (options.prune) kept[static_cast<std::size_t>(found)] = 1;
        if (!have.service.same_settings(service))
            changes.push_back(Operation::edit_service(service));
        for (auto d = first; d != last; ++d) {
            DocumentTable::expand(*d, dest);
            const ipvsctl::Destination* old = find_endpoint(have.destinations, dest);
            if (old == nullptr)
                changes.push_back(Operation::add_destination(key, dest));
            else if (!old->same_settings(dest))
                changes.push_back(Operation::edit_destination(key, dest));
        }
        if (options.prune)
            for (const auto& old : have.destinations) {
                bool wanted = false;
                for (auto d = first; d != last && !wanted; ++d)
                    wanted = d->address == old.address && d->port == old.port;
                if (!wanted) deletions.push_back(Operation::delete_destination(key, old));
            }
    }
    if (options.prune)
        for (const auto& entry : current.services) {
            const auto at = existing.find(entry.service.key, current_key);
            if (kept[static_cast<std::size_t>(at)] == 0)
                deletions.push_back(Operation::delete_service(entry.service.key));
        }

    plan.operations.reserve(plan.operations.size() + changes.size() + deletions.size());
    for (auto& op : changes) plan.operations.push_back(std::move(op));
    for (auto& op : deletions) plan.operations.push_back(std::move(op));
    return plan;
}

}  // namespace ipvsctl::cli
