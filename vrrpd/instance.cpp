// SPDX-License-Identifier: GPL-2.0-or-later
#include "instance.hpp"

#include <cstring>

namespace ipvsctl::vrrp {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
    using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

constexpr int kLogErr = 3;
constexpr int kLogWarning = 4;
constexpr int kLogInfo = 6;
constexpr int kLogDebug = 7;

}  // namespace

std::string Error::to_string() const {
    if (errnum == 0) return context;
    return context + ": " + std::strerror(errnum);
}

bool same_identity(const InstanceSettings& a, const InstanceSettings& b) {
    return a.name == b.name && a.interface == b.interface && a.family == b.family &&
           a.vrid == b.vrid && a.protocol.version == b.protocol.version &&
           a.addresses == b.addresses && a.unicast_peers == b.unicast_peers &&
           a.source == b.source && a.auth_type == b.auth_type && a.auth_pass == b.auth_pass;
}

Instance::Instance(InstanceSettings settings, Clock& clock, TimerFactory& timers,
                   Transport& transport, AddressControl& addresses, Logger& log)
    : settings_(std::move(settings)),
      clock_(clock),
      transport_(transport),
      addresses_(addresses),
      log_(log),
      adver_timer_(timers.make_timer()),
      master_down_timer_(timers.make_timer()),
      garp_timer_(timers.make_timer()),
      garp_refresh_timer_(timers.make_timer()) {
    machine_.master_adver_interval = settings_.protocol.advert_interval;
    base_priority_ = settings_.protocol.priority;
}

void Instance::set_priority(std::uint8_t priority) {
    if (priority == settings_.protocol.priority) return;
    log_.log(kLogInfo, log_prefix() + " effective priority " +
                           std::to_string(settings_.protocol.priority) + " -> " +
                           std::to_string(priority));
    settings_.protocol.priority = priority;
}

void Instance::set_fault(bool fault) {
    if (fault && machine_.state != State::fault && machine_.state != State::initialize) {
        dispatch(Fault{});
    } else if (!fault && machine_.state == State::fault) {
        dispatch(FaultCleared{});
    }
}

std::string Instance::log_prefix() const {
    return "[" + settings_.name + " vrid " + std::to_string(settings_.vrid) + " " +
           std::string(to_string(settings_.family)) + "]";
}

void Instance::start(bool resume_master) {
    dispatch(Startup{resume_master});
}

void Instance::stop() {
    dispatch(Shutdown{});
    garp_timer_->cancel();
    garp_refresh_timer_->cancel();
}

void Instance::update(InstanceSettings settings) {
    // The resolved source address is a runtime fact, not configuration.
    settings.protocol.primary_address = settings_.protocol.primary_address;
    base_priority_ = settings.protocol.priority;
    settings_ = std::move(settings);
}

Expectation Instance::expectation() const {
    Expectation e;
    e.version = settings_.protocol.version;
    e.family = settings_.family;
    e.vrid = settings_.vrid;
    e.priority = settings_.protocol.priority;
    e.advert_interval = settings_.protocol.advert_interval;
    e.auth_type = settings_.auth_type;
    e.auth_pass = settings_.auth_pass;
    std::vector<Address> mine;
    for (const auto& a : settings_.addresses) {
        if (a.address.family == settings_.family) mine.push_back(a.address);
    }
    e.addresses = std::move(mine);
    return e;
}

void Instance::receive(std::span<const std::uint8_t> message, const IpContext& ip) {
    if (machine_.state == State::initialize) return;  // not running (RFC 5798 section 6.4.1)
    if (ip.source == settings_.protocol.primary_address) return;  // our own, looped back
    auto decoded = decode(message, ip);
    if (!decoded) {
        counters_.rejected.count(decoded.error().reason);
        log_.log(kLogDebug, log_prefix() + " advert from " + ip.source.to_string() +
                                " rejected: " + decoded.error().detail);
        return;
    }
    if (auto bad = check(*decoded, expectation())) {
        counters_.rejected.count(bad->reason);
        // Other VRIDs on the same LAN are normal; everything else is worth
        // a warning (RFC 5798 section 7.1: "SHOULD log the event").
        // A misconfigured peer repeats itself every advert interval: warn
        // on the 1st, 10th, 100th, ... rejection of a reason, debug otherwise.
        const std::uint64_t n = counters_.rejected[bad->reason];
        const bool milestone = n == 1 || n == 10 || n == 100 || n == 1000 || n % 10000 == 0;
        const int prio =
            bad->reason == RejectReason::vrid_mismatch || !milestone ? kLogDebug : kLogWarning;
        log_.log(prio, log_prefix() + " advert from " + ip.source.to_string() + " rejected (" +
                           std::string(name(bad->reason)) + "): " + bad->detail + " [" +
                           std::to_string(n) + " so far]");
        return;
    }
    ++counters_.adverts_received;
    if (decoded->priority == 0) ++counters_.priority_zero_received;
    dispatch(AdvertReceived{decoded->priority, decoded->advert_interval, ip.source});
}

void Instance::dispatch(const Event& event) {
    auto result = step(machine_, settings_.protocol, event, clock_.now());
    machine_ = result.machine;
    transitioned_ = false;
    for (const auto& action : result.actions) run(action);
    // Hooks (notify scripts) see the change once every action has run.
    if (transitioned_ && on_transition_ && last_transition_) on_transition_(*last_transition_);
}

void Instance::send_advert(std::uint8_t priority) {
    Advert a;
    a.version = settings_.protocol.version;
    a.family = settings_.family;
    a.vrid = settings_.vrid;
    a.priority = priority;
    a.advert_interval = settings_.protocol.advert_interval;
    a.auth_type = settings_.auth_type;
    a.auth_pass = settings_.auth_pass;
    for (const auto& v : settings_.addresses) {
        if (v.address.family == settings_.family) a.addresses.push_back(v.address);
    }
    std::vector<Address> destinations = settings_.unicast_peers;
    if (destinations.empty()) {
        destinations.push_back(settings_.family == Family::inet ? vrrp_group_v4()
                                                                : vrrp_group_v6());
    }
    for (const auto& dst : destinations) {
        const auto bytes = encode(a, settings_.protocol.primary_address, dst);
        if (auto err = transport_.send(dst, bytes)) {
            ++counters_.send_errors;
            log_.log(kLogErr, log_prefix() + " sending advert to " + dst.to_string() +
                                  " failed: " + err->to_string());
        } else {
            ++counters_.adverts_sent;
            if (priority == 0) ++counters_.priority_zero_sent;
        }
    }
}

void Instance::master_down_expired() {
    // Late-timer guard: adverts the kernel queued while we were not scheduled
    // are processed first; one that re-arms the timer (RFC 5798 section
    // 6.4.2: a valid advert resets Master_Down_Timer) cancels this expiry.
    if (drain_) drain_();
    if (master_down_timer_->armed()) {
        ++counters_.late_expiries_averted;
        log_.log(kLogDebug, log_prefix() +
                                " master down timer expired with an advert queued: "
                                "no takeover");
        return;
    }
    dispatch(MasterDownTimerFired{});
}

void Instance::arm_garp_refresh() {
    if (settings_.garp_master_refresh.count() <= 0) return;
    garp_refresh_timer_->arm(clock_.now() + settings_.garp_master_refresh, [this] {
        if (machine_.state != State::master) return;
        announce_all(settings_.garp_master_refresh_repeat);
        arm_garp_refresh();
    });
}

void Instance::announce_all(int count) {
    for (const auto& v : settings_.addresses) {
        const auto& dev = v.device.empty() ? settings_.interface : v.device;
        if (auto err = addresses_.announce(dev, v, count)) {
            ++counters_.address_errors;
            log_.log(kLogWarning, log_prefix() + " announcing " + v.address.to_string() +
                                      " failed: " + err->to_string());
        }
    }
}

void Instance::run(const Action& action) {
    const auto now = clock_.now();
    std::visit(
        Overloaded{
            [&](const SendAdvert& a) { send_advert(a.priority); },
            [&](const ArmAdverTimer& a) {
                adver_timer_->arm(now + a.after, [this] { dispatch(AdverTimerFired{}); });
            },
            [&](const ArmMasterDownTimer& a) {
                master_down_timer_->arm(now + a.after, [this] { master_down_expired(); });
            },
            [&](const CancelAdverTimer&) { adver_timer_->cancel(); },
            [&](const CancelMasterDownTimer&) { master_down_timer_->cancel(); },
            [&](const AddAddresses&) {
                for (const auto& v : settings_.addresses) {
                    const auto& dev = v.device.empty() ? settings_.interface : v.device;
                    if (auto err = addresses_.add(dev, v)) {
                        ++counters_.address_errors;
                        log_.log(kLogErr, log_prefix() + " adding " + v.address.to_string() +
                                              " failed: " + err->to_string());
                    }
                }
            },
            [&](const RemoveAddresses&) {
                garp_timer_->cancel();
                garp_refresh_timer_->cancel();
                for (const auto& v : settings_.addresses) {
                    const auto& dev = v.device.empty() ? settings_.interface : v.device;
                    if (auto err = addresses_.remove(dev, v)) {
                        ++counters_.address_errors;
                        log_.log(kLogErr, log_prefix() + " removing " + v.address.to_string() +
                                              " failed: " + err->to_string());
                    }
                }
            },
            [&](const Announce&) {
                announce_all(settings_.garp_repeat);
                arm_garp_refresh();
                // A second burst after garp_master_delay (keepalived's
                // default behaviour), in case the first was lost.
                if (settings_.garp_master_delay.count() > 0) {
                    garp_timer_->arm(now + settings_.garp_master_delay, [this] {
                        if (machine_.state == State::master) announce_all(settings_.garp_repeat);
                    });
                }
            },
            [&](const DropAddressedTraffic& d) {
                if (!drop_traffic_) {
                    if (d.drop) {
                        log_.log(kLogWarning, log_prefix() +
                                                  " accept mode off but no packet filter: "
                                                  "traffic to virtual addresses is accepted");
                    }
                    return;
                }
                if (auto err = drop_traffic_(d.drop)) {
                    ++counters_.address_errors;
                    log_.log(kLogErr,
                             log_prefix() + (d.drop ? " dropping" : " accepting again") +
                                 " traffic to virtual addresses failed: " + err->to_string());
                }
            },
            [&](const Transition& t) {
                ++counters_.transitions;
                last_transition_ = LastTransition{t.from, t.to, std::string(t.why), now};
                transitioned_ = true;
                if (t.to == State::master) ++counters_.became_master;
                log_.log(kLogInfo, log_prefix() + " " + std::string(to_string(t.from)) + " -> " +
                                       std::string(to_string(t.to)) + " (" + std::string(t.why) +
                                       ")");
            },
        },
        action);
}

}  // namespace ipvsctl::vrrp
