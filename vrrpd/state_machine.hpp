// SPDX-License-Identifier: GPL-2.0-or-later
// The VRRP state machine (RFC 5798 section 6.4, RFC 3768 section 6.4) as a
// pure function: step(machine, settings, event, now) -> (machine, actions).
//
// Nothing here touches a clock, a socket or the kernel. Timers are actions
// ("arm the Master_Down_Timer for 3.61 s"); the runtime (instance.hpp) runs
// the actions and feeds timer expiries and received adverts back as events.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "types.hpp"

namespace ipvsctl::vrrp {

/// RFC 5798 section 6.4, plus keepalived's FAULT: a tracked interface or
/// script with weight 0 failed, so the router neither advertises nor
/// takes over until it recovers.
enum class State : std::uint8_t { initialize, backup, master, fault };

/// "INIT", "BACKUP", "MASTER", "FAULT" (as keepalived and the log lines spell them).
std::string_view to_string(State state);

/// The parameters of one virtual router (RFC 5798 section 6.1).
struct Settings {
    int version = 3;  ///< 2 (RFC 3768) or 3 (RFC 5798)
    /// 1..254 for backups, 255 for the address owner (RFC 5798 section 5.2.4).
    std::uint8_t priority = 100;
    /// Advertisement_Interval; v2 only knows whole seconds.
    Centiseconds advert_interval{100};
    /// Preempt_Mode: a higher-priority backup preempts a lower-priority master.
    bool preempt = true;
    /// keepalived's preempt_delay: after startup, or after first seeing a
    /// lower-priority master, wait this long before preempting it.
    Centiseconds preempt_delay{0};
    /// Accept_Mode (RFC 5798 section 6.1): whether a non-owner master accepts
    /// packets addressed to the virtual addresses.
    bool accept_mode = true;
    /// Our primary address on the interface (the tie-break of section 6.4.3).
    Address primary_address;

    [[nodiscard]] bool owner() const { return priority == 255; }
    friend bool operator==(const Settings&, const Settings&) = default;
};

/// Skew_Time (RFC 5798 section 6.1):
///   v3: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256  [centiseconds]
///   v2: Skew_Time = (256 - Priority) / 256                            [seconds]
/// (RFC 3768 section 6.1). Integer division truncates to whole centiseconds.
Microseconds skew_time(int version, std::uint8_t priority, Centiseconds master_adver_interval);

/// Master_Down_Interval (RFC 5798 section 6.1, RFC 3768 section 6.1):
///   v3: Master_Down_Interval = (3 * Master_Adver_Interval) + Skew_time
///   v2: Master_Down_Interval = (3 * Advertisement_Interval) + Skew_time
Microseconds master_down_interval(int version, std::uint8_t priority,
                                  Centiseconds master_adver_interval);

/// What the machine remembers between events.
struct Machine {
    State state = State::initialize;
    /// Master_Adver_Interval (RFC 5798 section 6.1): learned from the
    /// master's adverts in Backup (v3); the configured interval for v2.
    Centiseconds master_adver_interval{100};
    /// When preemption of a lower-priority master becomes allowed
    /// (preempt_delay); unset when no delay is running.
    std::optional<TimePoint> preempt_allowed_at;
    /// The router we believe is master (unset when it is us or unknown).
    std::optional<Address> master_address;

    friend bool operator==(const Machine&, const Machine&) = default;
};

// Events (RFC 5798 section 6.4).
struct Startup {
    /// Graceful restart (vrrpd(8), SIGUSR2): our predecessor was master moments
    /// ago and left the virtual addresses in place, so resume as Master at once
    /// (an advert now) before any backup's Master_Down_Timer can expire. A
    /// higher-priority peer still wins through the Master-state rules.
    bool resume_master = false;
};
struct Shutdown {};
struct MasterDownTimerFired {};
struct AdverTimerFired {};
/// A tracked object with weight 0 failed (-> FAULT) / every one recovered.
struct Fault {};
struct FaultCleared {};
/// An advert that passed every receive check (packet.hpp check()).
struct AdvertReceived {
    std::uint8_t priority = 0;
    Centiseconds advert_interval{100};
    Address source;
};
/// Another member of our vrrp_sync_group changed state and the group moves
/// with it: `to` is master (a backup becomes master at once) or backup (a
/// master steps down). Other states ignore it.
struct FollowGroup {
    State to = State::backup;
};
using Event = std::variant<Startup, Shutdown, MasterDownTimerFired, AdverTimerFired, AdvertReceived,
                           Fault, FaultCleared, FollowGroup>;

/// "startup", "shutdown", "master_down_timer", "adver_timer", "advert",
/// "fault", "fault_cleared", "follow_group".
std::string_view event_name(const Event& event);

// Actions, run in order by the runtime.
struct SendAdvert {
    std::uint8_t priority = 0;  ///< 0 on shutdown (RFC 5798 section 6.4.3)
    friend bool operator==(const SendAdvert&, const SendAdvert&) = default;
};
struct ArmAdverTimer {
    Centiseconds after{};
    friend bool operator==(const ArmAdverTimer&, const ArmAdverTimer&) = default;
};
struct ArmMasterDownTimer {
    Microseconds after{};
    friend bool operator==(const ArmMasterDownTimer&, const ArmMasterDownTimer&) = default;
};
struct CancelAdverTimer {
    friend bool operator==(const CancelAdverTimer&, const CancelAdverTimer&) = default;
};
struct CancelMasterDownTimer {
    friend bool operator==(const CancelMasterDownTimer&, const CancelMasterDownTimer&) = default;
};
/// Add the virtual addresses to the interface.
struct AddAddresses {
    friend bool operator==(const AddAddresses&, const AddAddresses&) = default;
};
/// Remove the virtual addresses from the interface.
struct RemoveAddresses {
    friend bool operator==(const RemoveAddresses&, const RemoveAddresses&) = default;
};
/// Gratuitous ARP (IPv4) / unsolicited Neighbor Advertisement (IPv6) for
/// each virtual address (RFC 5798 section 6.4.1 / 6.4.2).
struct Announce {
    friend bool operator==(const Announce&, const Announce&) = default;
};
/// Accept_Mode False (RFC 5798 section 6.1): a non-owner master must drop
/// packets addressed to the virtual addresses; `drop` false lifts that.
struct DropAddressedTraffic {
    bool drop = false;
    friend bool operator==(const DropAddressedTraffic&, const DropAddressedTraffic&) = default;
};
/// The state changed; `why` is a short readable cause.
struct Transition {
    State from = State::initialize;
    State to = State::initialize;
    std::string_view why;
    friend bool operator==(const Transition&, const Transition&) = default;
};
using Action = std::variant<SendAdvert, ArmAdverTimer, ArmMasterDownTimer, CancelAdverTimer,
                            CancelMasterDownTimer, AddAddresses, RemoveAddresses, Announce,
                            DropAddressedTraffic, Transition>;

struct StepResult {
    Machine machine;
    std::vector<Action> actions;
};

/// The whole protocol logic: the next machine and what to do about it.
StepResult step(const Machine& machine, const Settings& settings, const Event& event,
                TimePoint now);

}  // namespace ipvsctl::vrrp
