// SPDX-License-Identifier: GPL-2.0-or-later
// The pure plan function and the table model, over many cases.
#include <catch2/catch.hpp>
#include <random>

#include "ipvsctl/plan.hpp"

using namespace ipvsctl;

namespace {

Service svc(const char* addr, std::uint16_t port, const char* sched = "wlc") {
    Service s;
    s.key = ServiceKey::tcp(*Address::parse(addr), port);
    s.scheduler = sched;
    s.netmask = Service::default_netmask(s.key.family);
    return s;
}

Destination dst(const char* addr, std::uint16_t port, std::int32_t weight = 1) {
    Destination d;
    d.address = *Address::parse(addr);
    d.port = port;
    d.weight = weight;
    return d;
}

std::vector<OpKind> kinds(const Plan& plan) {
    std::vector<OpKind> result;
    for (const auto& op : plan.operations) result.push_back(op.kind);
    return result;
}

/// Applies a plan to a model of `current` and returns the resulting table.
Table simulate(const Table& current, const Plan& plan) {
    TableModel model(current);
    for (const auto& op : plan.operations) {
        const auto applied = model.apply(op);
        INFO(op.describe());
        REQUIRE(applied.ok());
    }
    return model.table();
}

bool tables_equal(const Table& a, const Table& b) {
    const Table na = TableModel(a).table();
    const Table nb = TableModel(b).table();
    if (na.services.size() != nb.services.size()) return false;
    for (std::size_t i = 0; i < na.services.size(); ++i) {
        const auto& x = na.services[i];
        const auto& y = nb.services[i];
        if (!x.service.same_settings(y.service)) return false;
        if (x.destinations.size() != y.destinations.size()) return false;
        for (const auto& d : x.destinations) {
            bool found = false;
            for (const auto& e : y.destinations) found = found || d.same_settings(e);
            if (!found) return false;
        }
    }
    return true;
}

}  // namespace

TEST_CASE("identical tables need no plan") {
    Table t{{{svc("10.0.0.1", 80), {dst("10.1.0.1", 80), dst("10.1.0.2", 80)}}}};
    CHECK(make_plan(t, t).empty());
    CHECK(make_plan(t, t, {.prune = true}).empty());
    // Counters differ, settings do not.
    Table counted = t;
    counted.services[0].service.stats.conns = 7;
    counted.services[0].destinations[0].active_conns = 3;
    CHECK(make_plan(counted, t, {.prune = true}).empty());
}

TEST_CASE("a new service is added with its destinations") {
    Table desired{{{svc("10.0.0.1", 80), {dst("10.1.0.1", 80), dst("10.1.0.2", 80)}}}};
    const Plan plan = make_plan({}, desired);
    CHECK(kinds(plan) ==
          std::vector{OpKind::AddService, OpKind::AddDestination, OpKind::AddDestination});
}

TEST_CASE("changed settings become edits, never delete and re-add") {
    Table current{{{svc("10.0.0.1", 80, "wlc"), {dst("10.1.0.1", 80, 1)}}}};
    Table desired{{{svc("10.0.0.1", 80, "rr"), {dst("10.1.0.1", 80, 5)}}}};
    desired.services[0].service.flags = service_flags::persistent;
    desired.services[0].service.timeout = 600;
    const Plan plan = make_plan(current, desired, {.prune = true});
    CHECK(kinds(plan) == std::vector{OpKind::EditService, OpKind::EditDestination});
    CHECK(plan.operations[0].service.scheduler == "rr");
    CHECK(plan.operations[1].destination.weight == 5);

    // Changing the forwarding method or tunnel settings is an edit too.
    desired = current;
    desired.services[0].destinations[0].method = ForwardMethod::Tunnel;
    desired.services[0].destinations[0].tunnel_type = TunnelType::GRE;
    CHECK(kinds(make_plan(current, desired)) == std::vector{OpKind::EditDestination});
}

TEST_CASE("prune decides whether extra objects are deleted") {
    Table current{{{svc("10.0.0.1", 80), {dst("10.1.0.1", 80), dst("10.1.0.9", 80)}},
                   {svc("10.0.0.2", 80), {}}}};
    Table desired{{{svc("10.0.0.1", 80), {dst("10.1.0.1", 80)}}}};
    CHECK(make_plan(current, desired).empty());
    const Plan pruned = make_plan(current, desired, {.prune = true});
    CHECK(kinds(pruned) == std::vector{OpKind::DeleteDestination, OpKind::DeleteService});
    CHECK(pruned.operations[0].destination.address == *Address::parse("10.1.0.9"));
    CHECK(pruned.operations[1].service.key == svc("10.0.0.2", 80).key);
}

TEST_CASE("deletions come after additions and edits") {
    Table current{{{svc("10.0.0.1", 80), {dst("10.1.0.1", 80)}}, {svc("10.0.0.2", 80), {}}}};
    Table desired{{{svc("10.0.0.1", 80, "rr"), {dst("10.1.0.2", 80)}}, {svc("10.0.0.3", 80), {}}}};
    const Plan plan = make_plan(current, desired, {.prune = true});
    CHECK(kinds(plan) == std::vector{OpKind::AddService, OpKind::EditService,
                                     OpKind::AddDestination, OpKind::DeleteDestination,
                                     OpKind::DeleteService});
}

TEST_CASE("duplicate services in the desired table: the first one counts") {
    Table desired{{{svc("10.0.0.1", 80, "rr"), {}}, {svc("10.0.0.1", 80, "wlc"), {}}}};
    const Plan plan = make_plan({}, desired);
    REQUIRE(plan.operations.size() == 1);
    CHECK(plan.operations[0].service.scheduler == "rr");
}

TEST_CASE("fwmark and IPv6 services are planned like any other") {
    Service mark;
    mark.key = ServiceKey::mark(5);
    Service v6 = svc("2001:db8::1", 443);
    Table desired{{{mark, {dst("10.1.0.1", 0)}}, {v6, {dst("2001:db8:1::1", 443)}}}};
    const Plan plan = make_plan({}, desired);
    CHECK(plan.operations.size() == 4);
    CHECK(tables_equal(simulate({}, plan), desired));
}

TEST_CASE("the model refuses what the kernel refuses") {
    TableModel model;
    const Service s = svc("10.0.0.1", 80);
    CHECK(model.apply(Operation::add_service(s)).ok());
    auto again = model.apply(Operation::add_service(s));
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().errnum == EEXIST);
    CHECK(again.error().message() == "add service TCP 10.0.0.1:80: service already exists");

    const ServiceKey missing = svc("10.0.0.2", 80).key;
    CHECK(model.apply(Operation::edit_service(svc("10.0.0.2", 80))).error().errnum == ESRCH);
    CHECK(model.apply(Operation::delete_service(missing)).error().errnum == ESRCH);
    CHECK(model.apply(Operation::add_destination(missing, dst("10.1.0.1", 80))).error().errnum ==
          ESRCH);
    CHECK(model.apply(Operation::zero(missing)).error().errnum == ESRCH);

    CHECK(model.apply(Operation::add_destination(s.key, dst("10.1.0.1", 80))).ok());
    CHECK(model.apply(Operation::add_destination(s.key, dst("10.1.0.1", 80))).error().errnum ==
          EEXIST);
    CHECK(model.apply(Operation::edit_destination(s.key, dst("10.1.0.2", 80))).error().errnum ==
          ENOENT);
    CHECK(model.apply(Operation::delete_destination(s.key, dst("10.1.0.2", 80))).error().errnum ==
          ENOENT);
    CHECK(model.apply(Operation::edit_destination(s.key, dst("10.1.0.1", 80, 9))).ok());
    CHECK(model.table().services[0].destinations[0].weight == 9);
    CHECK(model.apply(Operation::delete_destination(s.key, dst("10.1.0.1", 80))).ok());
    CHECK(model.table().services[0].destinations.empty());
    CHECK(model.apply(Operation::flush()).ok());
    CHECK(model.service_count() == 0);
}

TEST_CASE("random tables: applying the plan yields the desired table") {
    std::mt19937 rng(12345);
    const char* scheds[] = {"rr", "wrr", "wlc", "sh"};
    auto random_table = [&]() {
        Table t;
        const int services = static_cast<int>(rng() % 12);
        for (int i = 0; i < services; ++i) {
            // Small address space so that random tables overlap.
            Service s =
                svc("10.0.0.1", static_cast<std::uint16_t>(80 + rng() % 10), scheds[rng() % 4]);
            if (t.find(s.key) != nullptr) continue;
            ServiceEntry e{s, {}};
            // Now and then more than a handful, planned through the hashed index.
            const int dests = static_cast<int>(rng() % 4 == 0 ? rng() % 40 : rng() % 5);
            for (int j = 0; j < dests; ++j) {
                const std::string address = "10.1.0." + std::to_string(1 + rng() % 8);
                Destination d = dst(address.c_str(), static_cast<std::uint16_t>(80 + rng() % 6),
                                    static_cast<std::int32_t>(rng() % 4));
                bool dup = false;
                for (const auto& x : e.destinations) dup = dup || x.same_endpoint(d);
                if (!dup) e.destinations.push_back(d);
            }
            t.services.push_back(e);
        }
        return t;
    };
    for (int round = 0; round < 500; ++round) {
        const Table current = random_table();
        const Table desired = random_table();
        const Plan plan = make_plan(current, desired, {.prune = true});
        INFO("round " << round);
        CHECK(tables_equal(simulate(current, plan), desired));
        // Nothing present in both is deleted.
        for (const auto& op : plan.operations)
            if (op.kind == OpKind::DeleteService) CHECK(desired.find(op.service.key) == nullptr);
        // Applying again changes nothing: plans are idempotent.
        CHECK(make_plan(simulate(current, plan), desired, {.prune = true}).empty());
    }
}
