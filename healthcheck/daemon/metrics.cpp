// SPDX-License-Identifier: GPL-2.0-or-later
// healthcheckd's Prometheus metrics: rendered from the monitor's state on
// the event loop, in slices (a scrape of 10,000 servers took tens of
// milliseconds of loop time in one piece), served by common/metrics'
// HttpExporter.
#include <boost/asio/post.hpp>

#include <optional>

#include "metrics/metrics.hpp"
#include "monitor.hpp"

namespace ipvsctl::healthcheck {
namespace {

double seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}

/// When a slice is over: the clock is looked at every kEvery items.
class SliceDeadline {
  public:
    explicit SliceDeadline(std::optional<std::chrono::steady_clock::time_point> at) : at_(at) {}
    bool passed() {
        if (!at_ || ++items_ % kEvery != 0) return false;
        return std::chrono::steady_clock::now() >= *at_;
    }

  private:
    static constexpr std::size_t kEvery = 64;
    std::optional<std::chrono::steady_clock::time_point> at_;
    std::size_t items_ = 0;
};

}  // namespace

/// One exposition, built in stages (a family each) that can stop after any
/// sample and go on later. Between two slices probes run: the samples of
/// one scrape are not all from the same instant (as with any exporter that
/// reads live counters), but each is current when written. A load() in
/// between changes the servers and checkers indexed here: the render starts
/// over (outdated()).
class Monitor::MetricsRender {
  public:
    explicit MetricsRender(const Monitor& monitor) : m_(monitor) {}

    /// Renders until the end (true) or until `deadline` passed (false).
    bool step(SliceDeadline& deadline);
    [[nodiscard]] bool outdated() const { return stage_ > 0 && m_.config_ != config_; }
    void restart() {
        out_ = {};
        stage_ = 0;
        item_ = 0;
        begun_ = false;
        rows_.clear();
        config_.reset();
    }
    std::string take() { return out_.take(); }
    void note_slice(Duration took) { longest_slice_ = std::max(longest_slice_, took); }
    [[nodiscard]] Duration longest_slice() const { return longest_slice_; }

  private:
    struct Row {
        std::vector<metrics::Label> labels;
        ServerIndex server;
    };
    void header();
    /// Runs `each` on the items left of the current stage (after the
    /// family's header, once); false when the slice ended first.
    template <typename Each>
    bool stage(std::string_view family, metrics::Type type, std::string_view help,
               std::size_t count, SliceDeadline& deadline, Each&& each) {
        if (!begun_) {
            if (!family.empty()) out_.family(family, type, help);
            begun_ = true;
        }
        while (item_ < count) {
            each(item_++);
            if (deadline.passed()) return false;
        }
        item_ = 0;
        begun_ = false;
        ++stage_;
        return true;
    }
    [[nodiscard]] std::vector<metrics::Label> checker_labels(const Row& row,
                                                             std::size_t index) const {
        auto labels = row.labels;
        const Server& server = m_.servers_[row.server];
        const auto type = m_.checkers_[server.first_checker + index].type;
        labels.push_back(
            {"checker", std::string(config::to_string(type)) + "#" + std::to_string(index)});
        return labels;
    }
    [[nodiscard]] const ProbeSession* session_of(const Row& row, std::size_t index) const {
        const Server& server = m_.servers_[row.server];
        return m_.targets_[m_.checkers_[server.first_checker + index].target].session.get();
    }
    /// Runs `each(index, session)` for every checker of the row that has a
    /// probe session.
    template <typename Each>
    void for_each_session(const Row& row, Each&& each) const {
        for (std::size_t i = 0; i < m_.servers_[row.server].checker_count; ++i)
            if (const auto* session = session_of(row, i)) each(i, *session);
    }

    const Monitor& m_;
    metrics::Writer out_;
    std::size_t stage_ = 0;
    std::size_t item_ = 0;
    bool begun_ = false;
    /// The configuration the render started with (kept alive, so that a
    /// new one never has its address).
    std::shared_ptr<const config::Config> config_;
    std::vector<Row> rows_;
    const config::VirtualServer* last_vs_ = nullptr;
    std::string vs_key_;
    Duration longest_slice_{};
};

void Monitor::MetricsRender::header() {
    using metrics::Type;
    out_.family("healthcheckd_probes_total", Type::counter, "Probes started.");
    out_.sample("healthcheckd_probes_total", static_cast<double>(m_.counters_.probes));
    out_.family("healthcheckd_reconciles_total", Type::counter,
                "Comparisons of the kernel's table with the wanted one.");
    out_.sample("healthcheckd_reconciles_total", static_cast<double>(m_.counters_.reconciles));
    out_.family("healthcheckd_kernel_operations_total", Type::counter,
                "IPVS changes applied to the kernel.");
    out_.sample("healthcheckd_kernel_operations_total",
                static_cast<double>(m_.counters_.operations_applied));
    out_.family("healthcheckd_kernel_apply_failures_total", Type::counter,
                "Plans the kernel refused.");
    out_.sample("healthcheckd_kernel_apply_failures_total",
                static_cast<double>(m_.counters_.apply_failures));
    out_.family("healthcheckd_loop_lag_seconds", Type::gauge,
                "How late the event loop ran its last one-second timer.");
    out_.sample("healthcheckd_loop_lag_seconds", seconds(m_.last_lag_));
    out_.family("healthcheckd_loop_lag_max_seconds", Type::gauge,
                "The largest loop lag seen since start-up.");
    out_.sample("healthcheckd_loop_lag_max_seconds", seconds(m_.max_lag_));
    out_.family("healthcheckd_loop_stall_max_seconds", Type::gauge,
                "The longest time one piece of work held the event loop since start-up, by "
                "kind of work.");
    for (std::size_t i = 0; i < kLoopWorkKinds; ++i)
        out_.sample("healthcheckd_loop_stall_max_seconds",
                    {{"work", std::string(to_string(static_cast<LoopWork>(i)))}},
                    seconds(m_.stall_max_[i]));
    const auto& lateness = m_.scheduler_.lateness();
    out_.family("healthcheckd_check_lateness_seconds", Type::gauge,
                "How late probes started against their schedule since start-up, by quantile "
                "(upper bound of a 0.1 ms bucket below 100 ms, of a 10 ms bucket above).");
    for (const auto& [name, q] : {std::pair{"0.5", 0.5}, {"0.99", 0.99}, {"0.999", 0.999}})
        out_.sample("healthcheckd_check_lateness_seconds", {{"quantile", name}},
                    seconds(lateness.quantile(q)));
    out_.sample("healthcheckd_check_lateness_seconds", {{"quantile", "1"}},
                seconds(lateness.max()));
    out_.family("healthcheckd_check_lateness_count", Type::counter,
                "Probes whose lateness was recorded.");
    out_.sample("healthcheckd_check_lateness_count", static_cast<double>(lateness.count()));
    out_.family("healthcheckd_check_lateness_within_total", Type::counter,
                "Probes since start-up that started less than `le` seconds late.");
    for (const auto& [name, bound] : {std::pair{"0.001", 1'000},
                                      {"0.005", 5'000},
                                      {"0.01", 10'000},
                                      {"0.02", 20'000},
                                      {"0.05", 50'000},
                                      {"0.1", 100'000},
                                      {"0.5", 500'000},
                                      {"1", 1'000'000}})
        out_.sample("healthcheckd_check_lateness_within_total", {{"le", name}},
                    static_cast<double>(lateness.count_at_most(Duration{bound})));
    out_.family("healthcheckd_scripts_total", Type::counter,
                "Notify scripts started, by outcome so far.");
    out_.sample("healthcheckd_scripts_total", {{"outcome", "started"}},
                static_cast<double>(m_.scripts_.counters().started));
    out_.sample("healthcheckd_scripts_total", {{"outcome", "failed"}},
                static_cast<double>(m_.scripts_.counters().failed));
}

bool Monitor::MetricsRender::step(SliceDeadline& deadline) {
    using metrics::Type;
    const auto& vss = [this]() -> const std::vector<config::VirtualServer>& {
        return config_->virtual_servers;
    };
    for (;;) {
        switch (stage_) {
            case 0:
                // The first time, about what 10,000 TCP-checked servers take each.
                out_.reserve(std::max(m_.metrics_bytes_ + m_.metrics_bytes_ / 8,
                                      m_.servers_.size() * 800 + m_.checkers_.size() * 300));
                header();
                config_ = m_.config_;
                if (!config_) return true;
                ++stage_;
                rows_.reserve(m_.servers_.size());
                break;
            case 1:
                if (!stage({}, Type::gauge, {}, m_.servers_.size(), deadline, [&](std::size_t i) {
                        const Server& server = m_.servers_[i];
                        if (server.vs != last_vs_) {
                            last_vs_ = server.vs;
                            vs_key_ = last_vs_->key();
                        }
                        rows_.push_back(
                            {{{"virtual_server", vs_key_}, {"real_server", server.rs->key()}},
                             static_cast<ServerIndex>(i)});
                    }))
                    return false;
                break;
            case 2:
                if (!stage("healthcheckd_real_server_up", Type::gauge,
                           "1 when the checks say up, 0 when down, -1 before any verdict.",
                           rows_.size(), deadline, [&](std::size_t i) {
                               const auto verdict = m_.health_[rows_[i].server].verdict;
                               out_.sample("healthcheckd_real_server_up", rows_[i].labels,
                                           verdict == ServerVerdict::up     ? 1.0
                                           : verdict == ServerVerdict::down ? 0.0
                                                                            : -1.0);
                           }))
                    return false;
                break;
            case 3:
                if (!stage("healthcheckd_real_server_draining", Type::gauge,
                           "1 while draining, 2 once drained, 0 otherwise.", rows_.size(), deadline,
                           [&](std::size_t i) {
                               out_.sample("healthcheckd_real_server_draining", rows_[i].labels,
                                           static_cast<double>(static_cast<int>(
                                               m_.health_[rows_[i].server].drain)));
                           }))
                    return false;
                break;
            case 4:
                if (!stage("healthcheckd_real_server_weight", Type::gauge,
                           "Weight while serving: configured, or from misc_dynamic/dynamic_weight.",
                           rows_.size(), deadline, [&](std::size_t i) {
                               const ServerIndex server = rows_[i].server;
                               out_.sample(
                                   "healthcheckd_real_server_weight", rows_[i].labels,
                                   effective_weight(*m_.servers_[server].rs, m_.health_[server]));
                           }))
                    return false;
                break;
            case 5:
                if (!stage("healthcheckd_real_server_transitions_total", Type::counter,
                           "Up/down verdict changes since start-up.", rows_.size(), deadline,
                           [&](std::size_t i) {
                               out_.sample(
                                   "healthcheckd_real_server_transitions_total", rows_[i].labels,
                                   static_cast<double>(m_.servers_[rows_[i].server].transitions));
                           }))
                    return false;
                break;
            // Per checker: the probe target's latency and failures (shared
            // targets report the same numbers under each server that uses them).
            case 6:
                if (!stage("healthcheckd_check_latency_seconds", Type::gauge,
                           "Duration of the checker's last probe.", rows_.size(), deadline,
                           [&](std::size_t r) {
                               for_each_session(rows_[r], [&](std::size_t i,
                                                              const ProbeSession& session) {
                                   out_.sample("healthcheckd_check_latency_seconds",
                                               checker_labels(rows_[r], i),
                                               seconds(session.counters().last_latency));
                               });
                           }))
                    return false;
                break;
            case 7:
                if (!stage("healthcheckd_check_failures_total", Type::counter,
                           "Failed probes of the checker, by reason.", rows_.size(), deadline,
                           [&](std::size_t r) {
                               for_each_session(rows_[r], [&](std::size_t i,
                                                              const ProbeSession& session) {
                                   const auto& failures = session.counters().failures;
                                   if (failures.empty()) return;
                                   auto labels = checker_labels(rows_[r], i);
                                   labels.emplace_back();
                                   for (const auto& [reason, count] : failures) {
                                       labels.back() = {"reason", std::string(to_string(reason))};
                                       out_.sample("healthcheckd_check_failures_total", labels,
                                                   static_cast<double>(count));
                                   }
                               });
                           }))
                    return false;
                break;
            case 8:
                if (!stage("healthcheckd_virtual_server_quorum", Type::gauge,
                           "1 while the virtual server has its quorum.", vss().size(), deadline,
                           [&](std::size_t v) {
                               const std::string key = vss()[v].key();
                               const auto quorum = m_.quorum_.find(key);
                               out_.sample(
                                   "healthcheckd_virtual_server_quorum", {{"virtual_server", key}},
                                   quorum == m_.quorum_.end() || quorum->second ? 1.0 : 0.0);
                           }))
                    return false;
                break;
            case 9:
                if (!stage("healthcheckd_virtual_server_availability_ratio", Type::gauge,
                           "Share of the time since start-up with quorum and a live real server.",
                           vss().size(), deadline, [&](std::size_t v) {
                               const std::string key = vss()[v].key();
                               const auto found = m_.availability_.find(key);
                               if (found == m_.availability_.end()) return;
                               out_.sample("healthcheckd_virtual_server_availability_ratio",
                                           {{"virtual_server", key}},
                                           found->second.report(m_.clock_.now()).ratio);
                           }))
                    return false;
                break;
            case 10:
                if (!stage("healthcheckd_virtual_server_downtime_seconds", Type::gauge,
                           "Time since start-up without quorum or without a live real server.",
                           vss().size(), deadline, [&](std::size_t v) {
                               const std::string key = vss()[v].key();
                               const auto found = m_.availability_.find(key);
                               if (found == m_.availability_.end()) return;
                               const auto report = found->second.report(m_.clock_.now());
                               out_.sample("healthcheckd_virtual_server_downtime_seconds",
                                           {{"virtual_server", key}},
                                           seconds(report.observed - report.up));
                           }))
                    return false;
                break;
            default:
                return true;
        }
    }
}

std::string Monitor::metrics() const {
    MetricsRender render(*this);
    SliceDeadline never(std::nullopt);
    render.step(never);
    return render.take();
}

void Monitor::metrics_async(std::function<void(std::string)> done, Duration slice) {
    render_slice(std::make_shared<MetricsRender>(*this), std::move(done), slice);
}

void Monitor::render_slice(std::shared_ptr<MetricsRender> render,
                           std::function<void(std::string)> done, Duration slice) {
    if (render->outdated()) render->restart();
    const auto started = std::chrono::steady_clock::now();
    SliceDeadline deadline(started + slice);
    const bool finished = render->step(deadline);
    render->note_slice(
        std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started));
    if (finished) {
        // Noted once the text is complete, so that the render does not see
        // its own slices: the text is what metrics() would have said.
        note_stall(LoopWork::metrics, render->longest_slice());
        std::string text = render->take();
        metrics_bytes_ = text.size();
        done(std::move(text));
        return;
    }
    boost::asio::post(io_, [this, alive = std::weak_ptr<char>(alive_), render = std::move(render),
                            done = std::move(done), slice]() mutable {
        if (alive.expired()) return;
        render_slice(std::move(render), std::move(done), slice);
    });
}

}  // namespace ipvsctl::healthcheck
