// SPDX-License-Identifier: GPL-2.0-or-later
// One fast local real server for bench/healthcheck.sh: listens on
// 0.0.0.0:PORT (a local route in its namespace makes it answer for a whole
// prefix), answers every request with "HTTP/1.0 200 OK" and closes, or,
// when the request is HTTP/1.1 without "Connection: close", with "HTTP/1.1
// 200 OK" and keeps the connection; a TCP check that only connects is
// accepted and closed. It also measures how regularly each address is
// probed: the gap between two probes of one address minus INTERVAL_MS is
// its lateness. A probe is the arrival of a SYN to PORT (seen on a raw
// socket), so a half-open probe (SYN, SYN-ACK, RST: never accepted) counts
// as much as a connection, or of a request on a kept connection after its
// first. SIGUSR1 prints the lateness quantiles of the probes since the last
// SIGUSR1, the SYNs, the requests on kept connections and the accepted
// connections, and starts a new window.
//   bench_responder PORT INTERVAL_MS
#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

constexpr char kReply[] = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
constexpr char kKeptReply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// Whether the request asks to keep the connection (HTTP/1.1's default).
bool keeps_connection(std::string_view request) {
    return request.find(" HTTP/1.1\r\n") != std::string_view::npos &&
           request.find("Connection: close") == std::string_view::npos;
}

std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: bench_responder PORT INTERVAL_MS\n");
        return 2;
    }
    const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    const std::int64_t interval_us = std::atoll(argv[2]) * 1000;

    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listener < 0) die("socket");
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("bind");
    if (::listen(listener, 65535) != 0) die("listen");

    // Every SYN (without ACK) to PORT, IP header first (classic BPF: the
    // socket copies no other segment).
    const int raw = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (raw < 0) die("raw socket");
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),  // fragment offset
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 5, 0),
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),  // X = IP header length
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),   // destination port
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 3),
        BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),  // flags
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 1, 0),  // SYN, no ACK
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_RET | BPF_K, 64),
    };
    const sock_fprog program{sizeof code / sizeof code[0], code};
    if (::setsockopt(raw, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0)
        die("SO_ATTACH_FILTER");
    const int queue = 32 << 20;  // a burst of 10,000 SYNs
    ::setsockopt(raw, SOL_SOCKET, SO_RCVBUFFORCE, &queue, sizeof queue);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGUSR1);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigprocmask(SIG_BLOCK, &signals, nullptr);
    const int signal_fd = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);

    const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = listener;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    event.data.fd = signal_fd;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, signal_fd, &event);
    event.data.fd = raw;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, raw, &event);

    std::unordered_map<std::uint32_t, std::int64_t> last_probe;  // address -> time
    std::vector<std::int64_t> lateness;                          // this window
    std::uint64_t accepted = 0;
    std::uint64_t syns = 0;
    std::uint64_t reused = 0;  // requests on a kept connection after its first
    struct Connection {
        std::uint32_t address = 0;  // the local address: the one probed
        std::uint64_t requests = 0;
    };
    std::vector<Connection> connections;  // by descriptor
    const auto probed = [&](std::uint32_t probed_address) {
        const std::int64_t now = now_us();
        auto [slot, fresh] = last_probe.try_emplace(probed_address, now);
        if (!fresh) {
            lateness.push_back(std::max<std::int64_t>(0, now - slot->second - interval_us));
            slot->second = now;
        }
    };
    std::uint8_t packet[64];
    std::vector<epoll_event> events(256);
    char buffer[4096];
    for (;;) {
        const int ready = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), -1);
        if (ready < 0) continue;
        for (int i = 0; i < ready; ++i) {
            const int fd = events[static_cast<std::size_t>(i)].data.fd;
            if (fd == listener) {
                for (;;) {
                    const int conn =
                        ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (conn < 0) break;
                    ++accepted;
                    if (static_cast<std::size_t>(conn) >= connections.size())
                        connections.resize(static_cast<std::size_t>(conn) + 1);
                    connections[static_cast<std::size_t>(conn)] = {};
                    epoll_event conn_event{};
                    conn_event.events = EPOLLIN | EPOLLRDHUP;
                    conn_event.data.fd = conn;
                    ::epoll_ctl(epoll, EPOLL_CTL_ADD, conn, &conn_event);
                }
            } else if (fd == raw) {
                for (;;) {
                    const ssize_t got = ::recv(raw, packet, sizeof packet, 0);
                    if (got < 0) break;
                    if (got < 20) continue;
                    ++syns;
                    std::uint32_t destination;  // the address probed
                    std::memcpy(&destination, packet + 16, 4);
                    probed(destination);
                }
            } else if (fd == signal_fd) {
                signalfd_siginfo info{};
                if (::read(signal_fd, &info, sizeof info) != sizeof info) continue;
                if (info.ssi_signo != SIGUSR1) return 0;
                std::sort(lateness.begin(), lateness.end());
                const auto at = [&](double q) -> double {
                    if (lateness.empty()) return 0.0;
                    const auto index =
                        static_cast<std::size_t>(q * static_cast<double>(lateness.size() - 1));
                    return static_cast<double>(lateness[index]) / 1000.0;
                };
                std::printf(
                    "probes %zu addresses %zu accepted %llu syns %llu reused %llu lateness_ms "
                    "p50 %.2f p99 %.2f p999 %.2f max %.2f\n",
                    lateness.size(), last_probe.size(), static_cast<unsigned long long>(accepted),
                    static_cast<unsigned long long>(syns), static_cast<unsigned long long>(reused),
                    at(0.5), at(0.99), at(0.999), at(1.0));
                std::fflush(stdout);
                lateness.clear();
                accepted = 0;
                syns = 0;
                reused = 0;
            } else {
                // A request (answer it) or the peer closing (just close).
                const ssize_t got = ::read(fd, buffer, sizeof buffer);
                if (got > 0 && keeps_connection({buffer, static_cast<std::size_t>(got)})) {
                    auto& connection = connections[static_cast<std::size_t>(fd)];
                    if (connection.requests++ == 0) {
                        // The first came with a SYN; the address is needed
                        // only for the requests after it.
                        sockaddr_in local{};
                        socklen_t length = sizeof local;
                        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
                        connection.address = local.sin_addr.s_addr;
                    } else {
                        ++reused;
                        probed(connection.address);
                    }
                    const ssize_t sent = ::write(fd, kKeptReply, sizeof kKeptReply - 1);
                    if (sent == static_cast<ssize_t>(sizeof kKeptReply - 1)) continue;
                } else if (got > 0) {
                    const ssize_t sent = ::write(fd, kReply, sizeof kReply - 1);
                    (void)sent;
                }
                ::close(fd);
            }
        }
    }
}
