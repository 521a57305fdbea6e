// SPDX-License-Identifier: GPL-2.0-or-later
#include "state_machine.hpp"

namespace ipvsctl::vrrp {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
    using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

/// The interval the master is believed to advertise at.
Centiseconds learned_interval(const Settings& s, Centiseconds advertised) {
    // RFC 3768 has no Master_Adver_Interval: v2 always uses its own
    // Advertisement_Interval (and check() drops adverts that differ).
    if (s.version == 2) return s.advert_interval;
    // RFC 5798 section 6.4.2: "Set Master_Adver_Interval to Adver Interval
    // contained in the ADVERTISEMENT". A zero interval is nonsense; keep ours.
    return advertised.count() > 0 ? advertised : s.advert_interval;
}

/// Initialize/Backup -> Master (RFC 5798 sections 6.4.1 and 6.4.2).
void become_master(Machine& m, const Settings& s, std::vector<Action>& out, std::string_view why) {
    out.emplace_back(Transition{m.state, State::master, why});
    out.emplace_back(CancelMasterDownTimer{});
    // The filter goes in before the addresses: no moment of accepting.
    if (!s.accept_mode && !s.owner()) out.emplace_back(DropAddressedTraffic{true});
    out.emplace_back(AddAddresses{});
    out.emplace_back(SendAdvert{s.priority});
    out.emplace_back(Announce{});
    out.emplace_back(ArmAdverTimer{s.advert_interval});
    m.state = State::master;
    m.master_address.reset();
    m.preempt_allowed_at.reset();
}

/// Initialize/Master -> Backup with a fresh Master_Down_Timer.
void become_backup(Machine& m, const Settings& s, std::vector<Action>& out, std::string_view why) {
    const State from = m.state;
    out.emplace_back(Transition{from, State::backup, why});
    if (from == State::master) {
        out.emplace_back(CancelAdverTimer{});
        out.emplace_back(RemoveAddresses{});
        if (!s.accept_mode && !s.owner()) out.emplace_back(DropAddressedTraffic{false});
    }
    out.emplace_back(
        ArmMasterDownTimer{master_down_interval(s.version, s.priority, m.master_adver_interval)});
    m.state = State::backup;
}

StepResult on_initialize(Machine m, const Settings& s, const Event& e, TimePoint now) {
    std::vector<Action> out;
    if (!std::holds_alternative<Startup>(e)) return {m, out};  // nothing else matters here
    m.master_adver_interval = s.advert_interval;
    m.master_address.reset();
    m.preempt_allowed_at.reset();
    if (s.preempt_delay.count() > 0) m.preempt_allowed_at = now + s.preempt_delay;
    // RFC 5798 section 6.4.1: "If the Priority = 255 (i.e., the router owns
    // the IPvX address associated with the VRID)" -> Master, else Backup with
    // Master_Down_Timer = Master_Down_Interval.
    if (s.owner()) {
        become_master(m, s, out, "address owner (priority 255) at startup");
    } else if (std::get<Startup>(e).resume_master) {
        become_master(m, s, out, "resumed after a graceful restart");
    } else {
        become_backup(m, s, out, "startup");
    }
    return {m, out};
}

StepResult on_backup(Machine m, const Settings& s, const Event& e, TimePoint now) {
    std::vector<Action> out;
    std::visit(
        Overloaded{
            [&](const Startup&) {},
            [&](const AdverTimerFired&) {},
            [&](const FaultCleared&) {},
            // keepalived's sync groups: a member became master, so do we.
            [&](const FollowGroup& g) {
                if (g.to == State::master) {
                    become_master(m, s, out, "sync group member became master");
                }
            },
            [&](const Fault&) {
                out.emplace_back(Transition{State::backup, State::fault, "tracked object failed"});
                out.emplace_back(CancelMasterDownTimer{});
                m.state = State::fault;
                m.master_address.reset();
            },
            // RFC 5798 section 6.4.2: Shutdown -> cancel Master_Down_Timer,
            // transition to Initialize.
            [&](const Shutdown&) {
                out.emplace_back(Transition{State::backup, State::initialize, "shutdown"});
                out.emplace_back(CancelMasterDownTimer{});
                m.state = State::initialize;
                m.master_address.reset();
            },
            // "If the Master_Down_Timer fires" -> send an ADVERTISEMENT,
            // broadcast gratuitous ARP / send unsolicited NA, arm Adver_Timer,
            // transition to Master.
            [&](const MasterDownTimerFired&) {
                become_master(m, s, out, "master down timer expired");
            },
            [&](const AdvertReceived& a) {
                if (a.priority == 0) {
                    // "If the Priority in the ADVERTISEMENT is zero, then: Set
                    // the Master_Down_Timer to Skew_Time".
                    out.emplace_back(ArmMasterDownTimer{
                        skew_time(s.version, s.priority, m.master_adver_interval)});
                    return;
                }
                const bool higher_or_equal = a.priority >= s.priority;
                if (!s.preempt || higher_or_equal) {
                    // "If Preempt_Mode is False, or if the Priority in the
                    // ADVERTISEMENT is greater than or equal to the local
                    // Priority": learn Master_Adver_Interval, recompute
                    // Master_Down_Interval, reset Master_Down_Timer.
                    m.master_adver_interval = learned_interval(s, a.advert_interval);
                    m.master_address = a.source;
                    if (higher_or_equal) m.preempt_allowed_at.reset();
                    out.emplace_back(ArmMasterDownTimer{
                        master_down_interval(s.version, s.priority, m.master_adver_interval)});
                    return;
                }
                // A lower-priority master and Preempt_Mode True: the RFC
                // discards the advert so Master_Down_Timer fires. With a
                // preempt_delay we keep honouring it until the delay is over.
                if (s.preempt_delay.count() > 0) {
                    if (!m.preempt_allowed_at) m.preempt_allowed_at = now + s.preempt_delay;
                    if (now < *m.preempt_allowed_at) {
                        m.master_adver_interval = learned_interval(s, a.advert_interval);
                        m.master_address = a.source;
                        out.emplace_back(ArmMasterDownTimer{
                            master_down_interval(s.version, s.priority, m.master_adver_interval)});
                    }
                }
            },
        },
        e);
    return {m, out};
}

StepResult on_master(Machine m, const Settings& s, const Event& e, TimePoint /*now*/) {
    std::vector<Action> out;
    std::visit(
        Overloaded{
            [&](const Startup&) {},
            [&](const MasterDownTimerFired&) {},
            [&](const FaultCleared&) {},
            // A sync group member stepped down to backup: so do we.
            [&](const FollowGroup& g) {
                if (g.to == State::backup) {
                    become_backup(m, s, out, "sync group member left master");
                }
            },
            // Leaving Master for FAULT releases like a shutdown: priority 0
            // so a backup takes over after Skew_Time.
            [&](const Fault&) {
                out.emplace_back(Transition{State::master, State::fault, "tracked object failed"});
                out.emplace_back(CancelAdverTimer{});
                out.emplace_back(SendAdvert{0});
                out.emplace_back(RemoveAddresses{});
                if (!s.accept_mode && !s.owner()) {
                    out.emplace_back(DropAddressedTraffic{false});
                }
                m.state = State::fault;
            },
            // RFC 5798 section 6.4.3: Shutdown -> cancel Adver_Timer, send an
            // ADVERTISEMENT with Priority = 0, transition to Initialize.
            [&](const Shutdown&) {
                out.emplace_back(Transition{State::master, State::initialize, "shutdown"});
                out.emplace_back(CancelAdverTimer{});
                out.emplace_back(SendAdvert{0});
                out.emplace_back(RemoveAddresses{});
                if (!s.accept_mode && !s.owner()) out.emplace_back(DropAddressedTraffic{false});
                m.state = State::initialize;
            },
            // "If the Adver_Timer fires": send an ADVERTISEMENT, reset the
            // Adver_Timer to Advertisement_Interval.
            [&](const AdverTimerFired&) {
                out.emplace_back(SendAdvert{s.priority});
                out.emplace_back(ArmAdverTimer{s.advert_interval});
            },
            [&](const AdvertReceived& a) {
                if (a.priority == 0) {
                    // "If the Priority in the ADVERTISEMENT is zero": send an
                    // ADVERTISEMENT, reset the Adver_Timer.
                    out.emplace_back(SendAdvert{s.priority});
                    out.emplace_back(ArmAdverTimer{s.advert_interval});
                    return;
                }
                // "If the Priority in the ADVERTISEMENT is greater than the
                // local Priority or ... equal ... and the primary IPvX Address
                // of the sender is greater than the local primary IPvX
                // Address (unsigned, network byte order)": -> Backup.
                const bool yields = a.priority > s.priority ||
                                    (a.priority == s.priority && a.source > s.primary_address);
                if (!yields) return;  // "Otherwise: Discard the ADVERTISEMENT"
                m.master_adver_interval = learned_interval(s, a.advert_interval);
                m.master_address = a.source;
                become_backup(m, s, out,
                              a.priority > s.priority ? "higher priority advert"
                                                      : "equal priority, higher address");
            },
        },
        e);
    return {m, out};
}

StepResult on_fault(Machine m, const Settings& s, const Event& e, TimePoint /*now*/) {
    std::vector<Action> out;
    if (std::holds_alternative<FaultCleared>(e)) {
        // Back as a backup with a fresh Master_Down_Timer, like a startup.
        m.master_adver_interval = s.advert_interval;
        become_backup(m, s, out, "tracked objects recovered");
    } else if (std::holds_alternative<Shutdown>(e)) {
        out.emplace_back(Transition{State::fault, State::initialize, "shutdown"});
        m.state = State::initialize;
    }
    return {m, out};
}

}  // namespace

std::string_view to_string(State state) {
    switch (state) {
        case State::initialize:
            return "INIT";
        case State::backup:
            return "BACKUP";
        case State::master:
            return "MASTER";
        case State::fault:
            return "FAULT";
    }
    return "?";
}

std::string_view event_name(const Event& event) {
    return std::visit(
        Overloaded{
            [](const Startup&) { return std::string_view("startup"); },
            [](const Shutdown&) { return std::string_view("shutdown"); },
            [](const MasterDownTimerFired&) { return std::string_view("master_down_timer"); },
            [](const AdverTimerFired&) { return std::string_view("adver_timer"); },
            [](const AdvertReceived&) { return std::string_view("advert"); },
            [](const Fault&) { return std::string_view("fault"); },
            [](const FaultCleared&) { return std::string_view("fault_cleared"); },
            [](const FollowGroup&) { return std::string_view("follow_group"); },
        },
        event);
}

Microseconds skew_time(int version, std::uint8_t priority, Centiseconds master_adver_interval) {
    const std::int64_t p = priority;
    if (version == 2) {
        // RFC 3768 section 6.1: Skew_Time = (256 - Priority) / 256 seconds.
        return Microseconds((256 - p) * 1'000'000 / 256);
    }
    // RFC 5798 section 6.1:
    // Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
    return Microseconds((256 - p) * Microseconds(master_adver_interval).count() / 256);
}

Microseconds master_down_interval(int version, std::uint8_t priority,
                                  Centiseconds master_adver_interval) {
    // RFC 5798 section 6.1: Master_Down_Interval = (3 * Master_Adver_Interval) + Skew_time.
    // RFC 3768 section 6.1: Master_Down_Interval = (3 * Advertisement_Interval) + Skew_time.
    return 3 * master_adver_interval + skew_time(version, priority, master_adver_interval);
}

StepResult step(const Machine& machine, const Settings& settings, const Event& event,
                TimePoint now) {
    switch (machine.state) {
        case State::initialize:
            return on_initialize(machine, settings, event, now);
        case State::backup:
            return on_backup(machine, settings, event, now);
        case State::master:
            return on_master(machine, settings, event, now);
        case State::fault:
            return on_fault(machine, settings, event, now);
    }
    return {machine, {}};
}

}  // namespace ipvsctl::vrrp
