// SPDX-License-Identifier: GPL-2.0-or-later
// healthcheckd's Prometheus metrics: rendered from the monitor's state on
// the event loop, served by common/metrics' HttpExporter.
#include "metrics/metrics.hpp"

#include "monitor.hpp"

namespace ipvsctl::healthcheck {
namespace {

double seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

std::string Monitor::metrics() const {
    using metrics::Label;
    using metrics::Type;
    metrics::Writer out;

    out.family("healthcheckd_probes_total", Type::counter, "Probes started.");
    out.sample("healthcheckd_probes_total", static_cast<double>(counters_.probes));
    out.family("healthcheckd_reconciles_total", Type::counter,
               "Comparisons of the kernel's table with the wanted one.");
    out.sample("healthcheckd_reconciles_total", static_cast<double>(counters_.reconciles));
    out.family("healthcheckd_kernel_operations_total", Type::counter,
               "IPVS changes applied to the kernel.");
    out.sample("healthcheckd_kernel_operations_total",
               static_cast<double>(counters_.operations_applied));
    out.family("healthcheckd_kernel_apply_failures_total", Type::counter,
               "Plans the kernel refused.");
    out.sample("healthcheckd_kernel_apply_failures_total",
               static_cast<double>(counters_.apply_failures));
    out.family("healthcheckd_loop_lag_seconds", Type::gauge,
               "How late the event loop ran its last one-second timer.");
    out.sample("healthcheckd_loop_lag_seconds", seconds(last_lag_));
    out.family("healthcheckd_loop_lag_max_seconds", Type::gauge,
               "The largest loop lag seen since start-up.");
    out.sample("healthcheckd_loop_lag_max_seconds", seconds(max_lag_));
    const auto& lateness = scheduler_.lateness();
    out.family("healthcheckd_check_lateness_seconds", Type::gauge,
               "How late probes started against their schedule since start-up, by quantile "
               "(upper bound of a 0.1 ms bucket below 100 ms, of a 10 ms bucket above).");
    for (const auto& [name, q] : {std::pair{"0.5", 0.5}, {"0.99", 0.99}, {"0.999", 0.999}})
        out.sample("healthcheckd_check_lateness_seconds", {{"quantile", name}},
                   seconds(lateness.quantile(q)));
    out.sample("healthcheckd_check_lateness_seconds", {{"quantile", "1"}}, seconds(lateness.max()));
    out.family("healthcheckd_check_lateness_count", Type::counter,
               "Probes whose lateness was recorded.");
    out.sample("healthcheckd_check_lateness_count", static_cast<double>(lateness.count()));
    out.family("healthcheckd_check_lateness_within_total", Type::counter,
               "Probes since start-up that started less than `le` seconds late.");
    for (const auto& [name, bound] : {std::pair{"0.001", 1'000},
                                      {"0.005", 5'000},
                                      {"0.01", 10'000},
                                      {"0.02", 20'000},
                                      {"0.05", 50'000},
                                      {"0.1", 100'000},
                                      {"0.5", 500'000},
                                      {"1", 1'000'000}})
        out.sample("healthcheckd_check_lateness_within_total", {{"le", name}},
                   static_cast<double>(lateness.count_at_most(Duration{bound})));
    out.family("healthcheckd_scripts_total", Type::counter,
               "Notify scripts started, by outcome so far.");
    out.sample("healthcheckd_scripts_total", {{"outcome", "started"}},
               static_cast<double>(scripts_.counters().started));
    out.sample("healthcheckd_scripts_total", {{"outcome", "failed"}},
               static_cast<double>(scripts_.counters().failed));
    if (!config_) return out.text();

    struct Row {
        std::vector<Label> labels;
        const Server* server;
        const config::RealServer* rs;
        ServerHealth health;
    };
    std::vector<Row> rows;
    rows.reserve(servers_.size());
    const config::VirtualServer* last_vs = nullptr;
    std::string vs_key;
    for (const auto& server : servers_) {
        if (server.vs != last_vs) {
            last_vs = server.vs;
            vs_key = last_vs->key();
        }
        rows.push_back({{{"virtual_server", vs_key}, {"real_server", server.rs->key()}},
                        &server,
                        server.rs,
                        health_[rows.size()]});
    }

    out.family("healthcheckd_real_server_up", Type::gauge,
               "1 when the checks say up, 0 when down, -1 before any verdict.");
    for (const auto& row : rows)
        out.sample("healthcheckd_real_server_up", row.labels,
                   row.health.verdict == ServerVerdict::up     ? 1.0
                   : row.health.verdict == ServerVerdict::down ? 0.0
                                                               : -1.0);
    out.family("healthcheckd_real_server_draining", Type::gauge,
               "1 while draining, 2 once drained, 0 otherwise.");
    for (const auto& row : rows)
        out.sample("healthcheckd_real_server_draining", row.labels,
                   static_cast<double>(static_cast<int>(row.health.drain)));
    out.family("healthcheckd_real_server_weight", Type::gauge,
               "Weight while serving: configured, or from misc_dynamic/dynamic_weight.");
    for (const auto& row : rows)
        out.sample("healthcheckd_real_server_weight", row.labels,
                   effective_weight(*row.rs, row.health));
    out.family("healthcheckd_real_server_transitions_total", Type::counter,
               "Up/down verdict changes since start-up.");
    for (const auto& row : rows)
        out.sample("healthcheckd_real_server_transitions_total", row.labels,
                   static_cast<double>(row.server->transitions));

    // Per checker: the probe target's latency and failures (shared targets
    // report the same numbers under each server that uses them).
    const auto checker_labels = [this](const Row& row, std::size_t index) {
        auto labels = row.labels;
        const auto type = checkers_[row.server->first_checker + index].type;
        labels.push_back(
            {"checker", std::string(config::to_string(type)) + "#" + std::to_string(index)});
        return labels;
    };
    const auto session_of = [&](const Row& row, std::size_t index) -> const ProbeSession* {
        return targets_[checkers_[row.server->first_checker + index].target].session.get();
    };
    out.family("healthcheckd_check_latency_seconds", Type::gauge,
               "Duration of the checker's last probe.");
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.server->checker_count; ++i)
            if (const auto* session = session_of(row, i))
                out.sample("healthcheckd_check_latency_seconds", checker_labels(row, i),
                           seconds(session->counters().last_latency));
    out.family("healthcheckd_check_failures_total", Type::counter,
               "Failed probes of the checker, by reason.");
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.server->checker_count; ++i)
            if (const auto* session = session_of(row, i))
                for (const auto& [reason, count] : session->counters().failures) {
                    auto labels = checker_labels(row, i);
                    labels.push_back({"reason", std::string(to_string(reason))});
                    out.sample("healthcheckd_check_failures_total", labels,
                               static_cast<double>(count));
                }

    out.family("healthcheckd_virtual_server_quorum", Type::gauge,
               "1 while the virtual server has its quorum.");
    for (const auto& vs : config_->virtual_servers) {
        const auto quorum = quorum_.find(vs.key());
        out.sample("healthcheckd_virtual_server_quorum", {{"virtual_server", vs.key()}},
                   quorum == quorum_.end() || quorum->second ? 1.0 : 0.0);
    }
    out.family("healthcheckd_virtual_server_availability_ratio", Type::gauge,
               "Share of the time since start-up with quorum and a live real server.");
    for (const auto& vs : config_->virtual_servers) {
        const auto found = availability_.find(vs.key());
        if (found == availability_.end()) continue;
        const auto report = found->second.report(clock_.now());
        out.sample("healthcheckd_virtual_server_availability_ratio", {{"virtual_server", vs.key()}},
                   report.ratio);
    }
    out.family("healthcheckd_virtual_server_downtime_seconds", Type::gauge,
               "Time since start-up without quorum or without a live real server.");
    for (const auto& vs : config_->virtual_servers) {
        const auto found = availability_.find(vs.key());
        if (found == availability_.end()) continue;
        const auto report = found->second.report(clock_.now());
        out.sample("healthcheckd_virtual_server_downtime_seconds", {{"virtual_server", vs.key()}},
                   seconds(report.observed - report.up));
    }
    return out.text();
}

}  // namespace ipvsctl::healthcheck
