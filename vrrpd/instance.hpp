// SPDX-License-Identifier: GPL-2.0-or-later
// One running virtual router: feeds events to the pure state machine and
// carries out its actions through injected interfaces (clock, timers,
// transport, addresses, log). This is the only place that changes state,
// logs "A -> B", and counts transitions.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "clock.hpp"
#include "packet.hpp"
#include "state_machine.hpp"
#include "tracking.hpp"

namespace ipvsctl::vrrp {

/// An error as a value: errno (0 if none applies) and what was being done.
struct Error {
    int errnum = 0;
    std::string context;
    [[nodiscard]] std::string to_string() const;
};
/// nullopt on success.
using Status = std::optional<Error>;

/// A virtual address with its prefix (as rtnetlink adds it).
struct VirtualAddress {
    Address address;
    int prefix_length = 32;
    std::string device;  ///< empty: the instance's interface
    friend bool operator==(const VirtualAddress&, const VirtualAddress&) = default;
};

/// Notify scripts (keepalived's notify, notify_master, ...): commands as
/// written, run through /bin/sh as `user`.
struct NotifySettings {
    std::optional<std::string> master;
    std::optional<std::string> backup;
    std::optional<std::string> fault;
    std::optional<std::string> stop;
    /// `notify`: called with INSTANCE, the name, the new state and priority.
    std::optional<std::string> any;
    std::optional<std::string> user;
    friend bool operator==(const NotifySettings&, const NotifySettings&) = default;
};

/// Everything one instance needs, converted from the configuration.
struct InstanceSettings {
    std::string name;  ///< "VI_1"
    std::string interface;
    Family family = Family::inet;
    std::uint8_t vrid = 0;
    Settings protocol;
    AuthType auth_type = AuthType::none;
    std::string auth_pass;
    std::vector<VirtualAddress> addresses;
    /// Empty: multicast to 224.0.0.18 / ff02::12.
    std::vector<Address> unicast_peers;
    /// Gratuitous ARP / NA: how many per burst, and a second burst after
    /// garp_master_delay (0: none).
    int garp_repeat = 5;
    Centiseconds garp_master_delay{500};
    /// While master, announce again every garp_master_refresh (0: never),
    /// garp_master_refresh_repeat times each.
    Centiseconds garp_master_refresh{0};
    int garp_master_refresh_repeat = 1;
    /// Explicit source address (unicast_src_ip / mcast_src_ip); else the
    /// interface's primary (v4) or link-local (v6) address is looked up.
    std::optional<Address> source;
    /// Interfaces whose state changes our priority or puts us in FAULT; the
    /// instance's own interface is tracked with weight 0 unless
    /// dont_track_primary.
    std::vector<TrackedObject> track_interfaces;
    bool track_primary = true;
    /// vrrp_script names with their weights (see tracking.hpp).
    std::vector<TrackedObject> track_scripts;
    NotifySettings notify;

    friend bool operator==(const InstanceSettings&, const InstanceSettings&) = default;
};

/// Whether `b` can replace `a` in a running instance without restarting it:
/// everything that names the virtual router on the wire and in the kernel is
/// the same (name, interface, family, VRID, version, addresses, peers, source,
/// authentication); priority, intervals, preemption and GARP settings may
/// differ and take effect from the next event.
bool same_identity(const InstanceSettings& a, const InstanceSettings& b);

/// Sends encoded adverts.
class Transport {
  public:
    virtual ~Transport() = default;
    virtual Status send(const Address& destination, std::span<const std::uint8_t> message) = 0;
};

/// Adds, removes and announces virtual addresses (rtnetlink, ARP, NDP).
class AddressControl {
  public:
    virtual ~AddressControl() = default;
    virtual Status add(const std::string& interface, const VirtualAddress& address) = 0;
    virtual Status remove(const std::string& interface, const VirtualAddress& address) = 0;
    /// Gratuitous ARP (v4) or unsolicited NA (v6), `count` times.
    virtual Status announce(const std::string& interface, const VirtualAddress& address,
                            int count) = 0;
};

/// Log sink; `priority` is a syslog priority (LOG_INFO = 6, ...).
class Logger {
  public:
    virtual ~Logger() = default;
    virtual void log(int priority, const std::string& line) = 0;
};

/// Plain counters, asserted by tests and exported as status and metrics.
struct Counters {
    std::uint64_t adverts_received = 0;
    std::uint64_t adverts_sent = 0;
    std::uint64_t priority_zero_received = 0;
    std::uint64_t priority_zero_sent = 0;
    std::uint64_t transitions = 0;
    std::uint64_t became_master = 0;
    std::uint64_t send_errors = 0;
    std::uint64_t address_errors = 0;
    /// Master-down expiries cancelled by an advert found queued on the socket.
    std::uint64_t late_expiries_averted = 0;
    RejectCounters rejected;
};

/// The most recent state change and why it happened.
struct LastTransition {
    State from = State::initialize;
    State to = State::initialize;
    std::string why;
    TimePoint at{};
};

class Instance {
  public:
    Instance(InstanceSettings settings, Clock& clock, TimerFactory& timers, Transport& transport,
             AddressControl& addresses, Logger& log);

    /// Startup event (RFC 5798 section 6.4.1); `resume_master`: see Startup.
    void start(bool resume_master = false);
    /// Shutdown event: a master sends priority 0 and drops its addresses.
    void stop();
    /// A received VRRP message (IP header already removed).
    void receive(std::span<const std::uint8_t> message, const IpContext& ip);
    /// Replaces the settings without a state change (reload of an instance
    /// whose protocol settings are unchanged, or a priority change).
    void update(InstanceSettings settings);
    /// Effective priority from tracking (the configured one is kept as the
    /// base); takes effect with the next advert.
    void set_priority(std::uint8_t priority);
    /// Enters or leaves FAULT (a weight-0 tracked object failed/recovered).
    void set_fault(bool fault);
    /// Moves with the sync group (see sync_group.hpp): to master from
    /// backup, or to backup from master; anything else is ignored.
    void follow_group(State to) { dispatch(FollowGroup{to}); }
    /// Reads every advert already queued on the receive socket (without
    /// blocking) and feeds each to receive(). Called when the master-down
    /// timer fires, before the expiry is acted on: a starved process may be
    /// woken by the timer with an in-time advert still unread (issue 5).
    void set_receive_drain(std::function<void()> drain) { drain_ = std::move(drain); }
    /// Accept_Mode off on a non-owner master (RFC 5798 section 6.4.3): called
    /// with true on entering MASTER (before the addresses are added) and
    /// false on leaving it (after they are removed); the daemon drops packets
    /// addressed to the virtual addresses in between.
    void on_drop_traffic(std::function<Status(bool drop)> hook) { drop_traffic_ = std::move(hook); }
    /// Called after every state change (the daemon runs notify scripts).
    void on_transition(std::function<void(const LastTransition&)> hook) {
        on_transition_ = std::move(hook);
    }
    /// The configured priority, before tracking adjusts it.
    [[nodiscard]] std::uint8_t base_priority() const { return base_priority_; }

    [[nodiscard]] State state() const { return machine_.state; }
    [[nodiscard]] const Machine& machine() const { return machine_; }
    [[nodiscard]] const InstanceSettings& settings() const { return settings_; }
    [[nodiscard]] const Counters& counters() const { return counters_; }
    [[nodiscard]] const std::optional<LastTransition>& last_transition() const {
        return last_transition_;
    }
    /// "[VI_1 vrid 51 v4]"
    [[nodiscard]] std::string log_prefix() const;

  private:
    void dispatch(const Event& event);
    void run(const Action& action);
    void send_advert(std::uint8_t priority);
    void master_down_expired();
    void announce_all(int count);
    void arm_garp_refresh();
    [[nodiscard]] Expectation expectation() const;

    InstanceSettings settings_;
    Clock& clock_;
    Transport& transport_;
    AddressControl& addresses_;
    Logger& log_;
    std::unique_ptr<Timer> adver_timer_;
    std::unique_ptr<Timer> master_down_timer_;
    std::unique_ptr<Timer> garp_timer_;
    std::unique_ptr<Timer> garp_refresh_timer_;
    Machine machine_;
    Counters counters_;
    std::optional<LastTransition> last_transition_;
    std::uint8_t base_priority_ = 0;
    std::function<void(const LastTransition&)> on_transition_;
    std::function<void()> drain_;
    std::function<Status(bool)> drop_traffic_;
    bool transitioned_ = false;
};

}  // namespace ipvsctl::vrrp
