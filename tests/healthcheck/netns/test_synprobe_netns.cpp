// SPDX-License-Identifier: GPL-2.0-or-later
// TCP_CHECK as a half-open SYN probe against real servers in a network
// namespace (see run_netns_tests.sh: listeners on 20000-20249 of HC_SERVER
// and HC_SERVER6, nft counters of the SYNs and handshake ACKs they get),
// and its connect() fallback without CAP_NET_RAW.
#include <arpa/inet.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "healthcheck/session.hpp"
#include "netns_env.hpp"

using namespace ipvsctl;
using namespace ipvsctl::healthcheck;
using namespace std::chrono_literals;
using netns_test::env;
using netns_test::server_counter;

namespace {

config::IpAddress address(const char* variable) {
    return *config::IpAddress::parse(env(variable));
}

ProbeSpec tcp_spec(const config::IpAddress& target, std::uint16_t port, Duration timeout = 2s) {
    return netns_test::tcp_probe_spec(target, port, timeout);
}

struct Probed {
    ProbeOutcome outcome;
    std::chrono::milliseconds took{};
};

/// Probes every spec at once on one fresh event loop (bounded to 15 s).
std::vector<Probed> probe_all(const std::vector<ProbeSpec>& specs, std::string* mode = nullptr) {
    boost::asio::io_context io;
    if (mode != nullptr) *mode = tcp_check_mode(io);
    std::vector<std::shared_ptr<ProbeSession>> sessions;
    std::vector<std::optional<Probed>> results(specs.size());
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < specs.size(); ++i) {
        sessions.push_back(make_session(io, specs[i]));
        sessions.back()->run([&results, i, start](const ProbeOutcome& outcome) {
            results[i] = Probed{outcome, std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - start)};
        });
    }
    io.run_for(15s);
    std::vector<Probed> out;
    for (auto& result : results) {
        REQUIRE(result.has_value());
        out.push_back(*result);
    }
    return out;
}

Probed probe(const ProbeSpec& spec, std::string* mode = nullptr) {
    auto result = probe_all({spec}, mode).front();
    INFO(to_string(result.outcome.reason) << ": " << result.outcome.detail);
    return result;
}

/// Drops CAP_NET_RAW from the effective set for its lifetime (the thread's
/// capabilities: the test runs on one thread), so a raw socket fails with
/// EPERM as it does for an unprivileged daemon.
class WithoutNetRaw {
  public:
    WithoutNetRaw() {
        REQUIRE(::syscall(SYS_capget, &header_, saved_) == 0);
        __user_cap_data_struct lowered[2] = {saved_[0], saved_[1]};
        lowered[CAP_TO_INDEX(CAP_NET_RAW)].effective &= ~CAP_TO_MASK(CAP_NET_RAW);
        REQUIRE(::syscall(SYS_capset, &header_, lowered) == 0);
    }
    ~WithoutNetRaw() { ::syscall(SYS_capset, &header_, saved_); }
    WithoutNetRaw(const WithoutNetRaw&) = delete;
    WithoutNetRaw& operator=(const WithoutNetRaw&) = delete;

  private:
    __user_cap_header_struct header_{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct saved_[2]{};
};

void check_open_closed_hole(const config::IpAddress& server, std::uint16_t open_port,
                            bool half_open) {
    std::string mode;
    const auto open = probe(tcp_spec(server, open_port), &mode);
    INFO(mode);
    CHECK(mode.starts_with(half_open ? "half-open SYN probes" : "connect()"));
    CHECK(open.outcome.success);

    const auto reset = probe(tcp_spec(server, 9));
    CHECK_FALSE(reset.outcome.success);
    CHECK(reset.outcome.reason == FailureReason::refused);
    CHECK(reset.outcome.detail == "Connection refused");
    CHECK(reset.took < 500ms);

    const auto hole = probe(tcp_spec(server, 9999, 700ms));
    CHECK_FALSE(hole.outcome.success);
    CHECK(hole.outcome.reason == FailureReason::timeout);
    CHECK(hole.took >= 650ms);
    CHECK(hole.took < 2s);
}

}  // namespace

TEST_CASE("SYN probe: open, refused and black-holed ports (IPv4 and IPv6)", "[netns][syn]") {
    SECTION("IPv4") {
        check_open_closed_hole(address("HC_SERVER"), 20000, true);
    }
    SECTION("IPv6") {
        check_open_closed_hole(address("HC_SERVER6"), 8080, true);
    }
}

TEST_CASE("SYN probe: a lost SYN is sent again after 1 s, within connect_timeout",
          "[netns][syn][retransmit]") {
    // The server's namespace drops every other SYN to port 20250 (see
    // run_netns_tests.sh): each probe's first SYN is lost.
    for (const char* server : {"HC_SERVER", "HC_SERVER6"}) {
        INFO(server);
        const auto again = probe(tcp_spec(address(server), 20250, 3s));
        CHECK(again.outcome.success);
        CHECK(again.took >= 900ms);
        CHECK(again.took < 2500ms);
        // Too short a timeout for a second SYN: down, as connect() would be.
        const auto lost = probe(tcp_spec(address(server), 20250, 700ms));
        CHECK_FALSE(lost.outcome.success);
        CHECK(lost.outcome.reason == FailureReason::timeout);
        // The rule lets the next SYN through: answered at once, not confused
        // with the probe that timed out.
        const auto next = probe(tcp_spec(address(server), 20250, 3s));
        CHECK(next.outcome.success);
        CHECK(next.took < 900ms);
    }
}

TEST_CASE("SYN probe: latency is the answer's arrival, not its reading", "[netns][syn][latency]") {
    // Answers are read on the next step of the 20 ms wake-up grid; the
    // latency reported comes from the kernel's receive time stamp. Timed at
    // the reading, most of these probes would show 1 to 20 ms.
    int quick = 0;
    for (int i = 0; i < 20; ++i) {
        const auto result = probe(tcp_spec(address("HC_SERVER"), 20002));
        REQUIRE(result.outcome.success);
        CHECK(result.outcome.latency > Duration{0});
        CHECK(result.outcome.latency <= result.took + 1ms);
        if (result.outcome.latency < 1ms) ++quick;
    }
    CHECK(quick >= 15);
}

TEST_CASE("SYN probe: bindto is the source address, or fails as bind() would", "[netns][syn]") {
    for (const char* client : {"HC_CLIENT", "HC_CLIENT6"}) {
        const bool v6 = std::string(client) == "HC_CLIENT6";
        auto spec = tcp_spec(address(v6 ? "HC_SERVER6" : "HC_SERVER"), 20001);
        spec.bindto = address(client);
        INFO(client);
        CHECK(probe(spec).outcome.success);
        // Not an address of this host: no SYN leaves.
        spec.bindto = *config::IpAddress::parse(v6 ? "fd00:18:99::99" : "198.18.99.99");
        const auto foreign = probe(spec);
        CHECK_FALSE(foreign.outcome.success);
        CHECK(foreign.outcome.detail == "Cannot assign requested address");
        CHECK(foreign.took < 500ms);
    }
}

TEST_CASE("SYN probe: 1,000 targets at once, each classified", "[netns][syn][many]") {
    // 250 listening and 250 closed ports on each of the IPv4 and IPv6 addresses.
    std::vector<ProbeSpec> specs;
    for (const char* server : {"HC_SERVER", "HC_SERVER6"}) {
        for (std::uint16_t port = 20000; port < 20250; ++port) {
            specs.push_back(tcp_spec(address(server), port));
            specs.push_back(tcp_spec(address(server), static_cast<std::uint16_t>(port + 1000)));
        }
    }
    const auto syns_before = server_counter("syns");
    const auto acks_before = server_counter("handshake_acks");
    std::string mode;
    const auto results = probe_all(specs, &mode);
    REQUIRE(mode.starts_with("half-open SYN probes"));
    int wrong = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        const bool listening = specs[i].port < 21000;
        const auto& outcome = results[i].outcome;
        if (outcome.success != listening ||
            (!listening && outcome.reason != FailureReason::refused)) {
            UNSCOPED_INFO(specs[i].address.to_string()
                          << " port " << specs[i].port << ": " << to_string(outcome.reason) << " "
                          << outcome.detail);
            ++wrong;
        }
    }
    CHECK(wrong == 0);
    // On the wire: one SYN per listening port, and no handshake completed
    // (the prober's kernel answered each SYN-ACK with RST).
    CHECK(server_counter("syns") - syns_before == 500);
    CHECK(server_counter("handshake_acks") - acks_before == 0);
}

TEST_CASE("without CAP_NET_RAW TCP_CHECK connects as before", "[netns][syn][fallback]") {
    const WithoutNetRaw dropped;
    check_open_closed_hole(address("HC_SERVER"), 20000, false);
    check_open_closed_hole(address("HC_SERVER6"), 8080, false);
    // The same counters see the fallback's completed handshakes: the
    // half-open test above would have seen them too.
    const auto acks_before = server_counter("handshake_acks");
    std::vector<ProbeSpec> specs;
    for (std::uint16_t port = 20000; port < 20010; ++port)
        specs.push_back(tcp_spec(address("HC_SERVER"), port));
    for (const auto& result : probe_all(specs)) CHECK(result.outcome.success);
    CHECK(server_counter("handshake_acks") - acks_before == 10);
}

TEST_CASE("SYN probe: a server on this host, over loopback", "[netns][syn]") {
    // A listener of the test's own: the SYN-ACK comes from this kernel.
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener >= 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    REQUIRE(::listen(listener, 16) == 0);
    socklen_t length = sizeof local;
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&local), &length) == 0);
    const auto loopback = *config::IpAddress::parse("127.0.0.1");
    std::string mode;
    const auto open = probe(tcp_spec(loopback, ntohs(local.sin_port)), &mode);
    CHECK(mode.starts_with("half-open SYN probes"));
    CHECK(open.outcome.success);
    // Half-open: nothing to accept.
    pollfd ready{listener, POLLIN, 0};
    CHECK(::poll(&ready, 1, 100) == 0);
    ::close(listener);
    const auto closed = probe(tcp_spec(loopback, ntohs(local.sin_port)));
    CHECK(closed.outcome.reason == FailureReason::refused);
}

namespace {

/// Sets this namespace's ephemeral port range for the life of the object.
class PortRange {
  public:
    PortRange(unsigned first, unsigned last) {
        std::FILE* file = std::fopen(kPath, "r");
        REQUIRE(file != nullptr);
        REQUIRE(std::fscanf(file, "%u %u", &old_first_, &old_last_) == 2);
        std::fclose(file);
        write(first, last);
    }
    ~PortRange() { write(old_first_, old_last_); }
    PortRange(const PortRange&) = delete;
    PortRange& operator=(const PortRange&) = delete;

  private:
    static void write(unsigned first, unsigned last) {
        std::FILE* file = std::fopen(kPath, "w");
        REQUIRE(file != nullptr);
        std::fprintf(file, "%u %u\n", first, last);
        REQUIRE(std::fclose(file) == 0);
    }
    static constexpr const char* kPath = "/proc/sys/net/ipv4/ip_local_port_range";
    unsigned old_first_ = 0, old_last_ = 0;
};

/// Holds TCP ports of [first, last] except those of [free_first, free_last].
std::vector<int> hold_ports_except(unsigned first, unsigned last, unsigned free_first,
                                   unsigned free_last) {
    std::vector<int> held;
    for (unsigned port = first; port <= last; ++port) {
        if (port >= free_first && port <= free_last) continue;
        const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        const int off = 0;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        sockaddr_in6 any{};
        any.sin6_family = AF_INET6;
        any.sin6_port = htons(static_cast<std::uint16_t>(port));
        const int bound = ::bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any);
        const int error = errno;
        INFO("binding port " << port << ": " << std::strerror(error));
        REQUIRE(bound == 0);
        held.push_back(fd);
    }
    return held;
}

}  // namespace

TEST_CASE("SYN probe: with most source ports taken, a shorter free run serves",
          "[netns][syn][ports]") {
    // 1,000 ports, all taken but 6 in a row and a few lone ones: no run of
    // 32 anywhere, where the probes used to fall back to connect(). The range
    // lies above the default ephemeral one (32768-60999), so no connection
    // an earlier test made can have left a TIME_WAIT on one of its ports.
    const PortRange range(61000, 61999);
    std::vector<int> held = hold_ports_except(61000, 61999, 61500, 61505);
    for (const unsigned lone : {61100u, 61200u, 61300u}) {
        // Freed again: single free ports that must not be chosen.
        for (auto it = held.begin(); it != held.end(); ++it) {
            sockaddr_in6 bound{};
            socklen_t length = sizeof bound;
            ::getsockname(*it, reinterpret_cast<sockaddr*>(&bound), &length);
            if (ntohs(bound.sin6_port) == lone) {
                ::close(*it);
                held.erase(it);
                break;
            }
        }
    }
    std::string mode;
    const auto open = probe(tcp_spec(address("HC_SERVER"), 20003), &mode);
    CHECK(mode == "half-open SYN probes from a raw socket, source ports 61500-61505");
    CHECK(open.outcome.success);
    // Fewer than 4 free in a row: connect(), said so.
    for (const int fd : held) ::close(fd);
    held = hold_ports_except(61000, 61999, 61700, 61702);
    const auto connected = probe(tcp_spec(address("HC_SERVER"), 20003), &mode);
    CHECK(mode.starts_with("connect() (no half-open SYN probes: no free run of 4 source ports"));
    CHECK(connected.outcome.success);
    for (const int fd : held) ::close(fd);
}
