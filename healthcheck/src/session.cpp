// SPDX-License-Identifier: GPL-2.0-or-later
#include "healthcheck/session.hpp"

namespace ipvsctl::healthcheck {

std::string_view to_string(FailureReason reason) {
    switch (reason) {
        case FailureReason::none:
            return "none";
        case FailureReason::refused:
            return "refused";
        case FailureReason::unreachable:
            return "unreachable";
        case FailureReason::timeout:
            return "timeout";
        case FailureReason::network:
            return "network";
        case FailureReason::tls:
            return "tls";
        case FailureReason::http_malformed:
            return "http_malformed";
        case FailureReason::http_status:
            return "http_status";
        case FailureReason::http_digest:
            return "http_digest";
        case FailureReason::script_failed:
            return "script_failed";
        case FailureReason::script_error:
            return "script_error";
    }
    return "unknown";
}

ProbeSession::ProbeSession(boost::asio::io_context& io, ProbeSpec spec)
    : io_(io), spec_(std::move(spec)), deadline_timer_(io) {
    // The identity only matters to whoever shares targets; a session of each
    // of 10,000 targets need not keep a copy.
    spec_.identity = {};
}

void ProbeSession::run(Done done) {
    if (busy()) cancel();
    done_ = std::move(done);
    ++generation_;
    ++counters_.started;
    started_ = std::chrono::steady_clock::now();
    const std::uint64_t probe = generation_;
    own_deadline_ = false;
    start_probe();
    // After start_probe, which says whether the checker times the probe out
    // itself (checkers report from the loop, never from inside start_probe).
    if (own_deadline_ || generation_ != probe) return;
    timer_armed_ = true;
    deadline_timer_.expires_after(deadline());
    deadline_timer_.async_wait(
        [weak = weak_from_this(), probe](const boost::system::error_code& ec) {
            const auto self = weak.lock();
            if (ec || !self || self->generation_ != probe) return;
            self->timer_armed_ = false;
            if (!self->busy()) return;
            self->abort_probe();
            self->probe_finished(probe, self->timeout_outcome());
        });
}

ProbeOutcome ProbeSession::timeout_outcome() const {
    ProbeOutcome outcome;
    outcome.reason = FailureReason::timeout;
    outcome.detail =
        "no answer within " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(deadline()).count()) +
        " ms";
    return outcome;
}

void ProbeSession::cancel_deadline() {
    // Only when armed: cancelling a timer wakes Asio's reactor (an
    // epoll_ctl and a loop turn), which a probe timed out otherwise need not pay.
    if (!timer_armed_) return;
    timer_armed_ = false;
    deadline_timer_.cancel();
}

void ProbeSession::cancel() {
    if (!busy()) return;
    done_ = nullptr;
    ++generation_;  // whatever is still in flight reports to nobody
    cancel_deadline();
    abort_probe();
}

void ProbeSession::probe_finished(std::uint64_t generation, ProbeOutcome outcome) {
    if (generation != generation_ || !busy()) return;
    cancel_deadline();
    // A checker that timed the answer itself (the SYN prober, by the
    // kernel's receive time stamp) says so with a latency above zero.
    if (outcome.latency <= Duration{0})
        outcome.latency =
            std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started_);
    counters_.last_latency = outcome.latency;
    if (outcome.success) {
        ++counters_.succeeded;
    } else {
        ++counters_.failed;
        ++counters_.failures[outcome.reason];
    }
    // Clear before calling: `done` may start the next probe.
    Done done = std::move(done_);
    done_ = nullptr;
    ++generation_;
    done(outcome);
}

std::shared_ptr<ProbeSession> make_session(boost::asio::io_context& io, const ProbeSpec& spec,
                                           const SessionOptions& options) {
    switch (spec.type) {
        case config::CheckerType::http_get:
        case config::CheckerType::ssl_get:
            return make_http_session(io, spec, options);
        case config::CheckerType::misc_check:
            return make_misc_session(io, spec, options);
        case config::CheckerType::tcp_check:
            break;
    }
    return make_tcp_session(io, spec);
}

}  // namespace ipvsctl::healthcheck
