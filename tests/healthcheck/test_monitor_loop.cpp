// SPDX-License-Identifier: GPL-2.0-or-later
// What keeps long work off the daemon's event loop: drift-repair reads of the
// kernel's table on the reader thread (a read that started before one of the
// daemon's own plans is stale and made again; a plan only when the kernel
// drifted), and metrics rendered in slices (the same text as in one go).
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "config_fixture.hpp"
#include "counting_kernel.hpp"
#include "kernel.hpp"
#include "monitor.hpp"

using namespace ipvsctl;
using namespace ipvsctl::healthcheck;
using testing::CountingKernel;
using testing::server_address;

namespace {

/// `services` virtual servers of `per` real servers each; the first
/// `replaced` come from 10.201/16 instead of 10.200/16. Without `checks` no
/// probe ever runs (servers without checkers are up).
std::string config_text(int services, int per, int replaced, bool checks) {
    std::string text;
    for (int vs = 0; vs < services; ++vs) {
        text += "virtual_server 10.100.0." + std::to_string(vs + 1) +
                " 80 {\n delay_loop 300\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n";
        for (int i = vs * per; i < vs * per + per; ++i) {
            text += " real_server " + server_address(i, i < replaced ? 201 : 200) +
                    " 80 {\n  weight 3\n";
            if (checks) text += "  TCP_CHECK {\n   connect_timeout 2\n  }\n";
            text += " }\n";
        }
        text += "}\n";
    }
    return text;
}

/// Runs the loop until `done`, at most 10 s.
void run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline)
        io.run_one_for(std::chrono::milliseconds(10));
}

}  // namespace

TEST_CASE("monitor: a repair read started before one of our own plans is discarded and made again",
          "[monitor][repair]") {
    boost::asio::io_context io;
    FakeClock clock;
    CountingKernel kernel(CountingKernel::Reads::background);
    Monitor monitor(io, clock, kernel);

    monitor.load(test_support::parse_ok(config_text(2, 50, 0, false)));
    REQUIRE(kernel.plans.size() == 1);
    CHECK(kernel.loop_reads == 1);  // start-up adopts what the kernel has, on the loop

    // A repair read takes its snapshot of the table, then a reload replaces
    // ten servers before the read's result reaches the loop.
    kernel.hold_next_read();
    monitor.repair_now();
    kernel.wait_until_held();
    monitor.load(test_support::parse_ok(config_text(2, 50, 10, false)));
    REQUIRE(kernel.plans.size() == 2);
    const auto after_reload = kernel.destinations();
    kernel.release();

    run_until(io, [&] { return monitor.counters().repair_reads == 2; });
    CHECK(kernel.background_reads == 2);  // the stale read and its replacement
    CHECK(monitor.counters().repair_reads == 2);
    CHECK(monitor.counters().stale_reads == 1);
    // Planned from the stale read, the repair would add the ten new servers
    // again and delete the ten old ones: refused, and a read on the loop.
    CHECK(kernel.plans.size() == 2);
    CHECK(monitor.counters().apply_failures == 0);
    CHECK(monitor.counters().drift_repairs == 0);
    CHECK(kernel.loop_reads == 1);
    CHECK(kernel.destinations() == after_reload);
    monitor.stop();
}

TEST_CASE("monitor: drift repair plans only when the kernel differs from what the daemon applied",
          "[monitor][repair]") {
    boost::asio::io_context io;
    FakeClock clock;
    CountingKernel kernel(CountingKernel::Reads::background);
    Monitor monitor(io, clock, kernel);

    monitor.load(test_support::parse_ok(config_text(2, 50, 0, false)));
    REQUIRE(kernel.plans.size() == 1);
    const auto wanted = kernel.destinations();
    REQUIRE(wanted.size() == 100);
    const auto reconciles = monitor.counters().reconciles;

    // Nothing changed: the read is compared off the loop, nothing is planned.
    monitor.repair_now();
    run_until(io, [&] { return monitor.counters().repair_reads == 1; });
    CHECK(monitor.counters().repair_reads == 1);
    CHECK(monitor.counters().drift_repairs == 0);
    CHECK(monitor.counters().reconciles == reconciles);
    CHECK(kernel.plans.size() == 1);
    CHECK(kernel.loop_reads == 1);

    // Behind the daemon's back: a server deleted, another one's weight changed.
    const Table table = *kernel.model.table();
    const auto& entry = table.services.at(0);
    Destination reweighted = entry.destinations.at(1);
    reweighted.weight = 7;
    REQUIRE(kernel.model.apply(
        Plan{{Operation::delete_destination(entry.service.key, entry.destinations.at(0)),
              Operation::edit_destination(entry.service.key, reweighted)}},
        table));
    REQUIRE(kernel.destinations() != wanted);

    monitor.repair_now();
    run_until(io, [&] { return monitor.counters().repair_reads == 2; });
    CHECK(monitor.counters().drift_repairs == 1);
    REQUIRE(kernel.plans.size() == 2);
    const auto& repair = kernel.plans.back().operations;
    REQUIRE(repair.size() == 2);
    CHECK(std::count_if(repair.begin(), repair.end(), [](const Operation& op) {
              return op.kind == OpKind::AddDestination;
          }) == 1);
    CHECK(std::count_if(repair.begin(), repair.end(), [](const Operation& op) {
              return op.kind == OpKind::EditDestination;
          }) == 1);
    CHECK(kernel.destinations() == wanted);
    CHECK(monitor.counters().apply_failures == 0);

    // Repaired: the next read finds nothing to do.
    monitor.repair_now();
    run_until(io, [&] { return monitor.counters().repair_reads == 3; });
    CHECK(monitor.counters().drift_repairs == 1);
    CHECK(kernel.plans.size() == 2);
    monitor.stop();
}

namespace {

/// Renders in slices of no time at all (a slice per 64 items), counting the
/// loop handlers run until the text is there.
std::string render_sliced(boost::asio::io_context& io, Monitor& monitor, std::size_t& handlers,
                          const std::function<void()>& after_first = {}) {
    std::optional<std::string> text;
    monitor.metrics_async([&](std::string rendered) { text = std::move(rendered); }, Duration{0});
    handlers = 0;
    while (!text && io.run_one_for(std::chrono::seconds(1)) > 0) {
        if (++handlers == 5 && after_first) after_first();
    }
    REQUIRE(text);
    return *text;
}

}  // namespace

TEST_CASE("monitor: metrics rendered in slices are the text rendered in one go",
          "[monitor][metrics]") {
    boost::asio::io_context io;
    FakeClock clock;
    CountingKernel kernel(CountingKernel::Reads::background);
    Monitor monitor(io, clock, kernel);
    monitor.load(test_support::parse_ok(config_text(10, 100, 0, true)));
    // No probe runs: the state is the same for both renders.
    monitor.stop();

    const std::string whole = monitor.metrics();
    REQUIRE(whole.find("healthcheckd_check_latency_seconds{virtual_server=\"10.100.0.10:80/tcp\","
                       "real_server=\"10.200.3.250:80\",checker=\"TCP_CHECK#0\"} 0") !=
            std::string::npos);
    REQUIRE(whole.find("healthcheckd_loop_stall_max_seconds{work=\"repair\"}") !=
            std::string::npos);
    std::size_t handlers = 0;
    const std::string sliced = render_sliced(io, monitor, handlers);
    CHECK(handlers > 50);  // 1,000 servers in eight families, 64 items a slice
    CHECK(sliced == whole);
    // Its slices are noted once it is done.
    CHECK(monitor.stall_max(LoopWork::metrics) > Duration{0});
}

TEST_CASE("monitor: a load during a sliced metrics render starts it over", "[monitor][metrics]") {
    boost::asio::io_context io;
    FakeClock clock;
    CountingKernel kernel(CountingKernel::Reads::background);
    Monitor monitor(io, clock, kernel);
    monitor.load(test_support::parse_ok(config_text(10, 100, 0, true)));
    monitor.stop();

    std::string expected;
    std::size_t handlers = 0;
    const std::string sliced = render_sliced(io, monitor, handlers, [&] {
        // Replaces the servers and checkers the render has indexed so far.
        monitor.load(test_support::parse_ok(config_text(5, 100, 200, true)));
        expected = monitor.metrics();
    });
    REQUIRE(!expected.empty());
    CHECK(sliced == expected);
    CHECK(sliced.find("real_server=\"10.201.0.1:80\"") != std::string::npos);
    CHECK(sliced.find("virtual_server=\"10.100.0.6:80/tcp\"") == std::string::npos);
}
