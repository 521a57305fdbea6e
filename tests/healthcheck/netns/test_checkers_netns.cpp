// SPDX-License-Identifier: GPL-2.0-or-later
// Every checker against real servers in a network namespace (see
// run_netns_tests.sh, which sets the HC_* variables and runs this inside
// the client namespace).
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "healthcheck/http_response.hpp"
#include "healthcheck/session.hpp"
#include "netns_env.hpp"

using namespace ipvsctl;
using namespace ipvsctl::healthcheck;
using namespace std::chrono_literals;
using netns_test::env;

namespace {

ProbeSpec spec_for(config::CheckerType type, std::uint16_t port, Duration timeout = 2s) {
    ProbeSpec spec =
        netns_test::tcp_probe_spec(*config::IpAddress::parse(env("HC_SERVER")), port, timeout);
    spec.type = type;
    return spec;
}

ProbeSpec http_spec(bool tls, std::string path, std::optional<std::string> digest = std::nullopt,
                    std::vector<std::pair<int, int>> status = {}) {
    ProbeSpec spec = spec_for(tls ? config::CheckerType::ssl_get : config::CheckerType::http_get,
                              tls ? 8443 : 8080);
    config::HttpCheck http;
    http.tls = tls;
    http.urls.push_back(
        config::HttpUrl{{}, std::move(path), std::move(digest), std::move(status), {}});
    spec.set_details(http);
    return spec;
}

ProbeSpec misc_spec(std::string command, Duration timeout = 2s, bool dynamic = false) {
    ProbeSpec spec = spec_for(config::CheckerType::misc_check, 0);
    config::MiscCheck misc;
    misc.path = std::move(command);
    misc.timeout = timeout;
    misc.dynamic = dynamic;
    spec.set_details(misc);
    return spec;
}

struct Probed {
    ProbeOutcome outcome;
    std::chrono::milliseconds took{};
};

/// Runs one probe to completion on a fresh event loop (bounded to 15 s).
Probed probe(const ProbeSpec& spec, const SessionOptions& options = {}) {
    boost::asio::io_context io;
    auto session = make_session(io, spec, options);
    std::optional<ProbeOutcome> result;
    const auto start = std::chrono::steady_clock::now();
    session->run([&](const ProbeOutcome& outcome) { result = outcome; });
    io.run_for(15s);
    REQUIRE(result.has_value());
    INFO(to_string(result->reason) << ": " << result->detail);
    return {*result, std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start)};
}

}  // namespace

TEST_CASE("TCP_CHECK: open, reset and black-holed ports", "[netns][tcp]") {
    const auto open = probe(spec_for(config::CheckerType::tcp_check, 8080));
    CHECK(open.outcome.success);

    const auto reset = probe(spec_for(config::CheckerType::tcp_check, 9));
    CHECK_FALSE(reset.outcome.success);
    CHECK(reset.outcome.reason == FailureReason::refused);
    CHECK(reset.took < 500ms);

    const auto hole = probe(spec_for(config::CheckerType::tcp_check, 9999, 700ms));
    CHECK_FALSE(hole.outcome.success);
    CHECK(hole.outcome.reason == FailureReason::timeout);
    CHECK(hole.took >= 650ms);
    CHECK(hole.took < 2s);
}

TEST_CASE("TCP_CHECK: bindto picks the source address", "[netns][tcp]") {
    auto spec = spec_for(config::CheckerType::tcp_check, 8080);
    spec.bindto = *config::IpAddress::parse(env("HC_CLIENT"));
    CHECK(probe(spec).outcome.success);
    spec.bindto = *config::IpAddress::parse("198.18.99.99");  // not ours: bind fails
    CHECK_FALSE(probe(spec).outcome.success);
}

namespace {

/// Sockets of `port` (either end) in TIME_WAIT in /proc/net/tcp: this
/// namespace's, or the server's with `server_side`.
int time_waits(std::uint16_t port, bool server_side) {
    const std::string command =
        server_side ? "ip netns exec " + env("HC_SERVER_NETNS") + " cat /proc/net/tcp"
                    : std::string("cat /proc/net/tcp");
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char hex[8];
    std::snprintf(hex, sizeof hex, ":%04X", port);
    int found = 0;
    char line[512];
    while (std::fgets(line, sizeof line, pipe) != nullptr) {
        // "sl local_address rem_address st ...": TIME_WAIT is state 06.
        std::istringstream fields(line);
        std::string slot, local, remote, state;
        fields >> slot >> local >> remote >> state;
        const bool ours = local.ends_with(hex) || remote.ends_with(hex);
        if (ours && state == "06") ++found;
    }
    ::pclose(pipe);
    return found;
}

}  // namespace

TEST_CASE("a finished probe is closed with RST: no TIME_WAIT on either end", "[netns][rst]") {
    // A fixed source port names this probe's connection in /proc/net/tcp.
    constexpr std::uint16_t kSourcePort = 40123;
    auto tcp = spec_for(config::CheckerType::tcp_check, 8080);
    tcp.bindto = *config::IpAddress::parse(env("HC_CLIENT"));
    tcp.bind_port = kSourcePort;
    // TCP_CHECK still means "connected": up, although the connection is reset.
    REQUIRE(probe(tcp).outcome.success);
    CHECK(time_waits(kSourcePort, false) == 0);
    CHECK(time_waits(kSourcePort, true) == 0);

    // HTTP_GET: the whole reply is read (digest checked) before the reset.
    auto http = http_spec(false, "/healthz", http::body_digest("ok\n"));
    http.bindto = tcp.bindto;
    http.bind_port = kSourcePort + 1;
    REQUIRE(probe(http).outcome.success);
    CHECK(time_waits(kSourcePort + 1, false) == 0);
    CHECK(time_waits(kSourcePort + 1, true) == 0);
}

TEST_CASE("idle HTTP sessions keep no read or request buffers", "[netns][http][memory]") {
    // 10,000 targets idle between probes: a buffer kept per session would
    // cost 10,000 times its size. Measured as heap in use after every
    // session has finished one probe, against before.
    constexpr int kSessions = 100;
    boost::asio::io_context io;
    std::vector<std::shared_ptr<ProbeSession>> sessions;
    const auto spec = http_spec(false, "/healthz");
    for (int i = 0; i < kSessions; ++i) sessions.push_back(make_session(io, spec));
    // One probe first: what the io_context's probe poller allocates once
    // (its epoll set, its one read buffer) is not per session.
    bool warmed = false;
    const auto first = make_session(io, spec);
    first->run([&](const ProbeOutcome& outcome) { warmed = outcome.success; });
    io.run_for(5s);
    REQUIRE(warmed);
    const auto before = ::mallinfo2().uordblks;
    int succeeded = 0;
    for (auto& session : sessions) {
        session->run([&](const ProbeOutcome& outcome) { succeeded += outcome.success ? 1 : 0; });
        io.restart();
        io.run_for(5s);
    }
    REQUIRE(succeeded == kSessions);
    const auto after = ::mallinfo2().uordblks;
    INFO("heap in use grew by " << (after - before) << " bytes over " << kSessions << " sessions");
    // Counters and strings stay; a 4 KiB read buffer each would be 400 KiB.
    CHECK(after < before + kSessions * 512);
}

TEST_CASE("HTTP_GET: status, digest, chunked body, virtual host", "[netns][http]") {
    CHECK(probe(http_spec(false, "/healthz")).outcome.success);
    CHECK(probe(http_spec(false, "/healthz", http::body_digest("ok\n"))).outcome.success);
    CHECK(probe(http_spec(false, "/chunked", http::body_digest("ok\n"))).outcome.success);

    const auto wrong_digest = probe(http_spec(false, "/healthz", std::string(32, '0')));
    CHECK(wrong_digest.outcome.reason == FailureReason::http_digest);

    const auto missing = probe(http_spec(false, "/missing"));
    CHECK(missing.outcome.reason == FailureReason::http_status);
    CHECK(probe(http_spec(false, "/missing", std::nullopt, {{400, 404}})).outcome.success);

    auto vhost = http_spec(false, "/host", http::body_digest("www.example.org"));
    auto vhost_http = std::get<config::HttpCheck>(*vhost.details);
    vhost_http.virtualhost = "www.example.org";
    vhost.set_details(vhost_http);
    CHECK(probe(vhost).outcome.success);
    for (const char* protocol : {"1.0", "1.0C", "1.1"}) {
        vhost_http.http_protocol = protocol;
        vhost.set_details(vhost_http);
        CHECK(probe(vhost).outcome.success);
    }
}

namespace {

/// Runs `probes` probes of `spec` one after another on one session; returns
/// their outcomes and how many connections they opened to the server.
std::pair<std::vector<ProbeOutcome>, std::uint64_t> probe_in_turn(
    const ProbeSpec& spec, int probes, Duration pause = Duration::zero()) {
    boost::asio::io_context io;
    auto session = make_session(io, spec);
    const auto syns_before = netns_test::server_counter("http_syns");
    std::vector<ProbeOutcome> outcomes;
    for (int i = 0; i < probes; ++i) {
        if (i > 0) std::this_thread::sleep_for(pause);
        std::optional<ProbeOutcome> result;
        session->run([&](const ProbeOutcome& outcome) { result = outcome; });
        io.restart();
        io.run_for(5s);  // returns once the probe is done: a kept connection is not watched
        REQUIRE(result.has_value());
        INFO(to_string(result->reason) << ": " << result->detail);
        outcomes.push_back(*result);
    }
    return {outcomes, netns_test::server_counter("http_syns") - syns_before};
}

ProbeSpec reusing(ProbeSpec spec, bool reuse = true) {
    auto http = std::get<config::HttpCheck>(*spec.details);
    http.reuse_connection = reuse;
    spec.set_details(http);
    return spec;
}

/// Whether every probe succeeded; the failures are logged.
bool all_succeeded(const std::vector<ProbeOutcome>& outcomes) {
    bool all = true;
    for (const auto& outcome : outcomes) {
        if (outcome.success) continue;
        UNSCOPED_INFO("failed: " << to_string(outcome.reason) << ": " << outcome.detail);
        all = false;
    }
    return all;
}

}  // namespace

TEST_CASE("HTTP_GET with reuse_connection keeps one connection", "[netns][http][reuse]") {
    const auto keep = http_spec(false, "/keep", http::body_digest("ok\n"));
    SECTION("kept across probes and urls, where a connection per probe is the default") {
        auto [kept, kept_syns] = probe_in_turn(reusing(keep), 4);
        CHECK(all_succeeded(kept));
        CHECK(kept_syns == 1);
        auto [fresh, fresh_syns] = probe_in_turn(reusing(keep, false), 4);
        CHECK(all_succeeded(fresh));
        CHECK(fresh_syns == 4);

        auto two_urls = reusing(keep);
        auto http = std::get<config::HttpCheck>(*two_urls.details);
        http.urls.push_back(http.urls.front());
        two_urls.set_details(http);
        auto [both, both_syns] = probe_in_turn(two_urls, 2);
        CHECK(all_succeeded(both));
        CHECK(both_syns == 1);
    }
    SECTION("a reply with Connection: close is not kept") {
        auto [outcomes, syns] = probe_in_turn(reusing(http_spec(false, "/healthz")), 3);
        CHECK(all_succeeded(outcomes));
        CHECK(syns == 3);
    }
    SECTION("the server closed it while idle: a new one, no failure") {
        auto [outcomes, syns] = probe_in_turn(reusing(http_spec(false, "/keep-briefly")), 3, 600ms);
        CHECK(all_succeeded(outcomes));
        CHECK(syns == 3);
    }
    SECTION("the server closed it instead of replying: asked again on a new one") {
        auto [outcomes, syns] = probe_in_turn(reusing(http_spec(false, "/once")), 3);
        CHECK(all_succeeded(outcomes));
        CHECK(syns == 3);
    }
    SECTION("a server that is down still fails") {
        auto down = reusing(keep);
        down.port = 9;
        auto [outcomes, syns] = probe_in_turn(down, 2);
        for (const auto& outcome : outcomes) CHECK(outcome.reason == FailureReason::refused);
    }
}

namespace {

/// The descriptors that this process's epoll sets watch ("tfd:" in fdinfo).
std::vector<int> epoll_watched_fds() {
    std::vector<int> watched;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        if (std::filesystem::read_symlink(entry.path(), ec).string() != "anon_inode:[eventpoll]")
            continue;
        std::ifstream info("/proc/self/fdinfo/" + entry.path().filename().string());
        for (std::string word; info >> word;) {
            int fd;
            if (word == "tfd:" && info >> fd) watched.push_back(fd);
        }
    }
    return watched;
}

/// This process's TCP sockets connected to `port`.
std::vector<int> sockets_connected_to(std::uint16_t port) {
    std::vector<int> found;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        const int fd = std::stoi(entry.path().filename().string());
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) continue;
        const std::uint16_t peer_port = peer.ss_family == AF_INET6
                                            ? ntohs(reinterpret_cast<sockaddr_in6&>(peer).sin6_port)
                                            : ntohs(reinterpret_cast<sockaddr_in&>(peer).sin_port);
        if (peer_port == port) found.push_back(fd);
    }
    return found;
}

}  // namespace

TEST_CASE("HTTP_GET: probes driven on the wake-up grid, outside epoll", "[netns][http][grid]") {
    // The request goes out on the grid step after connect(), the reply is
    // read on a later one: the socket is never in an epoll set, and the
    // latency is still the reply's arrival after the request.
    boost::asio::io_context io;
    const auto socket_fds = [] {
        std::vector<int> fds;
        for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
            std::error_code ec;
            if (std::filesystem::read_symlink(entry.path(), ec).string().starts_with("socket:"))
                fds.push_back(std::stoi(entry.path().filename().string()));
        }
        std::sort(fds.begin(), fds.end());
        return fds;
    };
    const auto before = socket_fds();
    auto session = make_session(io, http_spec(false, "/healthz", http::body_digest("ok\n")));
    std::vector<Duration> latencies;
    for (int i = 0; i < 9; ++i) {
        std::optional<ProbeOutcome> result;
        const auto start = std::chrono::steady_clock::now();
        session->run([&](const ProbeOutcome& outcome) { result = outcome; });
        io.restart();
        io.run_for(5s);
        REQUIRE(result.has_value());
        INFO(to_string(result->reason) << ": " << result->detail);
        CHECK(result->success);
        // Two grid steps at least: one to send, one to read.
        CHECK(std::chrono::steady_clock::now() - start > 20ms);
        latencies.push_back(result->latency);
        const auto now = socket_fds();
        std::vector<int> kept;
        std::set_difference(now.begin(), now.end(), before.begin(), before.end(),
                            std::back_inserter(kept));
        REQUIRE(kept.size() == 1);  // the idle socket, kept for the next probe
        const auto watched = epoll_watched_fds();
        CHECK(std::find(watched.begin(), watched.end(), kept.front()) == watched.end());
    }
    std::sort(latencies.begin(), latencies.end());
    INFO("median latency " << latencies[latencies.size() / 2].count() << " us");
    CHECK(latencies[latencies.size() / 2] > Duration::zero());
    CHECK(latencies[latencies.size() / 2] < 5ms);

    SECTION("a handshake slower than a grid step is waited for by epoll") {
        auto slow = http_spec(false, "/healthz", http::body_digest("ok\n"));
        slow.port = 8081;  // the first SYN is lost: about 1 s to connect
        slow.connect_timeout = 3s;
        const auto late = probe(slow);
        INFO(to_string(late.outcome.reason) << ": " << late.outcome.detail);
        CHECK(late.outcome.success);
        CHECK(late.took > 800ms);
        CHECK(late.outcome.latency < 500ms);  // request to reply; the handshake is not in it
    }
}

TEST_CASE("HTTP_GET with reuse_connection reads replies on the wake-up grid",
          "[netns][http][reuse]") {
    // Between the first probe and the last, the kept connection is in no
    // epoll set: its replies wake no one, they are read on the next step
    // of the grid on which the checks wake up.
    boost::asio::io_context io;
    auto session = make_session(io, reusing(http_spec(false, "/keep", http::body_digest("ok\n"))));
    std::vector<ProbeOutcome> outcomes;
    for (int i = 0; i < 9; ++i) {
        // Probes a delay_loop apart, not back to back: a request sent within
        // the delayed-ACK timeout of the last reply puts the connection in
        // interactive mode, and this server's reply in two writes would wait
        // 40 ms for our delayed ACK (its Nagle holds the body).
        std::this_thread::sleep_for(300ms);
        std::optional<ProbeOutcome> result;
        session->run([&](const ProbeOutcome& outcome) { result = outcome; });
        io.restart();
        io.run_for(5s);
        REQUIRE(result.has_value());
        outcomes.push_back(*result);
        const auto kept = sockets_connected_to(8080);
        REQUIRE(kept.size() == 1);
        const auto watched = epoll_watched_fds();
        CHECK(std::find(watched.begin(), watched.end(), kept.front()) == watched.end());
    }
    CHECK(all_succeeded(outcomes));
    // A reply read up to a grid step (20 ms) after it came still reports
    // when it came (the kernel's receive time stamp): the median of the
    // kept connection's probes is well under the grid's 10 ms mean.
    std::vector<Duration> latencies;
    for (std::size_t i = 1; i < outcomes.size(); ++i) latencies.push_back(outcomes[i].latency);
    std::sort(latencies.begin(), latencies.end());
    INFO("median latency " << latencies[latencies.size() / 2].count() << " us");
    CHECK(latencies[latencies.size() / 2] < 5ms);

    SECTION("a reply that comes after a grid step, and a large one") {
        auto [paused, paused_syns] =
            probe_in_turn(reusing(http_spec(false, "/keep-pause", http::body_digest("ok\n"))), 3);
        CHECK(all_succeeded(paused));
        CHECK(paused_syns == 1);
        for (const auto& outcome : paused) CHECK(outcome.latency >= 50ms);
        auto [big, big_syns] = probe_in_turn(
            reusing(http_spec(false, "/keep-big", http::body_digest(std::string(100000, 'x')))), 3);
        CHECK(all_succeeded(big));
        CHECK(big_syns == 1);
    }
}

TEST_CASE("HTTP_GET: connect_ip/port and a slow server", "[netns][http]") {
    auto spec = http_spec(false, "/healthz");
    spec.port = 9;  // the real server's port is closed...
    CHECK_FALSE(probe(spec).outcome.success);
    spec.port = 8080;  // ...the check goes to connect_port
    CHECK(probe(spec).outcome.success);

    auto slow = http_spec(false, "/slow");
    slow.connect_timeout = 800ms;
    const auto late = probe(slow);
    CHECK(late.outcome.reason == FailureReason::timeout);
    CHECK(late.took < 2s);
}

TEST_CASE("HTTP_GET: reset and black-holed ports, a large reply, several urls", "[netns][http]") {
    auto reset = http_spec(false, "/healthz");
    reset.port = 9;
    const auto refused = probe(reset);
    CHECK(refused.outcome.reason == FailureReason::refused);
    CHECK(refused.took < 500ms);

    auto hole = http_spec(false, "/healthz");
    hole.port = 9999;
    hole.connect_timeout = 700ms;
    const auto silent = probe(hole);
    CHECK(silent.outcome.reason == FailureReason::timeout);
    CHECK(silent.took >= 650ms);
    CHECK(silent.took < 2s);

    // 100,000 bytes arrive over many reads (and edges) before the digest.
    CHECK(probe(http_spec(false, "/big", http::body_digest(std::string(100000, 'x'))))
              .outcome.success);
    CHECK(probe(http_spec(false, "/big", http::body_digest(std::string(99999, 'x'))))
              .outcome.reason == FailureReason::http_digest);

    // Every url over its own connection, in turn; the first that fails names itself.
    auto several = http_spec(false, "/healthz");
    auto urls = std::get<config::HttpCheck>(*several.details);
    urls.urls.push_back(config::HttpUrl{{}, "/chunked", http::body_digest("ok\n"), {}, {}});
    several.set_details(urls);
    const auto both = probe(several);
    CHECK(both.outcome.success);
    urls.urls.push_back(config::HttpUrl{{}, "/missing", {}, {}, {}});
    several.set_details(urls);
    const auto third = probe(several);
    CHECK(third.outcome.reason == FailureReason::http_status);
    CHECK(third.outcome.detail == "/missing: status 404");
}

namespace {

/// The sockets this process holds, as their "socket:[inode]" names.
std::vector<std::string> open_sockets() {
    std::vector<std::string> sockets;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        const auto target = std::filesystem::read_symlink(entry.path(), ec).string();
        if (!ec && target.starts_with("socket:")) sockets.push_back(target);
    }
    std::sort(sockets.begin(), sockets.end());
    return sockets;
}

}  // namespace

TEST_CASE("HTTP_GET: one socket serves probe after probe, however each ended",
          "[netns][http][pool]") {
    // A finished probe's socket is disconnected (connect(AF_UNSPEC)), not
    // closed, and the next probe on the same loop connects it again: after
    // a reply, a refusal, a timeout in SYN_SENT, a reply over many reads.
    boost::asio::io_context io;
    const auto run = [&io](const ProbeSpec& spec) {
        auto session = make_session(io, spec);
        std::optional<ProbeOutcome> result;
        session->run([&](const ProbeOutcome& outcome) { result = outcome; });
        io.restart();
        io.run_for(15s);
        REQUIRE(result.has_value());
        return *result;
    };
    const auto before = open_sockets();
    const auto good = http_spec(false, "/healthz", http::body_digest("ok\n"));
    REQUIRE(run(good).success);
    auto kept = open_sockets();
    REQUIRE(kept.size() == before.size() + 1);  // the one idle socket

    auto refused = good;
    refused.port = 9;
    auto hole = good;
    hole.port = 9999;
    hole.connect_timeout = 700ms;
    const auto big = http_spec(false, "/big", http::body_digest(std::string(100000, 'x')));
    const std::vector<std::pair<const ProbeSpec*, FailureReason>> steps{
        {&refused, FailureReason::refused}, {&good, FailureReason::none},
        {&hole, FailureReason::timeout},    {&good, FailureReason::none},
        {&big, FailureReason::none},        {&good, FailureReason::none}};
    for (const auto& [spec, expected] : steps) {
        const auto outcome = run(*spec);
        INFO("port " << spec->port << ": " << to_string(outcome.reason) << ": " << outcome.detail);
        CHECK(outcome.reason == expected);
        CHECK(outcome.success == (expected == FailureReason::none));
        CHECK(open_sockets() == kept);  // the same socket, no other
    }
    // Every connection ended with a reset: none in TIME_WAIT on either end.
    CHECK(time_waits(8080, false) == 0);
    CHECK(time_waits(8080, true) == 0);

    // An IPv6 target gets a socket of its own family, kept beside the IPv4 one.
    auto good6 = good;
    good6.address = *config::IpAddress::parse(env("HC_SERVER6"));
    REQUIRE(run(good6).success);
    const auto both = open_sockets();
    CHECK(both.size() == kept.size() + 1);
    const std::vector<const ProbeSpec*> turns{&good, &good6, &good6, &good};
    for (const ProbeSpec* turn : turns) {
        CHECK(run(*turn).success);
        CHECK(open_sockets() == both);
    }
}

TEST_CASE("SSL_GET: TLS with SNI and optional verification", "[netns][tls]") {
    CHECK(probe(http_spec(true, "/healthz", http::body_digest("ok\n"))).outcome.success);

    auto sni = http_spec(true, "/sni", http::body_digest("checker.example"));
    auto details = std::get<config::HttpCheck>(*sni.details);
    details.enable_sni = true;
    details.sni_name = "checker.example";
    sni.set_details(details);
    CHECK(probe(sni).outcome.success);

    SessionOptions verify;
    verify.tls_verify = true;
    verify.ca_file = env("HC_CA_FILE");
    CHECK(probe(sni, verify).outcome.success);
    details.sni_name = "other.example";  // certificate is for checker.example
    sni.set_details(details);
    CHECK(probe(sni, verify).outcome.reason == FailureReason::tls);

    SessionOptions system_store;
    system_store.tls_verify = true;  // self-signed: unknown to the system store
    CHECK(probe(http_spec(true, "/healthz"), system_store).outcome.reason == FailureReason::tls);

    // TLS spoken to a plain HTTP port fails as TLS.
    auto plain_port = http_spec(true, "/healthz");
    plain_port.port = 8080;
    CHECK(probe(plain_port).outcome.reason == FailureReason::tls);
}

TEST_CASE("MISC_CHECK: exit status, misc_dynamic, timeout", "[netns][misc]") {
    CHECK(probe(misc_spec("exit 0")).outcome.success);
    CHECK(probe(misc_spec("exit 1")).outcome.reason == FailureReason::script_failed);
    CHECK(probe(misc_spec("exit 3")).outcome.reason == FailureReason::script_failed);

    const auto dynamic = probe(misc_spec("exit 7", 2s, true));
    CHECK(dynamic.outcome.success);
    CHECK(dynamic.outcome.weight == 5);
    CHECK_FALSE(probe(misc_spec("exit 1", 2s, true)).outcome.success);

    // The script and its children are killed at the timeout.
    const auto slow = probe(misc_spec("sleep 30 & sleep 30", 400ms));
    CHECK(slow.outcome.reason == FailureReason::timeout);
    CHECK(slow.took < 2s);

    // The script sees the network of the checker.
    CHECK(probe(misc_spec("bash -c \"exec 3<>/dev/tcp/" + env("HC_SERVER") + "/8080\""))
              .outcome.success);
}

TEST_CASE("a session probes repeatedly; counters add up", "[netns][session]") {
    boost::asio::io_context io;
    auto session = make_session(io, spec_for(config::CheckerType::tcp_check, 8080));
    int done = 0;
    std::function<void(const ProbeOutcome&)> again = [&](const ProbeOutcome&) {
        if (++done < 5) session->run(again);
    };
    session->run(again);
    io.run_for(10s);
    CHECK(done == 5);
    CHECK(session->counters().started == 5);
    CHECK(session->counters().succeeded == 5);
}
