// SPDX-License-Identifier: GPL-2.0-or-later
// Socket helpers shared by the TCP-based checkers (private to the library).
#pragma once

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "healthcheck/probe_spec.hpp"
#include "healthcheck/schedule.hpp"
#include "healthcheck/session.hpp"

namespace ipvsctl::healthcheck::detail {

inline boost::asio::ip::address to_asio(const config::IpAddress& address) {
    if (address.is_v6()) {
        boost::asio::ip::address_v6::bytes_type bytes;
        std::copy(address.bytes.begin(), address.bytes.end(), bytes.begin());
        return boost::asio::ip::address_v6(bytes);
    }
    boost::asio::ip::address_v4::bytes_type bytes;
    std::copy(address.bytes.begin(), address.bytes.begin() + 4, bytes.begin());
    return boost::asio::ip::address_v4(bytes);
}

inline boost::asio::ip::tcp::endpoint target_endpoint(const ProbeSpec& spec) {
    return {to_asio(spec.address), spec.port};
}

/// Opens `socket` for the target's family and binds it to bindto/bind_port.
inline boost::system::error_code open_socket(boost::asio::ip::tcp::socket& socket,
                                             const ProbeSpec& spec) {
    boost::system::error_code ec;
    const auto target = target_endpoint(spec);
    socket.open(target.protocol(), ec);
    if (ec) return ec;
    if (spec.bindto || spec.bind_port) {
        const auto local =
            spec.bindto ? to_asio(*spec.bindto)
                        : (target.address().is_v6()
                               ? boost::asio::ip::address(boost::asio::ip::address_v6::any())
                               : boost::asio::ip::address(boost::asio::ip::address_v4::any()));
        socket.set_option(boost::asio::socket_base::reuse_address(true), ec);
        socket.bind({local, spec.bind_port.value_or(0)}, ec);
    }
    return ec;
}

/// Closes `socket` with a reset (SO_LINGER {on, 0}) instead of a FIN
/// handshake: a finished probe then costs no TIME_WAIT on either end and
/// about half the packets (RFC 793 section 3.5 allows aborting with RST).
inline void close_with_reset(boost::asio::ip::tcp::socket& socket) {
    if (!socket.is_open()) return;
    boost::system::error_code ignored;
    socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
}

/// A sockaddr for `address`:`port`; returns its length.
inline socklen_t to_sockaddr(const config::IpAddress& address, std::uint16_t port,
                             sockaddr_storage& out) {
    std::memset(&out, 0, sizeof out);
    if (address.is_v6()) {
        sockaddr_in6 sin6{};
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        std::memcpy(&sin6.sin6_addr, address.bytes.data(), 16);
        std::memcpy(&out, &sin6, sizeof sin6);
        return sizeof sin6;
    }
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, address.bytes.data(), 4);
    std::memcpy(&out, &sin, sizeof sin);
    return sizeof sin;
}

/// Starts connecting `fd` to the target: 0 when connected, EINPROGRESS
/// when connecting, else the error.
inline int connect_to_target(const ProbeSpec& spec, int fd) {
    sockaddr_storage address;
    const socklen_t length = to_sockaddr(spec.address, spec.port, address);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), length) == 0) return 0;
    return errno;
}

/// Binds `fd` to the spec's bindto and bind_port, if it has them: 0, or the error.
inline int bind_for(const ProbeSpec& spec, int fd) {
    if (!spec.bindto && !spec.bind_port) return 0;
    const int on = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) return errno;
    config::IpAddress local;
    if (spec.bindto)
        local = *spec.bindto;
    else
        local.family = spec.address.family;  // the any address
    sockaddr_storage address;
    const socklen_t length = to_sockaddr(local, spec.bind_port.value_or(0), address);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0) return errno;
    return 0;
}

/// Opens a non-blocking TCP socket for `spec` into `fd`, set to abort with
/// RST at close (see close_with_reset), bound to bindto/bind_port, with the
/// kernel's receive time stamps (SO_TIMESTAMPNS) if asked: 0, or the error
/// (`fd` may then be open: the caller closes it).
inline int open_probe_socket(const ProbeSpec& spec, int& fd, bool receive_timestamps) {
    const int family = spec.address.is_v6() ? AF_INET6 : AF_INET;
    fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return errno;
    // Set now, used at close: no system call is left for closing.
    const linger abort_on_close{1, 0};
    if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close) != 0)
        return errno;
    const int on = 1;
    if (receive_timestamps && ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0)
        return errno;
    return bind_for(spec, fd);
}

/// open_probe_socket() without time stamps, then starts connecting: 0 when
/// connected, EINPROGRESS when connecting, else the error (`fd` may then
/// be open: the caller closes it).
inline int open_and_connect(const ProbeSpec& spec, int& fd) {
    if (const int error = open_probe_socket(spec, fd, false); error != 0) return error;
    return connect_to_target(spec, fd);
}

/// The pending error of a socket that epoll reported with EPOLLERR or
/// EPOLLHUP; ECONNRESET when it hung up without one.
inline int socket_error(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    return error != 0 ? error : ECONNRESET;
}

/// Readiness of probe sockets, without Asio's per-socket registration.
/// Asio registers every socket with its epoll set, switches it to
/// non-blocking with ioctl(), adds EPOLLOUT for a connect with a second
/// epoll_ctl(), and on completion calls poll() and getsockopt(SO_ERROR):
/// 9 system calls for a TCP_CHECK. With a socket opened non-blocking and
/// one epoll_ctl() on an epoll set of our own (itself watched by the Asio
/// loop), a TCP_CHECK is socket, setsockopt(SO_LINGER), connect,
/// epoll_ctl and close; getsockopt only when the connect failed.
/// One per io_context (an Asio service); used from the loop's thread only.
class ProbePoller final : public boost::asio::execution_context::service {
  public:
    /// Called with the epoll events of a watched socket, at most once per watch().
    class Waiter {
      public:
        virtual void on_ready(std::uint32_t events) = 0;

      protected:
        ~Waiter() = default;
    };

    static inline boost::asio::execution_context::id id;

    explicit ProbePoller(boost::asio::execution_context& context)
        : service(context),
          descriptor_(static_cast<boost::asio::io_context&>(context)),
          grid_timer_(static_cast<boost::asio::io_context&>(context)) {
        const int fd = ::epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0)
            throw boost::system::system_error(errno, boost::system::system_category(),
                                              "epoll_create1");
        descriptor_.assign(fd);
    }

    static ProbePoller& of(boost::asio::io_context& io) {
        return boost::asio::use_service<ProbePoller>(io);
    }

    /// Reports the first of `events` (with EPOLLERR/EPOLLHUP) on `fd` to
    /// `waiter`, from the loop. Closing `fd` or unwatch() ends the watch.
    boost::system::error_code watch(int fd, std::uint32_t events, Waiter& waiter) {
        return add(fd, events | EPOLLONESHOT, waiter, false);
    }

    /// Reports every edge of `events` (with EPOLLERR/EPOLLHUP) on `fd` to
    /// `waiter` until unwatch() (epoll's edge-triggered mode: one
    /// registration serves a whole exchange, so the waiter must read or
    /// write until EAGAIN before it waits again).
    boost::system::error_code watch_edges(int fd, std::uint32_t events, Waiter& waiter) {
        return add(fd, events | EPOLLET, waiter, true);
    }

    /// Takes `fd` out of the epoll set, kept open (a kept HTTP connection
    /// between probes): then nothing it receives wakes the loop, and
    /// watch_on_grid() polls it. watch_edges() registers it again.
    void unregister(int fd) {
        unwatch(fd);
        const auto index = static_cast<std::size_t>(fd);
        if (fd < 0 || index >= slots_.size() || !slots_[index].registered) return;
        ::epoll_ctl(descriptor_.native_handle(), EPOLL_CTL_DEL, fd, nullptr);
        slots_[index].registered = false;
    }

    /// Reports `fd`, an unregistered socket, to `waiter` as readable and
    /// writable on every step of the wake-up grid (kWakeGrid) after this
    /// one, until unwatch(): the waiter tries to read and write, and the
    /// loop wakes for none of the socket's packets. Its wake-ups for the
    /// checks due on the grid serve it too.
    void watch_on_grid(int fd, Waiter& waiter) {
        const auto index = static_cast<std::size_t>(fd);
        if (index >= slots_.size()) slots_.resize(index + 1);
        Slot& slot = slots_[index];
        unwatch(fd);
        slot.waiter = &waiter;
        slot.on_grid = true;
        ++slot.ticket;
        const TimePoint now = std::chrono::steady_clock::now();
        on_grid_.push_back({fd, slot.ticket, wake_grid_ceiling(now + std::chrono::nanoseconds(1))});
        if (!grid_armed_) arm_grid(on_grid_.back().from);
    }

    /// Forgets the watch of `fd` and closes it.
    void close(int fd) {
        if (fd < 0) return;
        unwatch(fd);
        if (static_cast<std::size_t>(fd) < slots_.size())
            slots_[static_cast<std::size_t>(fd)].registered = false;
        ::close(fd);
    }

    /// A socket of `family` (AF_INET or AF_INET6) that retire() kept, or -1:
    /// TCP, non-blocking, set to abort with RST, unbound and unconnected;
    /// in the epoll set only if its last connection was watched there.
    int take_idle(int family) {
        auto& idle = family == AF_INET6 ? idle_v6_ : idle_v4_;
        if (idle.empty()) return -1;
        const int fd = idle.back();
        idle.pop_back();
        return fd;
    }

    /// Ends the connection of `fd`, a socket that take_idle() may hand out
    /// again (a socket like open_and_connect()'s, without bindto or bind_port),
    /// and keeps the socket. connect(AF_UNSPEC) aborts the connection as
    /// close() does with SO_LINGER {on, 0} (a reset when it was
    /// established; the ephemeral port is released), and the next probe
    /// saves socket(), setsockopt() and the kernel's socket allocation
    /// and release.
    void retire(int fd, int family) {
        if (fd < 0) return;
        auto& idle = family == AF_INET6 ? idle_v6_ : idle_v4_;
        sockaddr unspecified{};
        unspecified.sa_family = AF_UNSPEC;
        if (shut_ || idle.size() >= kIdleSockets) return close(fd);
        unwatch(fd);  // the disconnection's events are no one's
        if (::connect(fd, &unspecified, sizeof unspecified) != 0) return close(fd);
        idle.push_back(fd);
    }

    /// Forgets the watch of `fd`, if any (call before closing it; an fd
    /// kept open stays in the epoll set, if it was, its events dropped).
    void unwatch(int fd) {
        const auto index = static_cast<std::size_t>(fd);
        if (fd < 0 || index >= slots_.size() || slots_[index].waiter == nullptr) return;
        slots_[index].waiter = nullptr;
        if (std::exchange(slots_[index].on_grid, false)) return;  // not in active_
        // Nothing left to wait for: the loop must be able to run out of work.
        if (--active_ == 0 && waiting_) {
            boost::system::error_code ignored;
            descriptor_.cancel(ignored);
        }
    }

    /// One read's buffer, for the loop's thread: a reader appends what it
    /// got to its own buffer, which then holds the reply's bytes only (no
    /// chunk allocated and zero-filled per read).
    [[nodiscard]] std::pair<char*, std::size_t> read_scratch() {
        if (!read_scratch_) read_scratch_ = std::make_unique<char[]>(kReadScratch);
        return {read_scratch_.get(), kReadScratch};
    }

  private:
    static constexpr std::size_t kReadScratch = 64 * 1024;  // a loopback segment
    struct Slot {
        Waiter* waiter = nullptr;
        std::uint32_t generation = 0;
        bool edges = false;       ///< reports every event until unwatch()
        bool registered = false;  ///< in the epoll set (an idle socket stays there)
        bool on_grid = false;           ///< the waiter is polled on the grid
        std::uint32_t ticket = 0;       ///< of the latest watch_on_grid()
    };

    /// A socket polled on the grid from step `from` on.
    struct GridWatch {
        int fd;
        std::uint32_t ticket;
        TimePoint from;
    };

    // Enough for the probes of a few wake-ups at once; more are closed.
    static constexpr std::size_t kIdleSockets = 256;

    boost::system::error_code add(int fd, std::uint32_t events, Waiter& waiter, bool edges) {
        if (fd < 0) return boost::asio::error::bad_descriptor;
        const auto index = static_cast<std::size_t>(fd);
        if (index >= slots_.size()) slots_.resize(index + 1);
        Slot& slot = slots_[index];
        if (slot.on_grid) unwatch(fd);
        slot.waiter = &waiter;
        slot.edges = edges;
        // A new generation: events of the socket's previous use, already
        // read from epoll, are not this waiter's.
        ++slot.generation;
        epoll_event event{};
        event.events = events;
        event.data.u64 = (std::uint64_t{slot.generation} << 32) | static_cast<std::uint32_t>(fd);
        const int epoll = descriptor_.native_handle();
        // Registered: a socket from take_idle(). Not: a new socket, or a
        // number closed behind the poller's back and reopened.
        int result = -1;
        if (slot.registered) result = ::epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event);
        if (result != 0) result = ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
        if (result != 0) {
            slot.waiter = nullptr;
            slot.registered = false;
            return {errno, boost::system::system_category()};
        }
        slot.registered = true;
        ++active_;
        if (!waiting_) wait();
        return {};
    }

    void arm_grid(TimePoint at) {
        grid_armed_ = true;
        grid_timer_.expires_at(at);
        grid_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec == boost::asio::error::operation_aborted) return;  // shut down
            grid_armed_ = false;
            if (ec || shut_) return;
            poll_grid(grid_timer_.expiry());
        });
    }

    void poll_grid(TimePoint step) {
        // Waiters may watch again (the next url) while this runs: those go
        // to on_grid_ for a later step.
        // The scratch list keeps its capacity: no allocation per step.
        grid_scratch_.swap(on_grid_);
        for (const GridWatch& watch : grid_scratch_) {
            const auto current = [&] {
                const Slot& slot = slots_[static_cast<std::size_t>(watch.fd)];
                return slot.waiter != nullptr && slot.on_grid && slot.ticket == watch.ticket;
            };
            if (!current()) continue;
            if (watch.from <= step)
                slots_[static_cast<std::size_t>(watch.fd)].waiter->on_ready(EPOLLIN | EPOLLOUT);
            if (current()) on_grid_.push_back(watch);  // nothing complete yet
        }
        grid_scratch_.clear();
        // (Armed already when a waiter watched again for the next step.)
        if (!on_grid_.empty() && !grid_armed_) arm_grid(step + kWakeGrid);
    }

    void shutdown() override {
        shut_ = true;
        grid_timer_.cancel();
        on_grid_.clear();
        for (const int fd : idle_v4_) ::close(fd);
        for (const int fd : idle_v6_) ::close(fd);
        idle_v4_.clear();
        idle_v6_.clear();
        boost::system::error_code ignored;
        descriptor_.close(ignored);
        slots_.clear();
        active_ = 0;
    }

    void wait() {
        waiting_ = true;
        descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                               [this](const boost::system::error_code& ec) {
                                   waiting_ = false;
                                   if (!ec) dispatch();
                                   if (active_ > 0 && !waiting_) wait();
                               });
    }

    void dispatch() {
        std::array<epoll_event, 256> events;
        int n;
        do {
            n = ::epoll_wait(descriptor_.native_handle(), events.data(),
                             static_cast<int>(events.size()), 0);
            for (std::size_t i = 0; i < static_cast<std::size_t>(std::max(n, 0)); ++i) {
                const auto fd = static_cast<std::uint32_t>(events[i].data.u64);
                const auto generation = static_cast<std::uint32_t>(events[i].data.u64 >> 32);
                if (fd >= slots_.size()) continue;
                Slot& slot = slots_[fd];
                // A socket closed and reopened under the same number since
                // the event was read, or handed out again by take_idle(),
                // reports to its new owner only; one polled on the grid, to
                // no one.
                if (slot.waiter == nullptr || slot.generation != generation || slot.on_grid)
                    continue;
                Waiter* waiter = slot.waiter;
                if (!slot.edges) {
                    slot.waiter = nullptr;
                    --active_;
                }
                waiter->on_ready(events[i].events);
            }
        } while (n == static_cast<int>(events.size()));
    }

    boost::asio::posix::stream_descriptor descriptor_;
    std::vector<Slot> slots_;
    std::vector<int> idle_v4_, idle_v6_;  ///< kept by retire()
    boost::asio::steady_timer grid_timer_;
    std::vector<GridWatch> on_grid_;
    std::vector<GridWatch> grid_scratch_;  // the step's watches, while poll_grid() runs
    std::unique_ptr<char[]> read_scratch_;
    bool grid_armed_ = false;
    std::size_t active_ = 0;  ///< watches not yet reported or forgotten
    bool waiting_ = false;
    bool shut_ = false;
};

/// A socket error as a failure reason.
inline FailureReason classify(const boost::system::error_code& ec) {
    namespace error = boost::asio::error;
    if (ec == error::connection_refused || ec == error::connection_reset)
        return FailureReason::refused;
    if (ec == error::host_unreachable || ec == error::network_unreachable)
        return FailureReason::unreachable;
    if (ec == error::timed_out) return FailureReason::timeout;
    return FailureReason::network;
}

}  // namespace ipvsctl::healthcheck::detail
