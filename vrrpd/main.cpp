// SPDX-License-Identifier: GPL-2.0-or-later
// vrrpd: parse options, load the configuration, wire instances to sockets,
// timers and rtnetlink, and install signals. The protocol lives elsewhere.
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asio_adapters.hpp"
#include "config/config.hpp"
#include "config/json.hpp"
#include "config_adapter.hpp"
#include "control/server.hpp"
#include "lvs_sync_kernel.hpp"
#include "metrics.hpp"
#include "metrics/metrics.hpp"
#include "net.hpp"
#include "nft/netlink.hpp"
#include "status.hpp"
#include "sync_group.hpp"

namespace asio = boost::asio;
using namespace ipvsctl::vrrp;

namespace {

constexpr int kLogErr = 3;
constexpr int kLogWarning = 4;
constexpr int kLogInfo = 6;
constexpr int kLogDebug = 7;

/// Lines to stderr with a syslog priority prefix ("<6>...") for journald.
class StderrLogger : public Logger {
  public:
    explicit StderrLogger(bool verbose) : verbose_(verbose) {}
    void log(int priority, const std::string& line) override {
        if (priority >= kLogDebug && !verbose_) return;
        std::fprintf(stderr, "<%d>%s\n", priority, line.c_str());
        std::fflush(stderr);
    }

  private:
    bool verbose_;
};

/// Seconds since boot: comparable across the stopping and the starting
/// process, unlike steady_clock, and immune to wall-clock steps.
double boot_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// What a graceful stop (SIGUSR2) leaves for its successor: when it stopped
/// and which instances were master. Plain text, one fact per line.
struct RestartNote {
    double stopped_at = 0;
    std::set<std::string> masters;
};
constexpr const char* kRestartMagic = "vrrpd graceful restart v1";

bool write_restart_note(const std::string& path, const RestartNote& note) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << kRestartMagic << "\nstopped_at " << std::fixed << note.stopped_at << '\n';
        for (const auto& m : note.masters) out << "master " << m << '\n';
        if (!out.flush()) return false;
    }
    return std::rename(tmp.c_str(), path.c_str()) == 0;
}

/// Reads and removes the note: it is good for one start only.
std::optional<RestartNote> take_restart_note(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    (void)std::remove(path.c_str());
    std::string line;
    if (!std::getline(in, line) || line != kRestartMagic) return std::nullopt;
    RestartNote note;
    bool have_time = false;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string key, value;
        fields >> key >> std::ws;
        std::getline(fields, value);
        if (key == "stopped_at") {
            try {
                note.stopped_at = std::stod(value);
                have_time = true;
            } catch (const std::exception&) {
                return std::nullopt;
            }
        } else if (key == "master" && !value.empty()) {
            note.masters.insert(value);
        }
    }
    if (!have_time) return std::nullopt;
    return note;
}

class Daemon {
  public:
    Daemon(asio::io_context& io, Logger& log)
        : io_(io), timers_(io), log_(log), restore_timer_(io) {
        // A killed predecessor's accept-mode filter: we start as backup.
        if (auto removed = ipvsctl::nft::remove_table(ipvsctl::nft::kVrrpTableName); !removed) {
            log_.log(kLogDebug, "vrrpd: nftables: " + removed.error().message());
        }
    }

    /// Keeps runners of unchanged scripts (their state survives a reload),
    /// starts new or changed ones, drops the rest.
    void apply_scripts(const std::vector<ScriptSettings>& wanted) {
        std::map<std::string, std::unique_ptr<ScriptRunner>> next;
        for (const auto& s : wanted) {
            auto it = scripts_.find(s.name);
            if (it != scripts_.end() && it->second->settings() == s) {
                next[s.name] = std::move(it->second);
                continue;
            }
            auto runner = std::make_unique<ScriptRunner>(io_, s, log_);
            runner->start();
            next[s.name] = std::move(runner);
        }
        scripts_ = std::move(next);
    }

    /// Starts, keeps or replaces instances so the running set matches
    /// `wanted`. Unchanged instances keep their state and timers; changed
    /// tunables (priority, intervals, preemption, tracking, notify) are
    /// applied in place; a changed identity restarts the instance.
    int apply(const std::vector<InstanceSettings>& wanted,
              const std::vector<SyncGroupSettings>& groups,
              const std::optional<LvsSyncSettings>& lvs_sync) {
        // No group may move an instance this reload replaces.
        for (auto& [name, g] : groups_) g->clear_members();
        std::map<std::string, std::unique_ptr<Running>> next;
        for (const auto& s : wanted) {
            auto it = running_.find(s.name);
            if (it != running_.end() && it->second->configured == s) {
                next[s.name] = std::move(it->second);
                running_.erase(it);
                continue;
            }
            if (it != running_.end() && same_identity(it->second->configured, s)) {
                log_.log(kLogInfo, it->second->instance->log_prefix() +
                                       " settings changed; applied without a state change");
                it->second->configured = s;
                it->second->instance->update(s);
                next[s.name] = std::move(it->second);
                running_.erase(it);
                continue;
            }
            if (it != running_.end()) {
                log_.log(kLogInfo,
                         it->second->instance->log_prefix() + " configuration changed, restarting");
                it->second->instance->stop();
                running_.erase(it);
            }
            if (auto r = start(s)) next[s.name] = std::move(r);
        }
        for (auto& [name, r] : running_) {
            log_.log(kLogInfo, r->instance->log_prefix() + " removed from configuration");
            r->instance->stop();
        }
        running_ = std::move(next);
        apply_groups(groups);
        apply_lvs_sync(lvs_sync);
        arm_restore();
        arm_tracking();
        return static_cast<int>(running_.size());
    }

    /// {"ok": true, "instances": [...]} for the control socket.
    nlohmann::json status() const {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& [name, r] : running_) {
            auto j = status_json(*r->instance, clock_.now());
            const auto* g = group_of(name);
            j["sync_group"] = g ? nlohmann::json(g->settings().name) : nlohmann::json(nullptr);
            list.push_back(std::move(j));
        }
        nlohmann::json groups = nlohmann::json::array();
        for (const auto& [name, g] : groups_) {
            groups.push_back({{"group", name},
                              {"state", std::string(group_state_name(g->state()))},
                              {"members", g->settings().members}});
        }
        nlohmann::json sync = nullptr;
        if (lvs_sync_) {
            const auto& ls = lvs_sync_->settings();
            sync = {{"interface", ls.interface},
                    {"instance", ls.instance ? nlohmann::json(*ls.instance) : nullptr},
                    {"sync_id", ls.sync_id},
                    {"master", lvs_sync_->running().master},
                    {"backup", lvs_sync_->running().backup},
                    {"errors", lvs_sync_->errors()}};
        }
        return {{"ok", true}, {"instances", list}, {"groups", groups}, {"lvs_sync_daemon", sync}};
    }

    /// Prometheus text for metrics_listen.
    std::string metrics() const {
        MetricsView view;
        for (const auto& [name, r] : running_) view.instances.push_back(r->instance.get());
        for (const auto& [name, g] : groups_) view.groups.push_back(g.get());
        view.lvs_sync = lvs_sync_.get();
        return render_metrics(view);
    }

    /// Instances that may resume as master at their first start (graceful
    /// restart), with the seconds since the predecessor stopped.
    void set_resume(std::set<std::string> masters, double age) {
        resume_ = std::move(masters);
        resume_age_ = age;
    }

    /// Graceful stop for a restart (SIGUSR2): no priority 0, no Shutdown
    /// event, virtual addresses left in place; returns who was master.
    RestartNote stop_for_restart() {
        RestartNote note;
        note.stopped_at = boot_seconds();
        restore_timer_.cancel();
        tracking_timer_.cancel();
        if (lvs_sync_) lvs_sync_->end();
        lvs_sync_.reset();
        for (auto& [name, r] : running_) {
            if (r->instance->state() == State::master) note.masters.insert(name);
        }
        groups_.clear();
        running_.clear();  // timers cancelled with their instances
        scripts_.clear();
        return note;
    }

    void shutdown() {
        restore_timer_.cancel();
        tracking_timer_.cancel();
        // The sync daemons stop first, so stopping instances moves none.
        if (lvs_sync_) lvs_sync_->end();
        lvs_sync_.reset();
        for (auto& [name, r] : running_) r->instance->stop();
        for (auto& [name, g] : groups_) g->set_members({});
        groups_.clear();
        running_.clear();
        scripts_.clear();
    }

  private:
    struct Running {
        InstanceSettings configured;
        std::unique_ptr<VrrpSocket> socket;
        std::unique_ptr<asio::posix::stream_descriptor> watch;
        std::unique_ptr<Instance> instance;
        ~Running() {
            if (watch) (void)watch->release();  // the socket owns the descriptor
        }
    };

    /// Keeps groups whose settings are unchanged (their state survives a
    /// reload), makes new ones, and points each at its running members.
    void apply_groups(const std::vector<SyncGroupSettings>& wanted) {
        std::map<std::string, std::unique_ptr<SyncGroup>> next;
        for (const auto& gs : wanted) {
            auto it = groups_.find(gs.name);
            std::unique_ptr<SyncGroup> g;
            if (it != groups_.end() && it->second->settings() == gs) {
                g = std::move(it->second);
            } else {
                g = std::make_unique<SyncGroup>(gs, log_);
                g->on_state([this](const SyncGroup& group, State, State to) {
                    run_notify(group.settings().notify, "GROUP", group.settings().name, to, 0,
                               "[group " + group.settings().name + "]");
                });
            }
            std::vector<Instance*> members;
            for (const auto& name : gs.members) {
                auto found = running_.find(name);
                if (found != running_.end()) members.push_back(found->second->instance.get());
            }
            g->set_members(std::move(members));
            next[gs.name] = std::move(g);
        }
        groups_ = std::move(next);
    }

    /// Keeps an unchanged binding (its daemons keep running), else stops
    /// the old one's daemons and starts what the new one wants.
    void apply_lvs_sync(const std::optional<LvsSyncSettings>& wanted) {
        if (lvs_sync_ && wanted && lvs_sync_->settings() == *wanted) {
            // The bound instance may have been restarted by this reload.
            lvs_sync_->follow(bound_state(*wanted).value_or(State::initialize));
            return;
        }
        if (lvs_sync_) lvs_sync_->end();
        lvs_sync_.reset();
        if (!wanted) return;
        lvs_sync_ = std::make_unique<LvsSyncBinding>(*wanted, sync_control_, log_);
        lvs_sync_->begin(bound_state(*wanted));
    }

    std::optional<State> bound_state(const LvsSyncSettings& s) const {
        if (!s.instance) return std::nullopt;
        const auto found = running_.find(*s.instance);
        if (found == running_.end()) return std::nullopt;
        return found->second->instance->state();
    }

    SyncGroup* group_of(const std::string& instance) const {
        for (const auto& [name, g] : groups_) {
            if (g->has_member(instance)) return g.get();
        }
        return nullptr;
    }

    std::unique_ptr<Running> start(const InstanceSettings& configured) {
        auto r = std::make_unique<Running>();
        r->configured = configured;
        InstanceSettings s = configured;
        const std::string prefix = "[" + s.name + " vrid " + std::to_string(s.vrid) + " " +
                                   std::string(to_string(s.family)) + "]";
        Address source;
        if (s.source) {
            source = *s.source;
        } else {
            auto found = interface_primary_address(s.interface, s.family);
            if (auto* e = std::get_if<Error>(&found)) {
                log_.log(kLogErr, prefix + " refusing to start: " + e->to_string());
                return nullptr;
            }
            source = std::get<Address>(found);
        }
        s.protocol.primary_address = source;
        auto sock = VrrpSocket::open(s.interface, s.family, source);
        if (auto* e = std::get_if<Error>(&sock)) {
            log_.log(kLogErr, prefix + " refusing to start: " + e->to_string());
            return nullptr;
        }
        r->socket = std::move(std::get<0>(sock));
        r->instance = std::make_unique<Instance>(s, clock_, timers_, *r->socket, addresses_, log_);
        r->watch = std::make_unique<asio::posix::stream_descriptor>(io_, r->socket->receive_fd());
        wait_readable(r.get());
        r->instance->set_receive_drain([this, rp = r.get()] { drain(rp); });
        r->instance->on_drop_traffic(
            [this, inst = r->instance.get()](bool drop) { return drop_traffic(*inst, drop); });
        log_.log(kLogInfo, prefix + " starting on " + s.interface + " from " + source.to_string() +
                               ", priority " + std::to_string(s.protocol.priority) + ", version " +
                               std::to_string(s.protocol.version));
        r->instance->on_transition([this, inst = r->instance.get()](const LastTransition& t) {
            const auto& n = inst->settings();
            run_notify(n.notify, "INSTANCE", n.name, t.to, n.protocol.priority, inst->log_prefix());
            if (auto* g = group_of(n.name)) g->member_transitioned(*inst, t);
            if (lvs_sync_ && lvs_sync_->settings().instance == n.name) lvs_sync_->follow(t.to);
        });
        // Graceful restart: the predecessor was master and stopped less than
        // 3 x Advertisement_Interval ago (below every peer's
        // Master_Down_Interval, RFC 5798 section 6.1), leaving the addresses:
        // no backup can have taken over, so resume as master at once.
        const bool resume =
            resume_.erase(s.name) > 0 &&
            resume_age_ < 3.0 * static_cast<double>(s.protocol.advert_interval.count()) / 100.0 &&
            all_present(s);
        if (resume) {
            log_.log(kLogInfo, prefix + " graceful restart: predecessor was master " +
                                   std::to_string(resume_age_) + " s ago, addresses in place");
        } else {
            // Leftovers from a killed predecessor: a backup must not hold the
            // virtual addresses.
            for (const auto& v : s.addresses) {
                (void)addresses_.remove(v.device.empty() ? s.interface : v.device, v);
            }
        }
        r->instance->start(resume);
        return r;
    }

    bool all_present(const InstanceSettings& s) {
        for (const auto& v : s.addresses) {
            auto there = addresses_.present(v.device.empty() ? s.interface : v.device, v);
            if (auto* b = std::get_if<bool>(&there); !b || !*b) return false;
        }
        return true;
    }

    /// Accept_Mode off (RFC 5798 section 6.4.3): while a non-owner instance
    /// is master, `table inet ipvsctl_vrrp` drops packets to its addresses.
    Status drop_traffic(const Instance& inst, bool drop) {
        const auto& s = inst.settings();
        if (drop) {
            std::vector<ipvsctl::nft::DropRule> rules;
            for (const auto& v : s.addresses) {
                if (auto ip = ipvsctl::config::IpAddress::parse(v.address.to_string())) {
                    rules.push_back({*ip});
                }
            }
            dropping_[s.name] = std::move(rules);
        } else if (dropping_.erase(s.name) == 0) {
            return std::nullopt;
        }
        ipvsctl::nft::Ruleset ruleset;
        for (const auto& [name, rules] : dropping_) {
            ruleset.drops.insert(ruleset.drops.end(), rules.begin(), rules.end());
        }
        // An empty ruleset removes the table.
        auto replaced = ipvsctl::nft::replace_table(ruleset, ipvsctl::nft::kVrrpTableName);
        if (!replaced) return Error{replaced.error().errnum, replaced.error().message()};
        log_.log(kLogInfo, inst.log_prefix() + " accept mode off: traffic to virtual addresses " +
                               (drop ? "dropped" : "no longer dropped") + " (table inet " +
                               std::string(ipvsctl::nft::kVrrpTableName) + ")");
        return std::nullopt;
    }

    /// keepalived's notify scripts: notify_<state> as written, and `notify`
    /// with INSTANCE|GROUP, name, state and priority. Never waits for them.
    void run_notify(const NotifySettings& n, const std::string& kind, const std::string& name,
                    State to, int priority, const std::string& prefix) {
        const std::optional<std::string>* specific = nullptr;
        switch (to) {
            case State::master:
                specific = &n.master;
                break;
            case State::backup:
                specific = &n.backup;
                break;
            case State::fault:
                specific = &n.fault;
                break;
            case State::initialize:
                specific = &n.stop;
                break;
        }
        auto run = [&](const std::string& command, const std::vector<std::string>& args) {
            if (auto err = spawn_detached(command, args, n.user)) {
                log_.log(kLogWarning,
                         prefix + " notify script failed to start: " + err->to_string());
            }
        };
        if (specific && *specific) run(**specific, {});
        if (n.any) {
            run(*n.any + " \"$@\"",
                {kind, name, std::string(group_state_name(to)), std::to_string(priority)});
        }
    }

    /// Processes every datagram queued on r's receive socket, never blocking.
    void drain(Running* r) {
        while (r->socket->receive([r](std::span<const std::uint8_t> m,
                                      const IpContext& ip) { r->instance->receive(m, ip); },
                                  [this, r](const Rejection& why) {
                                      log_.log(kLogDebug, r->instance->log_prefix() +
                                                              " dropped: " + why.detail);
                                  })) {
        }
    }

    void wait_readable(Running* r) {
        r->watch->async_wait(asio::posix::stream_descriptor::wait_read,
                             [this, r](const boost::system::error_code& ec) {
                                 if (ec) return;  // cancelled: r may be gone
                                 drain(r);
                                 wait_readable(r);
                             });
    }

    /// Addresses removed behind our back (a network manager, an operator)
    /// are noticed and restored while we are master.
    void arm_restore() {
        restore_timer_.expires_after(std::chrono::seconds(1));
        restore_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            for (auto& [name, r] : running_) {
                if (r->instance->state() != State::master) continue;
                const auto& s = r->instance->settings();
                for (const auto& v : s.addresses) {
                    const auto& dev = v.device.empty() ? s.interface : v.device;
                    auto there = addresses_.present(dev, v);
                    if (auto* b = std::get_if<bool>(&there); b && !*b) {
                        log_.log(kLogWarning, r->instance->log_prefix() + " " +
                                                  v.address.to_string() +
                                                  " was removed behind our back; restoring");
                        if (auto err = addresses_.add(dev, v)) {
                            log_.log(kLogErr, r->instance->log_prefix() + " " + err->to_string());
                        } else {
                            (void)addresses_.announce(dev, v, s.garp_repeat);
                        }
                    }
                }
            }
            arm_restore();
        });
    }

    /// Interface tracking: every 100 ms, the effective priority or FAULT
    /// from the state of the tracked interfaces (keepalived's rules, see
    /// tracking.hpp).
    void arm_tracking() {
        tracking_timer_.expires_after(std::chrono::milliseconds(100));
        tracking_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            for (auto& [name, r] : running_) {
                const auto& s = r->configured;
                std::vector<TrackedObject> objects = s.track_interfaces;
                if (s.track_primary) objects.push_back(TrackedObject{s.interface, 0, false});
                std::vector<TrackedState> states;
                for (const auto& o : objects) states.push_back({&o, interface_up(o.name)});
                for (const auto& o : s.track_scripts) {
                    const auto found = scripts_.find(o.name);
                    states.push_back({&o, found != scripts_.end() && found->second->up()});
                }
                const auto effective = effective_priority(s.protocol.priority, states);
                if (auto* g = group_of(name)) {
                    // The group decides FAULT for all its members at once.
                    if (effective) r->instance->set_priority(*effective);
                    if (!effective && !g->fault()) {
                        log_.log(kLogWarning, r->instance->log_prefix() +
                                                  " tracked object down; group " +
                                                  g->settings().name + " goes to FAULT");
                    }
                    g->set_member_fault(*r->instance, !effective);
                    continue;
                }
                if (!effective) {
                    if (r->instance->state() != State::fault) {
                        std::string down;
                        for (const auto& t : states) {
                            if (t.up == t.object->reverse && t.object->weight == 0) {
                                down += " " + t.object->name;
                            }
                        }
                        log_.log(kLogWarning,
                                 r->instance->log_prefix() + " tracked object down:" + down);
                    }
                    r->instance->set_fault(true);
                    continue;
                }
                r->instance->set_priority(*effective);
                r->instance->set_fault(false);
            }
            arm_tracking();
        });
    }

    asio::io_context& io_;
    AsioClock clock_;
    AsioTimerFactory timers_;
    KernelAddressControl addresses_;
    Logger& log_;
    asio::steady_timer restore_timer_;
    asio::steady_timer tracking_timer_{io_};
    std::map<std::string, std::unique_ptr<ScriptRunner>> scripts_;
    std::map<std::string, std::unique_ptr<Running>> running_;
    std::map<std::string, std::unique_ptr<SyncGroup>> groups_;
    KernelSyncDaemonControl sync_control_;
    std::unique_ptr<LvsSyncBinding> lvs_sync_;
    std::set<std::string> resume_;
    double resume_age_ = 0;
    /// Instances dropping traffic to their addresses, and those addresses.
    std::map<std::string, std::vector<ipvsctl::nft::DropRule>> dropping_;
};

struct Loaded {
    std::shared_ptr<const ipvsctl::config::Config> config;
    std::vector<InstanceSettings> instances;
    std::vector<ScriptSettings> scripts;
    std::vector<SyncGroupSettings> groups;
    std::optional<LvsSyncSettings> lvs_sync;
};

/// `-i ID`: the name `@ID` conditional lines match (keepalived's --config-id).
std::string config_id;

/// Loads and converts; prints diagnostics. Empty `config` on failure.
Loaded load(const std::string& path, Logger& log, bool to_stderr_plain) {
    Loaded out;
    ipvsctl::config::LoadOptions load_options;
    load_options.config_id = config_id;
    auto result = ipvsctl::config::load_config(path, load_options);
    for (const auto& d : result.diagnostics) {
        if (to_stderr_plain) {
            std::cerr << d.to_string() << '\n';
        } else {
            log.log(d.severity == ipvsctl::config::Severity::error ? kLogErr : kLogWarning,
                    d.to_string());
        }
    }
    if (!result.ok()) return out;
    auto adapted = adapt(*result.config);
    for (const auto& e : adapted.errors) {
        if (to_stderr_plain) {
            std::cerr << e << '\n';
        } else {
            log.log(kLogErr, e);
        }
    }
    if (!adapted.errors.empty()) return out;
    out.config = result.config;
    out.instances = std::move(adapted.instances);
    out.scripts = std::move(adapted.scripts);
    out.groups = std::move(adapted.groups);
    out.lvs_sync = std::move(adapted.lvs_sync);
    return out;
}

/// The scheduling vrrpd runs under: SCHED_FIFO priority (--realtime wins
/// over vrrp_rt_priority), memory locked (with realtime or vrrp_no_swap), and
/// vrrp_cpu_affinity. Applied at startup and again on every reload.
class Scheduling {
  public:
    Scheduling(int cli_realtime, Logger& log) : cli_realtime_(cli_realtime), log_(log) {}

    void apply(const ipvsctl::config::GlobalDefs& defs) {
        const int wanted = cli_realtime_ > 0 ? cli_realtime_ : defs.vrrp_rt_priority.value_or(0);
        if (wanted != realtime_) set_realtime(wanted);
        const bool lock = realtime_ > 0 || defs.vrrp_no_swap;
        if (lock && !locked_) {
            if (mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
                locked_ = true;
            } else {
                log_.log(kLogWarning, std::string("vrrpd: mlockall: ") + std::strerror(errno));
            }
        } else if (!lock && locked_) {
            (void)munlockall();
            locked_ = false;
        }
        if (defs.vrrp_cpu_affinity != affinity_) set_affinity(defs.vrrp_cpu_affinity);
    }

  private:
    void set_realtime(int priority) {
        sched_param param{};
        param.sched_priority = priority;
        const int policy = priority > 0 ? SCHED_FIFO | SCHED_RESET_ON_FORK : SCHED_OTHER;
        if (sched_setscheduler(0, policy, &param) != 0) {
            log_.log(kLogWarning, "vrrpd: SCHED_FIFO " + std::to_string(priority) + ": " +
                                      std::strerror(errno) + "; scheduling unchanged");
            return;
        }
        realtime_ = priority;
        // Timer slack: 1 ns under realtime (the kernel's 50 us default
        // otherwise); a 10 ms advert timer should not be rounded.
        (void)prctl(PR_SET_TIMERSLACK, priority > 0 ? 1UL : 0UL, 0UL, 0UL, 0UL);
        log_.log(kLogInfo, priority > 0 ? "vrrpd: SCHED_FIFO priority " + std::to_string(priority)
                                        : std::string("vrrpd: normal scheduling"));
    }

    void set_affinity(const std::vector<int>& cpus) {
        cpu_set_t set;
        CPU_ZERO(&set);
        std::string shown;
        for (const int cpu : cpus) {
            CPU_SET(static_cast<std::size_t>(cpu), &set);
            shown += " " + std::to_string(cpu);
        }
        if (cpus.empty()) {  // back to every CPU
            for (long cpu = 0; cpu < sysconf(_SC_NPROCESSORS_CONF) && cpu < CPU_SETSIZE; ++cpu) {
                CPU_SET(static_cast<std::size_t>(cpu), &set);
            }
            shown = " any";
        }
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            log_.log(kLogWarning, "vrrpd: vrrp_cpu_affinity" + shown + ": " + std::strerror(errno));
            return;
        }
        affinity_ = cpus;
        log_.log(kLogInfo, "vrrpd: CPU affinity" + shown);
    }

    int cli_realtime_;
    Logger& log_;
    int realtime_ = 0;
    bool locked_ = false;
    std::vector<int> affinity_;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"vrrpd: VRRPv2/v3 director failover (RFC 3768 / RFC 5798)"};
    std::string file = "/etc/ipvsctl/ipvsctl.conf";
    bool check = false;
    bool dump = false;
    bool verbose = false;
    std::string control_path;
    int realtime = 0;
    std::string restart_file;
    app.add_option("-f,--use-file", file, "configuration file (keepalived.conf dialect)");
    app.add_option("-i,--config-id", config_id,
                   "name matched by @NAME conditional lines (default: the host name up to its "
                   "first dot)");
    app.add_flag("--check", check, "validate the configuration and exit (0 good, 1 bad)");
    app.add_flag("--dump", dump, "print the parsed configuration as JSON and exit");
    app.add_option("--control-socket", control_path,
                   "control socket path (default: global_defs control_socket vrrpd, else "
                   "/run/ipvsctl/vrrpd.sock)");
    app.add_option("--realtime", realtime,
                   "run with SCHED_FIFO at this priority (1-99) and locked memory, so adverts "
                   "and timers stay on time when the CPUs are saturated (overrides "
                   "vrrp_rt_priority)")
        ->check(CLI::Range(1, 99));
    app.add_option("--restart-file", restart_file,
                   "where SIGUSR2 (graceful restart) leaves the instances that were master for "
                   "the next start (default: the control socket path + \".restart\")");
    app.add_flag("-v,--verbose", verbose, "log debug lines (every rejected advert)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    StderrLogger log(verbose);
    if (check || dump) {
        auto loaded = load(file, log, true);
        if (!loaded.config) return 1;
        if (dump)
            std::cout << ipvsctl::config::json_text(ipvsctl::config::to_json(*loaded.config))
                      << '\n';
        return 0;
    }

    auto loaded = load(file, log, false);
    if (!loaded.config) {
        log.log(kLogErr, "vrrpd: refusing to start: " + file + " is not valid");
        return 1;
    }
    Scheduling scheduling(realtime, log);
    scheduling.apply(loaded.config->global_defs);
    if (control_path.empty()) {
        const auto& sockets = loaded.config->global_defs.control_socket;
        const auto found = sockets.find(ipvsctl::config::Daemon::vrrpd);
        control_path = found != sockets.end() ? found->second : "/run/ipvsctl/vrrpd.sock";
    }
    if (restart_file.empty()) restart_file = control_path + ".restart";
    asio::io_context io;
    Daemon daemon(io, log);
    if (auto note = take_restart_note(restart_file)) {
        daemon.set_resume(note->masters, boot_seconds() - note->stopped_at);
    }
    daemon.apply_scripts(loaded.scripts);
    const int started = daemon.apply(loaded.instances, loaded.groups, loaded.lvs_sync);
    if (started == 0 && !loaded.instances.empty()) {
        log.log(kLogErr, "vrrpd: refusing to start: no instance could start");
        return 1;
    }
    log.log(kLogInfo, "vrrpd: " + std::to_string(started) + " instance(s) running from " + file);

    daemon.set_resume({}, 0);  // only the first start may resume
    std::unique_ptr<ipvsctl::control::Server> control;
    try {
        control = std::make_unique<
            ipvsctl::control::Server>(io, control_path, [&](const nlohmann::json& request) {
            const auto command = request.value("command", std::string());
            if (command == "status") return daemon.status();
            return nlohmann::json{{"ok", false}, {"error", "unknown command '" + command + "'"}};
        });
    } catch (const std::exception& e) {
        log.log(kLogWarning, std::string("vrrpd: ") + e.what() + "; running without it");
    }

    // metrics_listen vrrpd ADDR:PORT: opt-in Prometheus endpoint; a reload
    // that changes it moves it.
    std::unique_ptr<ipvsctl::metrics::HttpExporter> exporter;
    std::optional<ipvsctl::config::Endpoint> exporter_at;
    auto apply_metrics = [&](const ipvsctl::config::Config& config) {
        const auto& listen = config.global_defs.metrics_listen;
        const auto found = listen.find(ipvsctl::config::Daemon::vrrpd);
        std::optional<ipvsctl::config::Endpoint> wanted;
        if (found != listen.end()) wanted = found->second;
        if (wanted == exporter_at && (exporter || !wanted)) return;
        exporter.reset();
        exporter_at = wanted;
        if (!wanted) return;
        try {
            const auto address = asio::ip::make_address(wanted->address.to_string());
            exporter = std::make_unique<ipvsctl::metrics::HttpExporter>(
                io, asio::ip::tcp::endpoint(address, wanted->port),
                [&daemon] { return daemon.metrics(); });
            log.log(kLogInfo, "vrrpd: metrics on http://" + wanted->to_string() + "/metrics");
        } catch (const std::exception& e) {
            log.log(kLogErr, "vrrpd: metrics_listen " + wanted->to_string() + ": " + e.what() +
                                 "; running without metrics");
        }
    };
    apply_metrics(*loaded.config);

    asio::signal_set stop_signals(io, SIGTERM, SIGINT);
    asio::signal_set reload_signal(io, SIGHUP);
    asio::signal_set restart_signal(io, SIGUSR2);
    // SIGUSR2: stop for a restart. Masters keep their addresses and send no
    // priority 0; the next start resumes them (see Daemon::start).
    restart_signal.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        sd_notify(0, "STOPPING=1");
        const auto note = daemon.stop_for_restart();
        if (write_restart_note(restart_file, note)) {
            log.log(kLogInfo, "vrrpd: SIGUSR2, stopping for a restart; " +
                                  std::to_string(note.masters.size()) +
                                  " master instance(s) keep their addresses (" + restart_file +
                                  ")");
        } else {
            log.log(kLogErr, "vrrpd: SIGUSR2: cannot write " + restart_file + ": " +
                                 std::strerror(errno) + "; the next start will not resume");
        }
        control.reset();
        exporter.reset();
        reload_signal.cancel();
        stop_signals.cancel();
        io.stop();
    });
    stop_signals.async_wait([&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        sd_notify(0, "STOPPING=1");
        log.log(kLogInfo, std::string("vrrpd: ") + (signo == SIGTERM ? "SIGTERM" : "SIGINT") +
                              ", releasing addresses");
        daemon.shutdown();
        control.reset();
        exporter.reset();
        reload_signal.cancel();
        restart_signal.cancel();
        io.stop();
    });
    std::function<void()> wait_reload = [&] {
        reload_signal.async_wait([&](const boost::system::error_code& ec, int) {
            if (ec) return;
            sd_notify(0, "RELOADING=1");
            log.log(kLogInfo, "vrrpd: SIGHUP, reloading " + file);
            auto next = load(file, log, false);
            if (!next.config) {
                log.log(kLogErr, "vrrpd: reload failed; keeping the running configuration");
            } else {
                scheduling.apply(next.config->global_defs);
                daemon.apply_scripts(next.scripts);
                const int n = daemon.apply(next.instances, next.groups, next.lvs_sync);
                apply_metrics(*next.config);
                log.log(kLogInfo, "vrrpd: reloaded, " + std::to_string(n) + " instance(s)");
            }
            sd_notify(0, "READY=1");
            wait_reload();
        });
    };
    wait_reload();
    sd_notify(0, "READY=1");
    io.run();
    return 0;
}
