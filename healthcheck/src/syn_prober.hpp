// SPDX-License-Identifier: GPL-2.0-or-later
// Half-open TCP_CHECK probes (private to the library): a SYN from a raw
// socket, and the answer read from it, with no socket per probe.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "healthcheck/probe_spec.hpp"
#include "healthcheck/tcp_segment.hpp"

namespace ipvsctl::healthcheck::detail {

/// One per io_context (an Asio service), used from the loop's thread only.
///
/// A probe is a SYN sent from a raw socket (batched with the other SYNs of
/// the same loop turn into one sendmmsg) and the answer read back from it
/// (recvmmsg, many answers per call) on the next step of the wake-up grid
/// (kWakeGrid), when the checks' own wake-up comes: SYN-ACK means up, exactly when
/// connect() would have succeeded; RST means refused. The source ports are
/// a small range held by bound, never listening TCP sockets: no local socket
/// can take them, so the kernel itself answers the SYN-ACK with RST (RFC
/// 9293 section 3.10.7.1, no socket for the segment) and the server never
/// accepts a connection. A probe is 3 packets and no socket; its system
/// calls (sendmmsg, recvmmsg) are shared with the probes of the same
/// moment (the 4-packet connect-and-reset probe made 5 of its own).
///
/// Needs CAP_NET_RAW; without it enabled() is false and TCP_CHECK keeps
/// connecting (see tcp_check.cpp).
class SynProber final : public boost::asio::execution_context::service {
  public:
    /// Told the answer to a probe, from the loop: 0 (SYN-ACK), ECONNREFUSED
    /// (RST), ETIMEDOUT (none within the deadline) or the error that kept
    /// the SYN from being sent; `latency`, when above zero, is the time
    /// from the SYN to the answer's arrival (the kernel's receive time
    /// stamp), which the answer's later reading does not count.
    class Waiter {
      public:
        virtual void on_answer(int error, Duration latency) = 0;

      protected:
        ~Waiter() = default;
    };

    /// Where the answer to a probe is expected: the server's address and
    /// port, and the local port the SYN came from.
    struct Key {
        std::array<std::uint8_t, 16> address{};
        std::uint16_t remote_port = 0;
        std::uint16_t local_port = 0;
        bool v6 = false;
        friend bool operator==(const Key&, const Key&) = default;
    };

    /// A probe in flight, held by its checker.
    struct Ticket {
        Key key;
        bool active = false;
    };

    static inline boost::asio::execution_context::id id;

    explicit SynProber(boost::asio::execution_context& context);
    ~SynProber() override;

    static SynProber& of(boost::asio::io_context& io) {
        return boost::asio::use_service<SynProber>(io);
    }

    /// How TCP_CHECK probes, for the log: the SYN probe and its ports, or
    /// connect() and why.
    [[nodiscard]] const std::string& mode() const { return mode_; }
    [[nodiscard]] bool enabled() const { return raw4_ >= 0; }

    /// Starts a probe of `spec`'s target: 0 when the SYN is on its way (the
    /// answer goes to `waiter`, ETIMEDOUT after `deadline` without one,
    /// unless cancel() comes first), an errno when
    /// it cannot be sent (no route, bindto not local), -1 when this probe
    /// must connect() instead (disabled, IPv6 unavailable, bind_port set,
    /// every source port busy for this target).
    int start(const ProbeSpec& spec, Duration deadline, Waiter& waiter, Ticket& ticket);
    /// Forgets the probe of `ticket`, if in flight; an answer is ignored.
    void cancel(Ticket& ticket);

  private:
    struct KeyHash {
        std::size_t operator()(const Key& key) const noexcept;
    };
    /// A SYN waiting for the next sendmmsg.
    struct Outgoing {
        Key key;
        std::array<std::uint8_t, tcp::kIpv4HeaderSize + tcp::kTcpHeaderSize> bytes{};
        std::uint8_t length = 0;
        std::optional<config::IpAddress> source;  ///< IPv6 bindto (IPV6_PKTINFO)
    };
    struct Pending {
        Waiter* waiter = nullptr;
        Ticket* ticket = nullptr;
        std::uint32_t isn = 0;
        std::int64_t started_realtime_ns = 0;  ///< the answers' time stamps are wall-clock
        Outgoing syn;                          ///< sent again when no answer comes (see sweep)
    };
    using PendingMap = std::pmr::unordered_map<Key, Pending, KeyHash>;
    /// The source address of IPv4 SYNs to one destination (routing's choice).
    struct Route {
        std::array<std::uint8_t, 4> source{};
        std::chrono::steady_clock::time_point expires;
    };
    /// When a probe's SYN is sent again or, at `final`, the probe times out
    /// (stale once answered: its ISN is gone).
    struct Deadline {
        std::chrono::steady_clock::time_point at;
        Key key;
        std::uint32_t isn = 0;
        std::chrono::steady_clock::time_point final;
        Duration retransmit_after{};  ///< the wait that ends at `at`
        bool operator>(const Deadline& other) const { return at > other.at; }
    };
    static constexpr std::size_t kBatch = 64;
    /// Room for an IPv4 header with options and a TCP header with options.
    static constexpr std::size_t kReadSize = 128;
    /// recvmmsg's messages, set up once (see drain).
    struct Receiving {
        std::array<mmsghdr, kBatch> messages{};
        std::array<iovec, kBatch> vectors{};
        std::array<sockaddr_in6, kBatch> sources{};
        std::array<std::array<std::uint8_t, kReadSize>, kBatch> buffers{};
        std::array<std::array<char, CMSG_SPACE(sizeof(timespec))>, kBatch> controls{};
    };
    struct Local {
        int error = 0;  ///< of binding to the address: 0 when it is ours
        std::chrono::steady_clock::time_point expires;
    };

    void shutdown() override;
    bool open(std::string& why);
    bool reserve_ports(std::string& why);
    int source_for(const config::IpAddress& destination, std::uint16_t port,
                   std::array<std::uint8_t, 4>& source);
    int check_local(const config::IpAddress& address);
    std::uint32_t next_isn();
    void queue(Outgoing outgoing);
    void flush();
    void send(bool v6, std::vector<Outgoing>& batch);
    void fail(const Key& probe, int error);
    void arm_read();
    void read_answers();
    void drain(bool v6);
    void answer(const tcp::Segment& segment, bool v6, std::int64_t arrived_realtime_ns);
    void finish(PendingMap::iterator probe, int result, Duration latency = {});
    void arm_sweep();
    void sweep();

    boost::asio::io_context& io_;
    std::string mode_;
    /// Plain descriptors, not in the loop's epoll set: answers are read on
    /// the grid (arm_read), and a registered socket woke the loop for each
    /// arrival all the same (Asio registers edge-triggered reads).
    int raw4_ = -1;
    int raw6_ = -1;
    int udp4_ = -1;  ///< connected to a destination to learn routing's source address
    std::vector<int> port_holders_;
    std::uint16_t first_port_ = 0;
    std::uint16_t port_count_ = 0;
    std::uint32_t port_cursor_ = 0;
    std::uint64_t rng_state_ = 0;
    /// Recycles the nodes of pending_ (a probe's insert and erase allocated
    /// and freed one each).
    std::pmr::unsynchronized_pool_resource node_pool_;
    PendingMap pending_{&node_pool_};
    std::size_t pending_v6_ = 0;
    std::unordered_map<std::uint32_t, Route> routes_;
    std::unordered_map<Key, Local, KeyHash> locals_;
    std::vector<Outgoing> out4_, out6_;
    std::vector<Outgoing> sending_;  ///< keeps its capacity between flushes
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
    boost::asio::steady_timer sweep_timer_;
    std::optional<std::chrono::steady_clock::time_point> sweep_at_;  ///< when armed
    boost::asio::steady_timer read_timer_;
    bool read_armed_ = false;
    bool flush_posted_ = false;
    boost::asio::steady_timer send_retry_;
    bool send_blocked_ = false;  ///< the send queue was full: flush waits for send_retry_
    std::unique_ptr<Receiving> receiving_;
};

}  // namespace ipvsctl::healthcheck::detail
