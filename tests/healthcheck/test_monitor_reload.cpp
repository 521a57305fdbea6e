// SPDX-License-Identifier: GPL-2.0-or-later
// The daemon's engine (Monitor) against an in-memory kernel that counts what
// reaches it: a reload applies its difference as one plan, without reading
// the kernel's table back, and a plan refused because the kernel changed
// behind the daemon's back is made again from a fresh read.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config_fixture.hpp"
#include "counting_kernel.hpp"
#include "kernel.hpp"
#include "monitor.hpp"

using namespace ipvsctl;
using namespace ipvsctl::healthcheck;
using testing::CountingKernel;
using testing::server_address;

namespace {

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
            text += " real_server " + server_address(i, i < replaced ? 201 : 200) +
                    " 80 {\n  weight 1\n  TCP_CHECK {\n   connect_timeout 2\n  }\n }\n";
        text += "}\n";
    }
    return text;
}

std::vector<std::string> expected_endpoints(int servers, int replaced) {
    std::vector<std::string> out;
    for (int i = 0; i < servers; ++i)
        out.push_back(server_address(i, i < replaced ? 201 : 200) + ":80");
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
    CHECK(kernel.loop_reads == 1);  // start-up adopts what the kernel has
    REQUIRE(kernel.plans.size() == 1);
    CHECK(kernel.count(OpKind::AddService) == 10);
    CHECK(kernel.count(OpKind::AddDestination) == 1000);
    CHECK(kernel.endpoints() == expected_endpoints(1000, 0));

    // New servers start up (no alpha, as in keepalived): added at once,
    // before any probe ran; the replaced ones are deleted.
    monitor.load(test_support::parse_ok(bench_config(10, 100)));
    CHECK(kernel.loop_reads == 1);
    REQUIRE(kernel.plans.size() == 2);
    CHECK(kernel.plans.back().operations.size() == 200);
    CHECK(kernel.count(OpKind::AddDestination) == 100);
    CHECK(kernel.count(OpKind::DeleteDestination) == 100);
    CHECK(kernel.endpoints() == expected_endpoints(1000, 100));

    // The same configuration again changes nothing.
    monitor.load(test_support::parse_ok(bench_config(10, 100)));
    CHECK(kernel.loop_reads == 1);
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
    REQUIRE(kernel.loop_reads == 1);
    // Behind the daemon's back: someone deletes the service whose servers
    // the reload replaces.
    const Table table = *kernel.model.table();
    const ServiceKey first = table.services.at(0).service.key;
    REQUIRE(kernel.model.apply(Plan{{Operation::delete_service(first)}}, table));

    monitor.load(test_support::parse_ok(bench_config(2, 10)));
    CHECK(kernel.loop_reads == 2);  // the refusal made it read the kernel again
    REQUIRE(kernel.plans.size() == 3);
    CHECK(kernel.plans[1].operations.size() == 20);   // against the known table: refused
    CHECK(kernel.plans[2].operations.size() == 101);  // the service and its 100 servers
    CHECK(kernel.endpoints() == expected_endpoints(200, 10));
    CHECK(monitor.status()["counters"]["apply_failures"] == 1);
}

namespace {

/// The status entry of real server `server` of virtual server `service`.
nlohmann::json server_status(const nlohmann::json& status, const std::string& service,
                             const std::string& server) {
    for (const auto& vs : status["virtual_servers"])
        if (vs["service"] == service)
            for (const auto& rs : vs["real_servers"])
                if (rs["server"] == server) return rs;
    return nullptr;
}

/// Runs the loop until `probes` probes have started and `outcomes` of them
/// have come back (seen as consecutive counts), at most 5 s.
void run_probes(boost::asio::io_context& io, Monitor& monitor, std::uint64_t probes,
                const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline &&
           (monitor.counters().probes < probes || !done()))
        io.run_for(std::chrono::milliseconds(20));
    // The last outcome's reconcile may still be posted (a slice can end
    // right after the probe): run it before the caller reads the kernel.
    io.restart();
    io.poll();
}

/// Virtual servers of TCP-checked real servers on 127.0.0.x:`port`:
/// each entry is (virtual server address, [(real server address, connect_timeout)]).
std::string loopback_config(
    std::uint16_t port,
    const std::vector<std::pair<std::string, std::vector<std::pair<std::string, int>>>>& layout) {
    std::string text;
    for (const auto& [vs, servers] : layout) {
        text += "virtual_server " + vs +
                " 80 {\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n alpha\n";
        for (const auto& [rs, timeout] : servers)
            text += " real_server " + rs + " " + std::to_string(port) +
                    " {\n  TCP_CHECK {\n   connect_timeout " + std::to_string(timeout) +
                    "\n  }\n }\n";
        text += "}\n";
    }
    return text;
}

}  // namespace

TEST_CASE("monitor: a reload keeps the check state of unchanged checkers only",
          "[monitor][reload]") {
    boost::asio::io_context io;
    FakeClock clock;
    CountingKernel kernel;
    Monitor monitor(io, clock, kernel);
    // 127.0.0.1:port accepts (the backlog is enough), 127.0.0.2:port refuses.
    boost::asio::ip::tcp::acceptor listening(
        io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    const std::uint16_t port = listening.local_endpoint().port();
    const std::string up = "127.0.0.1:" + std::to_string(port);
    const std::string refused = "127.0.0.2:" + std::to_string(port);
    const std::string added = "127.0.0.3:" + std::to_string(port);

    // 127.0.0.1 serves two virtual servers: one probe target, two checkers.
    monitor.load(test_support::parse_ok(
        loopback_config(port, {{"10.100.0.1", {{"127.0.0.1", 1}, {"127.0.0.2", 1}}},
                               {"10.100.0.2", {{"127.0.0.1", 1}}}})));
    CHECK(monitor.target_count() == 2);
    CHECK(kernel.endpoints().empty());  // alpha: nothing before a check passed
    clock.advance(std::chrono::seconds(2));
    const auto counts = [&](const std::string& service, const std::string& server) {
        const auto entry = server_status(monitor.status(), service, server);
        const auto& checker = entry["checkers"][0];
        return std::pair{checker["consecutive_successes"].get<int>(),
                         checker["consecutive_failures"].get<int>()};
    };
    run_probes(io, monitor, 2, [&] {
        return counts("10.100.0.1:80/tcp", up).first == 1 &&
               counts("10.100.0.2:80/tcp", up).first == 1 &&
               counts("10.100.0.1:80/tcp", refused).second == 1;
    });
    auto status = monitor.status();
    REQUIRE(server_status(status, "10.100.0.1:80/tcp", up)["state"] == "up");
    REQUIRE(server_status(status, "10.100.0.2:80/tcp", up)["state"] == "up");
    REQUIRE(server_status(status, "10.100.0.1:80/tcp", refused)["state"] == "down");
    const auto transitions = status["counters"]["transitions"].get<int>();
    CHECK(kernel.endpoints() == std::vector<std::string>{up, up});

    // A new virtual server first (every index moves), 127.0.0.2's checker
    // changed (a new target, state from the start), 127.0.0.3 added.
    monitor.load(test_support::parse_ok(
        loopback_config(port, {{"10.100.0.9", {{"127.0.0.3", 1}}},
                               {"10.100.0.1", {{"127.0.0.1", 1}, {"127.0.0.2", 2}}},
                               {"10.100.0.2", {{"127.0.0.1", 1}}}})));
    CHECK(monitor.target_count() == 3);
    status = monitor.status();
    CHECK(status["counters"]["transitions"] == transitions);
    CHECK(server_status(status, "10.100.0.1:80/tcp", up)["state"] == "up");
    CHECK(counts("10.100.0.1:80/tcp", up) == std::pair{1, 0});
    CHECK(counts("10.100.0.2:80/tcp", up) == std::pair{1, 0});
    // alpha: the changed checker starts over, with no verdict yet.
    CHECK(server_status(status, "10.100.0.1:80/tcp", refused)["state"] == "unknown");
    CHECK(counts("10.100.0.1:80/tcp", refused) == std::pair{0, 0});
    CHECK(counts("10.100.0.9:80/tcp", added) == std::pair{0, 0});
    CHECK(kernel.endpoints() == std::vector<std::string>{up, up});

    // The next round reaches every checker through the new layout.
    clock.advance(std::chrono::seconds(3));
    run_probes(io, monitor, 5, [&] {
        return counts("10.100.0.1:80/tcp", up).first == 2 &&
               counts("10.100.0.2:80/tcp", up).first == 2 &&
               counts("10.100.0.1:80/tcp", refused).second == 1 &&
               counts("10.100.0.9:80/tcp", added).second == 1;
    });
    CHECK(counts("10.100.0.1:80/tcp", up) == std::pair{2, 0});
    CHECK(counts("10.100.0.2:80/tcp", up) == std::pair{2, 0});
    CHECK(counts("10.100.0.1:80/tcp", refused) == std::pair{0, 1});
    CHECK(counts("10.100.0.9:80/tcp", added) == std::pair{0, 1});
    monitor.stop();
}

namespace {

/// What the daemon does on start and reload: a load through a ReloadCache,
/// whose result tells the monitor which virtual servers are unchanged.
/// With `lean`, the unchanged ones come without real servers
/// (LoadOptions::lean_unchanged) and the monitor carries its own state of
/// them; if it cannot, the file is read again in full, as the daemon does.
struct CachedLoader {
    config::ReloadCache cache;
    config::LoadResult last;
    bool lean = false;
    std::size_t lean_loads = 0;  ///< the monitor took the lean result
    std::size_t fallbacks = 0;   ///< it refused it: read in full
    std::shared_ptr<const config::Config> operator()(const std::string& text,
                                                     bool lean_now = false) {
        config::LoadOptions options;
        options.lean_unchanged = lean_now;
        last = config::parse_config(text, "reload.conf", options, cache);
        REQUIRE(last.ok());
        return last.config;
    }
    /// Loads `text` into `monitor` as the daemon does: the monitor shares
    /// the cache's copy without checkers (taken after the load).
    void into(Monitor& monitor, const std::string& text) {
        auto config = (*this)(text, lean);
        if (last.lean) {
            REQUIRE(last.unchanged_from != nullptr);
            if (monitor.load(config, &last.unchanged, cache.kept(), last.unchanged_from, true)) {
                ++lean_loads;
                return;
            }
            ++fallbacks;
            cache.clear();
            config = (*this)(text);
        }
        REQUIRE(monitor.load(std::move(config), &last.unchanged, cache.kept()));
    }
};

}  // namespace

TEST_CASE("monitor: a reload told which virtual servers are unchanged plans only the others",
          "[monitor][reload]") {
    boost::asio::io_context io;  // never run: no probe starts, load() reconciles at once
    FakeClock clock;
    CountingKernel kernel;
    Monitor monitor(io, clock, kernel);
    CachedLoader load;
    load.lean = GENERATE(false, true);
    INFO("lean " << load.lean);

    load.into(monitor, bench_config(10, 0));
    REQUIRE(kernel.plans.size() == 1);
    CHECK(kernel.endpoints() == expected_endpoints(1000, 0));

    // The first virtual server's block changed; nine are byte for byte the same.
    load.into(monitor, bench_config(10, 100));
    CHECK(load.last.reused_servers == 9);
    CHECK(kernel.loop_reads == 1);
    REQUIRE(kernel.plans.size() == 2);
    CHECK(kernel.plans.back().operations.size() == 200);
    for (const auto& op : kernel.plans.back().operations)
        CHECK(op.service.key.to_string() == "TCP 10.100.0.1:80");
    CHECK(kernel.endpoints() == expected_endpoints(1000, 100));
    CHECK(monitor.target_count() == 1000);

    // A virtual server goes away: its service is in the scope and removed.
    std::string fewer = bench_config(10, 100);
    fewer = fewer.substr(0, fewer.rfind("virtual_server "));
    load.into(monitor, fewer);
    REQUIRE(kernel.plans.size() == 3);
    CHECK(kernel.count(OpKind::DeleteService) == 1);
    CHECK(kernel.plans.back().operations.size() == 1);
    CHECK(monitor.target_count() == 900);

    // Back to the full file: the kernel is what a monitor without hints makes.
    load.into(monitor, bench_config(10, 0));
    CHECK(kernel.endpoints() == expected_endpoints(1000, 0));
    CountingKernel fresh_kernel;
    Monitor fresh(io, clock, fresh_kernel);
    fresh.load(test_support::parse_ok(bench_config(10, 0)));
    CHECK(fresh_kernel.endpoints() == kernel.endpoints());
    CHECK(monitor.target_count() == fresh.target_count());
    CHECK(load.lean_loads == (load.lean ? 3 : 0));
    CHECK(load.fallbacks == 0);
}

TEST_CASE("monitor: unchanged virtual servers carried over keep their check state and probes",
          "[monitor][reload]") {
    boost::asio::io_context io;
    FakeClock clock;
    CountingKernel kernel;
    Monitor monitor(io, clock, kernel);
    CachedLoader load;
    load.lean = GENERATE(false, true);
    INFO("lean " << load.lean);
    boost::asio::ip::tcp::acceptor listening(
        io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    const std::uint16_t port = listening.local_endpoint().port();
    const std::string up = "127.0.0.1:" + std::to_string(port);
    const std::string refused = "127.0.0.2:" + std::to_string(port);
    const std::string added = "127.0.0.3:" + std::to_string(port);

    load.into(monitor, loopback_config(port, {{"10.100.0.1", {{"127.0.0.1", 1}, {"127.0.0.2", 1}}},
                                              {"10.100.0.2", {{"127.0.0.1", 1}}}}));
    clock.advance(std::chrono::seconds(2));
    const auto counts = [&](const std::string& service, const std::string& server) {
        const auto entry = server_status(monitor.status(), service, server);
        const auto& checker = entry["checkers"][0];
        return std::pair{checker["consecutive_successes"].get<int>(),
                         checker["consecutive_failures"].get<int>()};
    };
    run_probes(io, monitor, 2, [&] {
        return counts("10.100.0.1:80/tcp", up).first == 1 &&
               counts("10.100.0.2:80/tcp", up).first == 1 &&
               counts("10.100.0.1:80/tcp", refused).second == 1;
    });
    CHECK(kernel.endpoints() == std::vector<std::string>{up, up});

    // A new virtual server first (every index and line moves); 10.100.0.1
    // changed, 10.100.0.2 is carried over as it is.
    load.into(monitor, loopback_config(port, {{"10.100.0.9", {{"127.0.0.3", 1}}},
                                              {"10.100.0.1", {{"127.0.0.1", 1}, {"127.0.0.2", 2}}},
                                              {"10.100.0.2", {{"127.0.0.1", 1}}}}));
    CHECK(load.last.unchanged == std::vector<bool>{false, false, true});
    CHECK(monitor.target_count() == 3);
    auto status = monitor.status();
    CHECK(server_status(status, "10.100.0.2:80/tcp", up)["state"] == "up");
    CHECK(counts("10.100.0.2:80/tcp", up) == std::pair{1, 0});
    CHECK(counts("10.100.0.1:80/tcp", up) == std::pair{1, 0});
    CHECK(server_status(status, "10.100.0.1:80/tcp", refused)["state"] == "unknown");
    CHECK(kernel.endpoints() == std::vector<std::string>{up, up});

    // The shared target reaches the carried checker and the other one.
    clock.advance(std::chrono::seconds(3));
    run_probes(io, monitor, 5, [&] {
        return counts("10.100.0.1:80/tcp", up).first == 2 &&
               counts("10.100.0.2:80/tcp", up).first == 2 &&
               counts("10.100.0.9:80/tcp", added).second == 1;
    });
    CHECK(counts("10.100.0.2:80/tcp", up) == std::pair{2, 0});
    CHECK(counts("10.100.0.1:80/tcp", up) == std::pair{2, 0});
    CHECK(counts("10.100.0.9:80/tcp", added) == std::pair{0, 1});
    CHECK(load.lean_loads == (load.lean ? 1 : 0));
    CHECK(load.fallbacks == 0);
    monitor.stop();
}

TEST_CASE("monitor: a lean reload it cannot carry over changes nothing; the full one is applied",
          "[monitor][reload]") {
    boost::asio::io_context io;  // never run: no probe starts, load() reconciles at once
    FakeClock clock;
    CountingKernel kernel;
    Monitor monitor(io, clock, kernel);
    CachedLoader load;
    load.lean = true;

    SECTION("the monitor's configuration is not the one the cache compared with") {
        // Started from its own copy (as when nftables rewrote the
        // configuration): a lean result cannot be used.
        load(bench_config(10, 0));
        REQUIRE(monitor.load(test_support::parse_ok(bench_config(10, 0))));
    }
    SECTION("an unchanged virtual server the monitor does not know") {
        // The monitor was given a configuration without the last virtual
        // server, but told it shares the cache's (a caller's mistake).
        load(bench_config(10, 0));
        auto fewer = std::make_shared<config::Config>(*load.last.config);
        fewer->virtual_servers.pop_back();
        auto fewer_kept = std::make_shared<config::Config>(*load.cache.kept());
        fewer_kept->virtual_servers.pop_back();
        REQUIRE(monitor.load(fewer, nullptr, fewer_kept));
        // Claim the cache's kept() is what the monitor has: only the key
        // lookup can catch it.
        const auto config = load(bench_config(10, 100), true);
        REQUIRE(config->virtual_servers.back().real_servers.empty());
        const auto before = kernel.plans.size();
        REQUIRE(load.last.lean);
        CHECK_FALSE(
            monitor.load(config, &load.last.unchanged, load.cache.kept(), fewer_kept, true));
        CHECK(kernel.plans.size() == before);
        CHECK(monitor.target_count() == 900);
        load.cache.clear();
        REQUIRE(monitor.load(load(bench_config(10, 100))));
        CHECK(kernel.endpoints() == expected_endpoints(1000, 100));
        return;
    }
    const auto plans = kernel.plans.size();
    const auto config = load(bench_config(10, 100), true);
    REQUIRE(load.last.lean);
    CHECK_FALSE(monitor.load(config, &load.last.unchanged, load.cache.kept(),
                             load.last.unchanged_from, true));
    // Nothing changed: no plan, the same targets, the old table.
    CHECK(kernel.plans.size() == plans);
    CHECK(monitor.target_count() == 1000);
    CHECK(kernel.endpoints() == expected_endpoints(1000, 0));

    // As the daemon does: the lean result is refused, the file read in full
    // and the difference applied.
    load.into(monitor, bench_config(10, 100));
    CHECK(load.fallbacks == 1);
    CHECK(load.lean_loads == 0);
    CHECK(kernel.endpoints() == expected_endpoints(1000, 100));
    CHECK(monitor.target_count() == 1000);
    monitor.stop();
}
