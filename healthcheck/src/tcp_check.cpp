// SPDX-License-Identifier: GPL-2.0-or-later
// TCP_CHECK: healthy when the server accepts a TCP connection: answers a
// SYN with SYN-ACK (a half-open probe, see SynProber), or, without
// CAP_NET_RAW, when connect() succeeds.
#include "healthcheck/session.hpp"
#include "socket_util.hpp"
#include "syn_prober.hpp"

namespace ipvsctl::healthcheck {
namespace {

// The socket is driven by hand rather than through an Asio socket: a probe
// is socket(), setsockopt(SO_LINGER), connect(), one epoll_ctl() and close()
// (see ProbePoller), where Asio's connect took 9 system calls.
class TcpCheck final : public ProbeSession,
                       private detail::ProbePoller::Waiter,
                       private detail::SynProber::Waiter {
  public:
    TcpCheck(boost::asio::io_context& io, const ProbeSpec& spec)
        : ProbeSession(io, spec),
          poller_(detail::ProbePoller::of(io)),
          prober_(detail::SynProber::of(io)) {}
    ~TcpCheck() override { close_socket(); }

  protected:
    void start_probe() override {
        close_socket();
        probe_ = generation();
        // The answer to the SYN, or its absence at the deadline, comes to
        // on_answer: the prober times its probes out in one sweep, cheaper
        // than a timer armed and cancelled per probe.
        int error = prober_.start(spec(), deadline(), *this, ticket_);
        if (error == 0) {
            own_deadline();
            return;
        }
        if (error > 0) {
            finish_later(error);
            return;
        }
        error = detail::open_and_connect(spec(), fd_);
        if (error == EINPROGRESS) {
            // The destructor forgets the watch: no reference to self is needed.
            const auto ec = poller_.watch(fd_, EPOLLOUT, *this);
            if (!ec) return;
            error = ec.value();
        }
        // Connected (or failed) at once: report from the loop, never from inside run().
        finish_later(error);
    }

    void abort_probe() override { close_socket(); }

  private:
    void on_ready(std::uint32_t events) override {
        const auto self = shared_from_this();  // `done` may drop the last owner
        finish((events & (EPOLLERR | EPOLLHUP)) != 0 ? detail::socket_error(fd_) : 0);
    }

    void on_answer(int error, Duration latency) override {
        const auto self = shared_from_this();  // `done` may drop the last owner
        if (error == ETIMEDOUT) {
            probe_finished(probe_, timeout_outcome());
            return;
        }
        finish(error, latency);
    }

    void finish_later(int error) {
        boost::asio::post(io(), [self = shared_from_this(), this, probe = probe_, error] {
            if (probe == generation()) finish(error);
        });
    }

    /// `latency`: the prober's measure when above zero, else the session's.
    void finish(int error, Duration latency = {}) {
        // Up once connected (TCP_CHECK); the connection is then aborted.
        close_socket();
        if (error == 0) {
            probe_finished(probe_, {true, FailureReason::none, "connected", {}, latency, {}});
            return;
        }
        const boost::system::error_code ec(error, boost::system::system_category());
        probe_finished(probe_, {false, detail::classify(ec), ec.message(), {}, latency, {}});
    }

    void close_socket() {
        prober_.cancel(ticket_);
        if (fd_ < 0) return;
        poller_.close(fd_);
        fd_ = -1;
    }

    detail::ProbePoller& poller_;
    detail::SynProber& prober_;
    detail::SynProber::Ticket ticket_;
    int fd_ = -1;
    std::uint64_t probe_ = 0;
};

}  // namespace

std::string tcp_check_mode(boost::asio::io_context& io) {
    return detail::SynProber::of(io).mode();
}

std::shared_ptr<ProbeSession> make_tcp_session(boost::asio::io_context& io, const ProbeSpec& spec) {
    return std::make_shared<TcpCheck>(io, spec);
}

}  // namespace ipvsctl::healthcheck
