// SPDX-License-Identifier: GPL-2.0-or-later
#include "metrics.hpp"

#include "metrics/metrics.hpp"

namespace ipvsctl::vrrp {
namespace {

using ipvsctl::metrics::Label;
using ipvsctl::metrics::Type;
using ipvsctl::metrics::Writer;

constexpr State kStates[] = {State::initialize, State::backup, State::master, State::fault};

std::vector<Label> labels(const Instance& i) {
    return {{"vrrp_instance", i.settings().name}};
}

double as_double(std::uint64_t v) {
    return static_cast<double>(v);
}

/// One counter family with one sample per instance.
template <class Get>
void per_instance(Writer& w, const MetricsView& view, std::string_view name, Type type,
                  std::string_view help, Get get) {
    w.family(name, type, help);
    for (const auto* i : view.instances) w.sample(name, labels(*i), get(*i));
}

}  // namespace

std::string render_metrics(const MetricsView& view) {
    Writer w;
    w.family("vrrpd_instance_info", Type::gauge,
             "Configured virtual routers (value 1) with their VRID, family, version and "
             "interface.");
    for (const auto* i : view.instances) {
        const auto& s = i->settings();
        w.sample("vrrpd_instance_info",
                 {{"vrrp_instance", s.name},
                  {"vrid", std::to_string(s.vrid)},
                  {"family", s.family == Family::inet ? "inet" : "inet6"},
                  {"version", std::to_string(s.protocol.version)},
                  {"interface", s.interface}},
                 1);
    }
    w.family("vrrpd_instance_state", Type::gauge,
             "1 for the state the instance is in (INIT, BACKUP, MASTER, FAULT), else 0.");
    for (const auto* i : view.instances) {
        for (State st : kStates) {
            w.sample("vrrpd_instance_state",
                     {{"vrrp_instance", i->settings().name}, {"state", std::string(to_string(st))}},
                     i->state() == st ? 1 : 0);
        }
    }
    per_instance(w, view, "vrrpd_instance_priority", Type::gauge, "Configured priority.",
                 [](const Instance& i) { return static_cast<double>(i.base_priority()); });
    per_instance(w, view, "vrrpd_instance_effective_priority", Type::gauge,
                 "Priority advertised now, after tracking.", [](const Instance& i) {
                     return static_cast<double>(i.settings().protocol.priority);
                 });
    per_instance(
        w, view, "vrrpd_instance_advert_interval_seconds", Type::gauge,
        "Configured advertisement interval.", [](const Instance& i) {
            return std::chrono::duration<double>(i.settings().protocol.advert_interval).count();
        });
    per_instance(w, view, "vrrpd_transitions_total", Type::counter, "State changes.",
                 [](const Instance& i) { return as_double(i.counters().transitions); });
    per_instance(w, view, "vrrpd_became_master_total", Type::counter, "Transitions to MASTER.",
                 [](const Instance& i) { return as_double(i.counters().became_master); });
    per_instance(w, view, "vrrpd_adverts_sent_total", Type::counter, "Advertisements sent.",
                 [](const Instance& i) { return as_double(i.counters().adverts_sent); });
    per_instance(w, view, "vrrpd_adverts_received_total", Type::counter,
                 "Advertisements received that passed every check.",
                 [](const Instance& i) { return as_double(i.counters().adverts_received); });
    per_instance(w, view, "vrrpd_priority_zero_sent_total", Type::counter,
                 "Priority 0 advertisements sent (leaving MASTER).",
                 [](const Instance& i) { return as_double(i.counters().priority_zero_sent); });
    per_instance(w, view, "vrrpd_priority_zero_received_total", Type::counter,
                 "Priority 0 advertisements received.",
                 [](const Instance& i) { return as_double(i.counters().priority_zero_received); });
    per_instance(w, view, "vrrpd_send_errors_total", Type::counter,
                 "Advertisements the kernel refused to send.",
                 [](const Instance& i) { return as_double(i.counters().send_errors); });
    per_instance(w, view, "vrrpd_address_errors_total", Type::counter,
                 "Virtual address additions, removals or announcements that failed.",
                 [](const Instance& i) { return as_double(i.counters().address_errors); });
    per_instance(w, view, "vrrpd_late_expiries_averted_total", Type::counter,
                 "Master-down timer expiries cancelled by an advert found queued on the socket.",
                 [](const Instance& i) { return as_double(i.counters().late_expiries_averted); });
    w.family("vrrpd_adverts_rejected_total", Type::counter,
             "Received advertisements dropped, by the check that failed (RFC 5798 section 7.1).");
    for (const auto* i : view.instances) {
        for (std::size_t r = 0; r < kRejectReasonCount; ++r) {
            const auto reason = static_cast<RejectReason>(r);
            w.sample("vrrpd_adverts_rejected_total",
                     {{"vrrp_instance", i->settings().name}, {"reason", std::string(name(reason))}},
                     as_double(i->counters().rejected[reason]));
        }
    }
    if (!view.groups.empty()) {
        w.family("vrrpd_sync_group_state", Type::gauge,
                 "1 for the state the vrrp_sync_group is in (STOP, BACKUP, MASTER, FAULT).");
        for (const auto* g : view.groups) {
            for (State st : kStates) {
                w.sample(
                    "vrrpd_sync_group_state",
                    {{"group", g->settings().name}, {"state", std::string(group_state_name(st))}},
                    g->state() == st ? 1 : 0);
            }
        }
    }
    if (view.lvs_sync) {
        w.family("vrrpd_lvs_sync_daemon_running", Type::gauge,
                 "1 while vrrpd runs the IPVS sync daemon in this role.");
        const auto roles = view.lvs_sync->running();
        w.sample("vrrpd_lvs_sync_daemon_running", {{"role", "master"}}, roles.master ? 1 : 0);
        w.sample("vrrpd_lvs_sync_daemon_running", {{"role", "backup"}}, roles.backup ? 1 : 0);
        w.family("vrrpd_lvs_sync_daemon_errors_total", Type::counter,
                 "Sync daemon starts or stops the kernel refused.");
        w.sample("vrrpd_lvs_sync_daemon_errors_total", as_double(view.lvs_sync->errors()));
    }
    return w.text();
}

}  // namespace ipvsctl::vrrp
