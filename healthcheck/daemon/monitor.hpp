// SPDX-License-Identifier: GPL-2.0-or-later
// The daemon's engine: runs the probes on their schedule, turns outcomes
// into per-checker and per-server health, and keeps the IPVS table in step.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string_view>
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
    /// Drift-repair reads that found the kernel changed behind the daemon's back.
    std::uint64_t drift_repairs = 0;
    /// Background reads discarded because a plan was applied while they ran.
    std::uint64_t stale_reads = 0;
    /// Drift-repair reads that came back to the loop (stale ones included).
    std::uint64_t repair_reads = 0;
};

/// Kinds of work on the event loop, for the longest time each held it.
enum class LoopWork {
    probes,     ///< starting due probes
    outcomes,   ///< a probe's outcome: health, scheduling the next one
    reconcile,  ///< planning and applying after a state change
    repair,     ///< drift repair on the loop (comparing, planning, applying)
    drain,      ///< drain checks (connection counts)
    metrics,    ///< one slice of a metrics render
    status,     ///< control socket requests
    trim,       ///< returning free heap to the system
    reload,     ///< SIGHUP: read the configuration, load it
};
inline constexpr std::size_t kLoopWorkKinds = 9;
std::string_view to_string(LoopWork work);

class Monitor {
  public:
    Monitor(boost::asio::io_context& io, const Clock& clock, Kernel& kernel,
            SessionOptions session_options = {});
    ~Monitor();
    Monitor(const Monitor&) = delete;
    Monitor& operator=(const Monitor&) = delete;

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
    /// Prometheus text exposition (metrics.cpp), in one go.
    [[nodiscard]] std::string metrics() const;
    /// The same text, rendered in slices of about `slice` of loop time each
    /// (the rest is posted back to the loop), so that a scrape of 10,000
    /// servers does not hold the loop; `done` gets the text. A load() during
    /// the render starts it over.
    void metrics_async(std::function<void(std::string)> done,
                       Duration slice = std::chrono::milliseconds(2));

    /// Starts a drift-repair read now (the repair timer does it every
    /// delay_loop): off the loop when the kernel has a background reader.
    void repair_now();
    /// Notes that `work` held the event loop for `took` (the longest of each
    /// kind is exported as healthcheckd_loop_stall_max_seconds).
    void note_stall(LoopWork work, Duration took);
    [[nodiscard]] Duration stall_max(LoopWork work) const {
        return stall_max_[static_cast<std::size_t>(work)];
    }

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
    /// on_wake once after the handlers ready now (a batch of answers).
    void wake_soon();
    void on_outcome(TargetId id, const ProbeOutcome& outcome);
    void on_agent_outcome(TargetId id, const ProbeOutcome& outcome);
    /// A server's weight from dynamic_weight changed: new health, reconcile.
    void set_dynamic_weight(ServerIndex server, int weight, const std::string& why);
    [[nodiscard]] ServerHealth server_health(ServerIndex server) const;
    /// Asks for one reconcile in this turn of the loop: of the virtual
    /// servers of `server` only (a change of its health or weight), or of
    /// everything the daemon owns (no server). Requests add up.
    void request_reconcile(std::optional<ServerIndex> server = std::nullopt);
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
    /// Every service key the daemon owns now (its configuration's and those
    /// of earlier ones not yet removed).
    [[nodiscard]] std::set<ServiceKey> owned_keys() const;

    /// What a read of the reader thread brings back to the loop.
    struct OffLoopRead {
        Result<Table> table = Error{};
        /// The owned part differs from the view the read was started with
        /// (compared on the reader thread); true without a view.
        bool drift = true;
    };
    /// Reads the table on the reader thread and, when `view` is given,
    /// compares the services of `owned` with it there; `done` runs on the
    /// loop, unless the monitor is gone by then.
    void read_off_loop(std::shared_ptr<const Table> view, std::set<ServiceKey> owned,
                       std::function<void(OffLoopRead)> done);
    void on_repair_read(OffLoopRead read, std::uint64_t epoch, const std::set<ServiceKey>& owned);
    /// Drain bookkeeping from a table with connection counts.
    void drain_counts(const Table& table);
    class MetricsRender;
    /// One slice of `render`; posts the next one, or hands the text to `done`.
    void render_slice(std::shared_ptr<MetricsRender> render, std::function<void(std::string)> done,
                      Duration slice);

    boost::asio::io_context& io_;
    const Clock& clock_;
    Kernel& kernel_;
    SessionOptions session_options_;
    std::shared_ptr<const config::Config> config_;
    Scheduler scheduler_;
    std::vector<TargetId> due_now_;  ///< on_wake's batch (keeps its capacity)
    boost::asio::steady_timer wake_;
    // When wake_ is armed for; re-arming it for every finished probe cost a
    // timerfd_settime() system call each (a fifth of the daemon's CPU).
    std::optional<TimePoint> wake_at_;
    bool wake_soon_posted_ = false;
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
    /// Shared with the reader thread, which compares a repair read with it:
    /// replaced, never changed in place.
    std::shared_ptr<const Table> kernel_view_;
    /// Counts the changes of kernel_view_ (plans applied, reads adopted): a
    /// background read started at another count is stale, since it may miss
    /// the daemon's own changes, and is made again.
    std::uint64_t view_epoch_ = 0;
    bool repair_reading_ = false;
    bool drain_reading_ = false;
    std::array<Duration, kLoopWorkKinds> stall_max_{};
    /// The length of the last metrics text: the next one reserves it
    /// (growing a string of megabytes by doubling copied it on the loop).
    std::size_t metrics_bytes_ = 0;
    Duration repair_every_ = std::chrono::seconds(60);
    bool reconcile_pending_ = false;
    /// What the pending reconcile covers: every owned service, or the
    /// services of the virtual servers whose real servers changed.
    bool reconcile_all_ = false;
    std::set<ServiceKey> reconcile_scope_;
    bool stopped_ = false;
    MonitorCounters counters_;
    ScriptRunner scripts_;
    /// Reads the table off the loop (null: reads run on the loop), only
    /// ever on reader_thread_.
    std::unique_ptr<TableReader> reader_;
    boost::asio::thread_pool reader_thread_{1};
    /// Results posted back from the reader thread hold it weakly: the
    /// monitor may be gone when they arrive.
    std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace ipvsctl::healthcheck
