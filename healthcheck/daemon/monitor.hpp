// SPDX-License-Identifier: GPL-2.0-or-later
// The daemon's engine: runs the probes on their schedule, turns outcomes
// into per-checker and per-server health, and keeps the IPVS table in step.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <variant>
#include <vector>

#include "config/model.hpp"
#include "healthcheck/availability.hpp"
#include "healthcheck/notify.hpp"
#include "healthcheck/reconcile.hpp"
#include "healthcheck/schedule.hpp"
#include "healthcheck/session.hpp"
#include "healthcheck/transition.hpp"
#include "kernel.hpp"
#include "scripts.hpp"

namespace ipvsctl::healthcheck {

struct MonitorCounters {
    std::uint64_t probes = 0;
    std::uint64_t transitions = 0;
    std::uint64_t reconciles = 0;
    std::uint64_t operations_applied = 0;
    std::uint64_t apply_failures = 0;
    /// Reads of the whole IPVS table (start-up, drift repair, after a
    /// refused operation); other reconciles plan against the known table.
    std::uint64_t kernel_reads = 0;
    /// Plans sent to the kernel (each one batch of operations).
    std::uint64_t plans_applied = 0;
};

class Monitor {
  public:
    Monitor(boost::asio::io_context& io, const Clock& clock, Kernel& kernel,
            SessionOptions session_options = {});

    /// Starts with a configuration, or reloads: probes and check state of
    /// unchanged checkers are kept; only the difference reaches the kernel.
    ///
    /// `unchanged` (optional, per virtual server of `config`): true where the
    /// virtual server, checkers included, is known equal to the one with the
    /// same key in the configuration in force (config::LoadResult::unchanged).
    /// Those keep their servers, checkers and targets as they are, without a
    /// look at each checker, and the reload plans only the others.
    /// `kept`: `config` without checkers, the same virtual servers in the
    /// same order, that the caller keeps anyway (ReloadCache::kept()): the
    /// monitor shares it instead of making such a copy of its own.
    ///
    /// `lean` (config::LoadOptions::lean_unchanged): the unchanged virtual
    /// servers of `config` have no real servers; `kept` has them (required),
    /// and `unchanged_from` is the configuration they are unchanged from
    /// (config::LoadResult::unchanged_from), which must be the one in force
    /// here: the monitor carries its state of each of them over. Returns
    /// false, having changed nothing, when it cannot (the configuration in
    /// force is another, or an unchanged virtual server is not known): the
    /// caller then loads a full configuration. True otherwise.
    bool load(std::shared_ptr<const config::Config> config,
              const std::vector<bool>* unchanged = nullptr,
              std::shared_ptr<const config::Config> kept = nullptr,
              const std::shared_ptr<const config::Config>& unchanged_from = nullptr,
              bool lean = false);
    /// Stops every probe; the kernel is left as it is.
    void stop();

    [[nodiscard]] nlohmann::json status() const;
    /// Prometheus text exposition (metrics.cpp).
    [[nodiscard]] std::string metrics() const;

    /// Control socket `drain`: weight 0 now, out of the kernel once its
    /// connections end or `timeout` seconds pass. Answers at once.
    nlohmann::json drain(const nlohmann::json& request);
    /// Control socket `undrain`: back to the weight checks and config give.
    nlohmann::json undrain(const nlohmann::json& request);
    [[nodiscard]] const MonitorCounters& counters() const { return counters_; }
    [[nodiscard]] std::size_t target_count() const { return target_count_; }
    [[nodiscard]] const ScriptRunner& scripts() const { return scripts_; }

  private:
    // Everything per server, checker and target lives in vectors indexed by
    // small integers, in configuration order: at 10,000 real servers maps
    // keyed by (virtual server, real server) strings were ~10 MiB and most
    // of the user CPU of each probe's outcome.
    using ServerIndex = std::uint32_t;
    static constexpr std::uint32_t kNone = UINT32_MAX;
    /// Scheduler ids of weight agents: this bit and the agent's index.
    static constexpr TargetId kAgentBit = TargetId{1} << 63;

    /// One configured real server of one virtual server (points into config_,
    /// which the monitor keeps without checkers: see load()).
    struct Server {
        const config::VirtualServer* vs = nullptr;
        const config::RealServer* rs = nullptr;
        std::uint32_t first_checker = 0;  ///< its checkers follow in checkers_
        std::uint32_t checker_count = 0;
        std::uint32_t agent = kNone;  ///< index in agents_
        std::optional<int> dynamic_weight;
        std::optional<Duration> latency;  ///< smoothed, for dynamic_weight response_time
        std::uint64_t transitions = 0;
    };
    /// One checker of one real server.
    struct CheckerState {
        TargetId target = 0;  ///< the probe target it subscribes to
        ServerIndex server = 0;
        std::uint32_t next_subscriber = kNone;  ///< the next checker of the same target
        config::CheckerType type = config::CheckerType::tcp_check;
        Thresholds thresholds;
        CheckerHealth health;
        std::optional<int> weight;  ///< misc_dynamic
    };
    /// A probe target: one endpoint and check, shared by equal checkers.
    /// Its id is its index in targets_; a slot without session is free.
    struct Target {
        std::string identity;
        std::shared_ptr<ProbeSession> session;
        std::uint32_t first_subscriber = kNone;  ///< subscribers in server order
        std::string last_detail;
    };

    /// The weight agent of a real server with dynamic_weight agent.
    struct Agent {
        ServerIndex server = 0;
        config::DynamicWeight settings;
        ProbeSpec spec;
        std::shared_ptr<ProbeSession> session;
        std::string last_detail;
    };
    struct DrainState {
        DrainPhase phase = DrainPhase::draining;
        std::optional<TimePoint> deadline;
        TimePoint since{};
    };
    /// The configured server a drain request names, or an error reply.
    std::variant<ServerIndex, nlohmann::json> find_server(const nlohmann::json& request) const;
    void update_health(ServerIndex server);
    /// "[VS -> RS]" for logs.
    [[nodiscard]] std::string label(ServerIndex server) const;
    void check_drains();
    void arm_drain_check();

    void arm();
    void arm_repair();
    /// Measures how late the loop runs a timer (loop lag), every second.
    void arm_lag_probe();
    void on_wake();
    void on_outcome(TargetId id, const ProbeOutcome& outcome);
    void on_agent_outcome(TargetId id, const ProbeOutcome& outcome);
    /// A server's weight from dynamic_weight changed: new health, reconcile.
    void set_dynamic_weight(ServerIndex server, int weight, const std::string& why);
    [[nodiscard]] ServerHealth server_health(ServerIndex server) const;
    void request_reconcile();
    /// Recomputes the health of `ref` (after a checker, weight or drain
    /// change), logs a verdict change and runs its notify script.
    void refresh_server(ServerIndex server);
    /// Runs the notify script of `event`, if one is configured.
    void notify(NotifyEvent event, const config::VirtualServer& vs, const config::RealServer* rs);
    /// How reconcile() learns what the kernel holds.
    enum class Read {
        known,  ///< the table as last read and changed by our own plans
        fresh,  ///< read the kernel again (drift repair)
    };
    /// `scope`: plan only these services (a reload's changed and removed
    /// ones); null: every owned service.
    void reconcile(Read read = Read::known, const std::set<ServiceKey>* scope = nullptr);

    boost::asio::io_context& io_;
    const Clock& clock_;
    Kernel& kernel_;
    SessionOptions session_options_;
    std::shared_ptr<const config::Config> config_;
    Scheduler scheduler_;
    boost::asio::steady_timer wake_;
    // When wake_ is armed for; re-arming it for every finished probe cost a
    // timerfd_settime() system call each (a fifth of the daemon's CPU).
    std::optional<TimePoint> wake_at_;
    boost::asio::steady_timer repair_;
    boost::asio::steady_timer drain_timer_;
    boost::asio::steady_timer lag_timer_;
    TimePoint lag_expected_{};
    Duration last_lag_{};
    Duration max_lag_{};
    std::vector<Server> servers_;
    /// Per server, as servers_: what reconcile() plans from.
    std::vector<ServerHealth> health_;
    std::vector<CheckerState> checkers_;
    std::vector<Target> targets_;
    std::vector<std::uint32_t> free_targets_;
    std::size_t target_count_ = 0;
    std::vector<Agent> agents_;
    std::map<ServerIndex, DrainState> drains_;
    std::mt19937_64 random_{std::random_device{}()};
    std::map<std::string, bool> quorum_;
    std::map<std::string, Availability> availability_;  ///< per virtual server key
    std::set<ServiceKey> owned_;
    /// The kernel's table as last read, with every plan applied since: a
    /// reconcile after a state change or a reload plans against it instead
    /// of reading tens of thousands of real servers back. Dropped when the
    /// kernel refuses an operation; drift repair reads afresh.
    std::optional<Table> kernel_view_;
    Duration repair_every_ = std::chrono::seconds(60);
    bool reconcile_pending_ = false;
    bool stopped_ = false;
    MonitorCounters counters_;
    ScriptRunner scripts_;
};

}  // namespace ipvsctl::healthcheck
