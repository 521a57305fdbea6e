// SPDX-License-Identifier: GPL-2.0-or-later
// The daemon's engine (Monitor) against an in-memory kernel that counts what
// reaches it: a reload applies its difference as one plan, without reading
// the kernel's table back, and a plan refused because the kernel changed
// behind the daemon's back is made again from a fresh read.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <string>
#include <vector>

#include "config_fixture.hpp"
#include "kernel.hpp"
#include "monitor.hpp"

using namespace ipvsctl;
using namespace ipvsctl::healthcheck;

namespace {

/// ModelKernel, counting table reads and the plans applied.
class CountingKernel final : public Kernel {
  public:
    Result<Table> table() override {
        ++reads;
        return model.table();
    }
    Result<void> apply(const Plan& plan, const Table& before) override {
        plans.push_back(plan);
        return model.apply(plan, before);
    }
    [[nodiscard]] std::size_t count(OpKind kind) const {
        std::size_t n = 0;
        for (const auto& op : plans.back().operations) n += op.kind == kind ? 1 : 0;
        return n;
    }
    /// "ADDR:PORT" of every destination of every service, sorted.
    [[nodiscard]] std::vector<std::string> endpoints() {
        std::vector<std::string> out;
        for (const auto& entry : (*model.table()).services)
            for (const auto& d : entry.destinations) out.push_back(d.endpoint());
        std::sort(out.begin(), out.end());
        return out;
    }

    ModelKernel model;
    std::size_t reads = 0;
    std::vector<Plan> plans;
};

std::string address(int i, int net) {
    return "10." + std::to_string(net) + "." + std::to_string(i / 250) + "." +
           std::to_string(i % 250 + 1);
}

/// `services` virtual servers of 100 TCP-checked real servers each (as
/// bench/healthcheck.sh writes them); the first `replaced` real servers
/// come from 10.201/16 instead of 10.200/16.
std::string bench_config(int services, int replaced, bool alpha = false) {
    std::string text;
    for (int vs = 0; vs < services; ++vs) {
        text += "virtual_server 10.100.0." + std::to_string(vs + 1) +
                " 80 {\n delay_loop 300\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n";
        if (alpha) text += " alpha\n";
        for (int i = vs * 100; i < vs * 100 + 100; ++i)
            text += " real_server " + address(i, i < replaced ? 201 : 200) +
                    " 80 {\n  weight 1\n  TCP_CHECK {\n   connect_timeout 2\n  }\n }\n";
        text += "}\n";
    }
    return text;
}

std::vector<std::string> expected_endpoints(int servers, int replaced) {
    std::vector<std::string> out;
    for (int i = 0; i < servers; ++i) out.push_back(address(i, i < replaced ? 201 : 200) + ":80");
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("monitor: a reload replacing 10% of the real servers is one plan, no table read",
          "[monitor][reload]") {
    boost::asio::io_context io;  // never run: no probe starts, load() reconciles at once
    FakeClock clock;
    CountingKernel kernel;
    Monitor monitor(io, clock, kernel);

    monitor.load(test_support::parse_ok(bench_config(10, 0)));
    CHECK(kernel.reads == 1);  // start-up adopts what the kernel has
    REQUIRE(kernel.plans.size() == 1);
    CHECK(kernel.count(OpKind::AddService) == 10);
    CHECK(kernel.count(OpKind::AddDestination) == 1000);
    CHECK(kernel.endpoints() == expected_endpoints(1000, 0));

    // New servers start up (no alpha, as in keepalived): added at once,
    // before any probe ran; the replaced ones are deleted.
    monitor.load(test_support::parse_ok(bench_config(10, 100)));
    CHECK(kernel.reads == 1);
    REQUIRE(kernel.plans.size() == 2);
    CHECK(kernel.plans.back().operations.size() == 200);
    CHECK(kernel.count(OpKind::AddDestination) == 100);
    CHECK(kernel.count(OpKind::DeleteDestination) == 100);
    CHECK(kernel.endpoints() == expected_endpoints(1000, 100));

    // The same configuration again changes nothing.
    monitor.load(test_support::parse_ok(bench_config(10, 100)));
    CHECK(kernel.reads == 1);
    CHECK(kernel.plans.size() == 2);

    const auto status = monitor.status();
    CHECK(status["counters"]["kernel_reads"] == 1);
    CHECK(status["counters"]["plans_applied"] == 2);
    CHECK(status["counters"]["operations_applied"] == 1210);
    CHECK(status["counters"]["probes"] == 0);
}

TEST_CASE("monitor: with alpha, the new servers of a reload wait for a passing check",
          "[monitor][reload]") {
    boost::asio::io_context io;
    FakeClock clock;
    CountingKernel kernel;
    Monitor monitor(io, clock, kernel);

    monitor.load(test_support::parse_ok(bench_config(2, 0, true)));
    REQUIRE(kernel.plans.size() == 1);
    CHECK(kernel.count(OpKind::AddDestination) == 0);  // nothing adopted, nothing checked yet
    CHECK(kernel.endpoints().empty());
}

TEST_CASE("monitor: a plan refused because the kernel changed is made again from a fresh read",
          "[monitor][reload]") {
    boost::asio::io_context io;
    FakeClock clock;
    CountingKernel kernel;
    Monitor monitor(io, clock, kernel);

    monitor.load(test_support::parse_ok(bench_config(2, 0)));
    REQUIRE(kernel.reads == 1);
    // Behind the daemon's back: someone deletes the service whose servers
    // the reload replaces.
    const Table table = *kernel.model.table();
    const ServiceKey first = table.services.at(0).service.key;
    REQUIRE(kernel.model.apply(Plan{{Operation::delete_service(first)}}, table));

    monitor.load(test_support::parse_ok(bench_config(2, 10)));
    CHECK(kernel.reads == 2);  // the refusal made it read the kernel again
    REQUIRE(kernel.plans.size() == 3);
    CHECK(kernel.plans[1].operations.size() == 20);   // against the known table: refused
    CHECK(kernel.plans[2].operations.size() == 101);  // the service and its 100 servers
    CHECK(kernel.endpoints() == expected_endpoints(200, 10));
    CHECK(monitor.status()["counters"]["apply_failures"] == 1);
}
