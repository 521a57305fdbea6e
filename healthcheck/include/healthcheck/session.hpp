// SPDX-License-Identifier: GPL-2.0-or-later
// A probe session: the base every checker shares. It owns the deadline
// timer and the counters; a checker implements only "start a probe"
// (start_probe) and reports "probe finished" (probe_finished). One Asio
// event loop runs every session; there is no thread per check.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "healthcheck/clock.hpp"
#include "healthcheck/dynamic_weight.hpp"
#include "healthcheck/probe_spec.hpp"

namespace ipvsctl::healthcheck {

enum class FailureReason {
    none,
    refused,         ///< connection refused or reset
    unreachable,     ///< no route, host unreachable
    timeout,         ///< no answer within the deadline
    network,         ///< any other socket error
    tls,             ///< handshake or verification failed
    http_malformed,  ///< the reply was not HTTP
    http_status,     ///< status outside the accepted ranges
    http_digest,     ///< body digest differs
    script_failed,   ///< MISC_CHECK exited non-zero (or 1 with misc_dynamic)
    script_error,    ///< MISC_CHECK could not be started
};
std::string_view to_string(FailureReason reason);

struct ProbeOutcome {
    bool success = false;
    FailureReason reason = FailureReason::none;
    std::string detail;         ///< human-readable, for logs
    std::optional<int> weight;  ///< misc_dynamic: the weight the script asked for
    Duration latency{};
    std::optional<AgentReply> agent;  ///< agent sessions: what the agent said
};

/// Plain counters that tests assert on and metrics export.
struct ProbeCounters {
    std::uint64_t started = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;
    std::map<FailureReason, std::uint64_t> failures;
    Duration last_latency{};
};

struct SessionOptions {
    /// SSL_GET: verify the server's certificate chain (and host name when
    /// SNI is on) against the system store or `ca_file`.
    bool tls_verify = false;
    std::string ca_file;
    /// MISC_CHECK: user and group to run scripts as when the checker names none.
    std::optional<std::string> script_user;
};

class ProbeSession : public std::enable_shared_from_this<ProbeSession> {
  public:
    using Done = std::function<void(const ProbeOutcome&)>;

    ProbeSession(boost::asio::io_context& io, ProbeSpec spec);
    virtual ~ProbeSession() = default;
    ProbeSession(const ProbeSession&) = delete;
    ProbeSession& operator=(const ProbeSession&) = delete;

    /// Starts one probe. `done` runs exactly once, from the event loop, with
    /// the checker's outcome or a timeout, unless cancel() comes first.
    void run(Done done);
    /// Abandons the probe in flight; its `done` never runs.
    void cancel();

    [[nodiscard]] bool busy() const { return done_ != nullptr; }
    [[nodiscard]] const ProbeCounters& counters() const { return counters_; }
    /// The spec the session was made with, less its identity.
    [[nodiscard]] const ProbeSpec& spec() const { return spec_; }

  protected:
    // Interface for checkers:
    /// Begins the probe; must eventually call probe_finished(generation(), ...).
    virtual void start_probe() = 0;
    /// Stops the probe in flight (close sockets, kill the child).
    virtual void abort_probe() = 0;
    /// How long a probe may take before it counts as timed out.
    [[nodiscard]] virtual Duration deadline() const { return spec_.connect_timeout; }

    /// Called from start_probe: this probe needs no deadline timer, the
    /// checker reports timeout_outcome() itself when deadline() has passed.
    void own_deadline() { own_deadline_ = true; }
    /// The outcome of a probe with no answer within deadline().
    [[nodiscard]] ProbeOutcome timeout_outcome() const;

    /// Reports the outcome of probe `generation`; late reports are ignored.
    void probe_finished(std::uint64_t generation, ProbeOutcome outcome);
    [[nodiscard]] std::uint64_t generation() const { return generation_; }
    boost::asio::io_context& io() { return io_; }

  private:
    boost::asio::io_context& io_;
    ProbeSpec spec_;
    void cancel_deadline();

    boost::asio::steady_timer deadline_timer_;
    bool timer_armed_ = false;
    bool own_deadline_ = false;
    Done done_;
    std::uint64_t generation_ = 0;
    TimePoint started_{};
    ProbeCounters counters_;
};

/// The checker for a probe spec.
std::shared_ptr<ProbeSession> make_session(boost::asio::io_context& io, const ProbeSpec& spec,
                                           const SessionOptions& options = {});

// Factories of the checker types (one translation unit each).
std::shared_ptr<ProbeSession> make_tcp_session(boost::asio::io_context& io, const ProbeSpec& spec);
/// How TCP_CHECK probes on `io` (for the log at start): half-open SYN
/// probes from a raw socket, or connect() when no raw socket can be had.
std::string tcp_check_mode(boost::asio::io_context& io);
std::shared_ptr<ProbeSession> make_http_session(boost::asio::io_context& io, const ProbeSpec& spec,
                                                const SessionOptions& options);
/// A weight agent (dynamic_weight agent): connect to spec.address:port,
/// read one line. Succeeds when the line holds a word the agent parser knows.
std::shared_ptr<ProbeSession> make_agent_session(boost::asio::io_context& io,
                                                 const ProbeSpec& spec);
std::shared_ptr<ProbeSession> make_misc_session(boost::asio::io_context& io, const ProbeSpec& spec,
                                                const SessionOptions& options);

}  // namespace ipvsctl::healthcheck
