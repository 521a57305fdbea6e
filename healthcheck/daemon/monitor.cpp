// SPDX-License-Identifier: GPL-2.0-or-later
#include "monitor.hpp"

#include <boost/asio/defer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <unordered_map>

#include "log.hpp"

namespace ipvsctl::healthcheck {
namespace {

std::string_view to_string(ServerVerdict verdict) {
    switch (verdict) {
        case ServerVerdict::up:
            return "up";
        case ServerVerdict::down:
            return "down";
        case ServerVerdict::unknown:
            break;
    }
    return "unknown";
}

std::string describe(const Operation& op) {
    std::string text = op.service.key.to_string();
    if (op.kind == OpKind::AddDestination || op.kind == OpKind::EditDestination ||
        op.kind == OpKind::DeleteDestination)
        text +=
            " -> " + op.destination.endpoint() + " weight " + std::to_string(op.destination.weight);
    return text;
}

std::string elapsed_ms(std::chrono::steady_clock::time_point from,
                       std::chrono::steady_clock::time_point to) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

double seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}

/// The reader thread gives way to the loop: in a guest with two CPUs, a read
/// of 10,000 servers took a CPU from the probes for as long as it ran. Nice
/// 10, not SCHED_IDLE: on a busy host a repair still comes (a tenth of a CPU).
void yield_to_loop() {
    // Best effort (Linux: per thread): otherwise it reads at the loop's priority.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
}

/// Notes how long the loop spent in one piece of work (wall time).
class StallTimer {
  public:
    StallTimer(Monitor& monitor, LoopWork work)
        : monitor_(monitor), work_(work), started_(std::chrono::steady_clock::now()) {}
    ~StallTimer() {
        monitor_.note_stall(work_, std::chrono::duration_cast<Duration>(
                                       std::chrono::steady_clock::now() - started_));
    }
    StallTimer(const StallTimer&) = delete;
    StallTimer& operator=(const StallTimer&) = delete;

  private:
    Monitor& monitor_;
    LoopWork work_;
    std::chrono::steady_clock::time_point started_;
};

/// Times as Unix seconds: steady time points are mapped through the wall
/// clock now.
nlohmann::json availability_json(const AvailabilityReport& report, TimePoint now) {
    const double wall_now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const auto wall = [&](TimePoint t) {
        return wall_now - std::chrono::duration<double>(now - t).count();
    };
    nlohmann::json downtime = nlohmann::json::array();
    for (const auto& interval : report.downtime) {
        const TimePoint end = interval.end.value_or(now);
        downtime.push_back(
            {{"start", wall(interval.start)},
             {"end", interval.end ? nlohmann::json(wall(end)) : nullptr},
             {"seconds", std::chrono::duration<double>(end - interval.start).count()}});
    }
    return {{"ratio", report.ratio},
            {"nines", report.nines ? nlohmann::json(*report.nines) : nullptr},
            {"observed_seconds", seconds(report.observed)},
            {"up_seconds", seconds(report.up)},
            {"downtime_count", report.downtime_count},
            {"downtime", downtime}};
}

}  // namespace

std::string_view to_string(LoopWork work) {
    switch (work) {
        case LoopWork::probes:
            return "probes";
        case LoopWork::outcomes:
            return "outcomes";
        case LoopWork::reconcile:
            return "reconcile";
        case LoopWork::repair:
            return "repair";
        case LoopWork::drain:
            return "drain";
        case LoopWork::metrics:
            return "metrics";
        case LoopWork::status:
            return "status";
        case LoopWork::trim:
            return "trim";
        case LoopWork::reload:
            return "reload";
    }
    return "unknown";
}

Monitor::Monitor(boost::asio::io_context& io, const Clock& clock, Kernel& kernel,
                 SessionOptions session_options)
    : io_(io),
      clock_(clock),
      kernel_(kernel),
      session_options_(std::move(session_options)),
      scheduler_(clock, kWakeGrid),
      wake_(io),
      repair_(io),
      drain_timer_(io),
      lag_timer_(io),
      scripts_(io, session_options_.script_user),
      reader_(kernel_.background_reader()) {
    if (reader_) boost::asio::post(reader_thread_, yield_to_loop);
}

Monitor::~Monitor() {
    // A read in progress finishes; its result finds the monitor gone.
    reader_thread_.stop();
    reader_thread_.join();
}

void Monitor::note_stall(LoopWork work, Duration took) {
    auto& longest = stall_max_[static_cast<std::size_t>(work)];
    longest = std::max(longest, took);
}

std::string Monitor::label(ServerIndex server) const {
    return "[" + servers_[server].vs->key() + " -> " + servers_[server].rs->key() + "]";
}

bool Monitor::load(std::shared_ptr<const config::Config> config, const std::vector<bool>* unchanged,
                   std::shared_ptr<const config::Config> kept,
                   const std::shared_ptr<const config::Config>& unchanged_from, bool lean) {
    const bool first = config_ == nullptr;
    const auto load_started = std::chrono::steady_clock::now();
    std::set<ServiceKey> owned;
    if (unchanged != nullptr && unchanged->size() != config->virtual_servers.size())
        unchanged = nullptr;
    if (kept != nullptr && kept->virtual_servers.size() != config->virtual_servers.size())
        kept = nullptr;
    // A lean configuration lacks the real servers of its unchanged virtual
    // servers: only this monitor's state of exactly that configuration has
    // what they need (checkers, targets).
    if (lean && (unchanged == nullptr || kept == nullptr || config_ == nullptr ||
                 config_ != unchanged_from))
        return false;

    // The virtual servers in force, by key: where their servers are.
    struct OldVs {
        ServerIndex first = 0;
        ServerIndex count = 0;
        const config::VirtualServer* vs = nullptr;
    };
    std::unordered_map<std::string, OldVs> old_vs;
    for (ServerIndex i = 0; i < servers_.size();) {
        const config::VirtualServer* vs = servers_[i].vs;
        const ServerIndex begin = i;
        while (i < servers_.size() && servers_[i].vs == vs) ++i;
        old_vs.emplace(vs->key(), OldVs{begin, i - begin, vs});
    }
    if (config_ != nullptr)
        for (const auto& vs : config_->virtual_servers)
            if (vs.real_servers.empty()) old_vs.emplace(vs.key(), OldVs{0, 0, &vs});
    // Per new virtual server, the old one it carries on unchanged (whose
    // servers and checkers are taken as they are), if any.
    std::vector<const OldVs*> carried(config->virtual_servers.size(), nullptr);
    std::vector<bool> old_carried(servers_.size(), false);
    if (unchanged != nullptr && config_ != nullptr) {
        for (std::size_t v = 0; v < carried.size(); ++v) {
            if (!(*unchanged)[v]) continue;
            // Lean: the real servers (without checkers, whose count the
            // configuration in force vouches for) are only in `kept`.
            const auto& vs = lean ? kept->virtual_servers[v] : config->virtual_servers[v];
            const auto found = old_vs.find(vs.key());
            if (found == old_vs.end()) {
                if (lean) return false;  // nothing changed yet
                continue;
            }
            const OldVs& old = found->second;
            if (old.vs->real_servers.size() != vs.real_servers.size() ||
                old.count != vs.real_servers.size()) {
                if (lean) return false;  // nothing changed yet
                continue;
            }
            bool same = true;
            for (ServerIndex r = 0; same && r < old.count; ++r) {
                const auto& before = servers_[old.first + r];
                const auto& now = vs.real_servers[r];
                same = before.rs->address == now.address && before.rs->port == now.port &&
                       (lean || before.checker_count == now.checkers.size());
            }
            if (!same) {
                if (lean) return false;  // nothing changed yet
                continue;
            }
            carried[v] = &old;
            for (ServerIndex r = 0; r < old.count; ++r) old_carried[old.first + r] = true;
        }
    }

    // The other servers of the configuration in force, by key: a reload
    // carries their state over (the old configuration is alive until the end).
    std::unordered_map<std::string, ServerIndex> old_servers;
    for (ServerIndex i = 0; i < servers_.size();) {
        const config::VirtualServer* vs = servers_[i].vs;
        const std::string vs_key = vs->key() + '\n';
        for (; i < servers_.size() && servers_[i].vs == vs; ++i)
            if (!old_carried[i]) old_servers.emplace(vs_key + servers_[i].rs->key(), i);
    }
    // The services a reload plans: those of changed virtual servers and
    // those that went away (null: all).
    std::optional<std::set<ServiceKey>> scope;
    if (!first && unchanged != nullptr) scope.emplace();
    // The targets there are, by identity; the ones no checker takes are
    // removed. Those of the configuration in force as (hash of identity, id)
    // sorted, the identity compared on a match: 16 bytes each and one
    // allocation, where a map of 37,000 identities allocated two blocks per
    // target on every reload. This load's new targets go to a map.
    const std::hash<std::string> hash_identity;
    std::vector<std::pair<std::size_t, TargetId>> old_ids;
    old_ids.reserve(target_count_);
    const std::size_t old_slots = targets_.size();
    for (TargetId id = 0; id < old_slots; ++id) {
        auto& target = targets_[id];
        if (!target.session) continue;
        old_ids.emplace_back(hash_identity(target.identity), id);
        target.first_subscriber = kNone;
    }
    std::sort(old_ids.begin(), old_ids.end());
    std::unordered_map<std::string, TargetId> added_ids;
    const auto find_target = [&](const std::string& identity) -> std::optional<TargetId> {
        const std::size_t hash = hash_identity(identity);
        for (auto it = std::lower_bound(old_ids.begin(), old_ids.end(),
                                        std::pair<std::size_t, TargetId>{hash, 0});
             it != old_ids.end() && it->first == hash; ++it)
            if (targets_[it->second].identity == identity) return it->second;
        if (const auto found = added_ids.find(identity); found != added_ids.end())
            return found->second;
        return std::nullopt;
    };
    std::vector<bool> wanted(old_slots, false);
    std::vector<bool> fresh(old_slots, false);  // created by this load
    std::vector<std::uint32_t> last_subscriber(old_slots, kNone);
    std::vector<TargetId> added_targets;

    // What the monitor keeps of the configuration: its virtual servers
    // without checkers (each probe target's session holds its own resolved
    // copy, and servers_ and checkers_ the rest), and nothing of VRRP. The
    // checkers were about a third of the daemon's heap at 10,000 servers.
    // When the caller keeps such a copy anyway (its ReloadCache does), the
    // monitor shares it.
    if (kept == nullptr) {
        auto copy = std::make_shared<config::Config>();
        copy->global_defs = config->global_defs;
        copy->virtual_server_groups = config->virtual_server_groups;
        copy->virtual_servers = config->virtual_servers;
        for (auto& vs : copy->virtual_servers)
            for (auto& rs : vs.real_servers) std::vector<config::Checker>().swap(rs.checkers);
        kept = std::move(copy);
    }
    const auto indexed = std::chrono::steady_clock::now();
    DetailsCache details_cache;  // equal checker settings: one copy for all sessions
    std::vector<Server> servers;
    std::vector<CheckerState> checkers;
    {
        // Exactly the room needed: growing by doubling and shrinking after
        // touched up to three times the memory (fresh pages after a trim).
        std::size_t server_total = 0;
        std::size_t checker_total = 0;
        for (std::size_t v = 0; v < config->virtual_servers.size(); ++v) {
            if (const OldVs* old_one = carried[v]) {
                server_total += old_one->count;
                for (ServerIndex r = 0; r < old_one->count; ++r)
                    checker_total += servers_[old_one->first + r].checker_count;
                continue;
            }
            for (const auto& rs : config->virtual_servers[v].real_servers) {
                ++server_total;
                checker_total += rs.checkers.size();
            }
        }
        servers.reserve(server_total);
        checkers.reserve(checker_total);
    }
    std::map<ServerIndex, DrainState> drains;
    std::set<std::string> virtual_server_keys;
    for (std::size_t v = 0; v < config->virtual_servers.size(); ++v) {
        const auto& vs = config->virtual_servers[v];
        for (const auto& key : service_keys(vs, config->virtual_server_groups)) {
            owned.insert(key);
            if (scope && carried[v] == nullptr) scope->insert(key);
        }
        const std::string vs_key = *virtual_server_keys.insert(vs.key()).first;
        if (const OldVs* old_one = carried[v]) {
            // Unchanged: servers and checkers as they are, on the same targets.
            for (ServerIndex r = 0; r < old_one->count; ++r) {
                const auto index = static_cast<ServerIndex>(servers.size());
                const Server& old = servers_[old_one->first + r];
                Server server = old;
                server.vs = &kept->virtual_servers[v];
                server.rs = &kept->virtual_servers[v].real_servers[r];
                server.first_checker = static_cast<std::uint32_t>(checkers.size());
                server.agent = kNone;
                if (const auto drain = drains_.find(old_one->first + r); drain != drains_.end())
                    drains.emplace(index, drain->second);
                for (std::uint32_t i = 0; i < old.checker_count; ++i) {
                    CheckerState state = checkers_[old.first_checker + i];
                    const TargetId id = state.target;
                    state.server = index;
                    state.next_subscriber = kNone;
                    wanted[id] = true;
                    const auto checker_index = static_cast<std::uint32_t>(checkers.size());
                    if (last_subscriber[id] == kNone)
                        targets_[id].first_subscriber = checker_index;
                    else
                        checkers[last_subscriber[id]].next_subscriber = checker_index;
                    last_subscriber[id] = checker_index;
                    checkers.push_back(state);
                }
                servers.push_back(std::move(server));
            }
            continue;
        }
        for (std::size_t r = 0; r < vs.real_servers.size(); ++r) {
            const auto& rs = vs.real_servers[r];
            const auto index = static_cast<ServerIndex>(servers.size());
            Server server;
            server.vs = &kept->virtual_servers[v];
            server.rs = &kept->virtual_servers[v].real_servers[r];
            server.first_checker = static_cast<std::uint32_t>(checkers.size());
            server.checker_count = static_cast<std::uint32_t>(rs.checkers.size());
            const Server* old = nullptr;
            if (!old_servers.empty())
                if (const auto found = old_servers.find(vs_key + '\n' + rs.key());
                    found != old_servers.end()) {
                    old = &servers_[found->second];
                    server.dynamic_weight = old->dynamic_weight;
                    server.latency = old->latency;
                    server.transitions = old->transitions;
                    // Drains of servers that are still configured carry over a reload.
                    if (const auto drain = drains_.find(found->second); drain != drains_.end())
                        drains.emplace(index, drain->second);
                }
            for (std::size_t i = 0; i < rs.checkers.size(); ++i) {
                const auto& checker = rs.checkers[i];
                ProbeSpec spec = probe_spec(vs, rs, checker, &details_cache);
                TargetId id;
                bool existed = false;
                if (const auto found = find_target(spec.identity)) {
                    id = *found;
                    existed = !fresh[id];
                } else {
                    if (free_targets_.empty()) {
                        id = targets_.size();
                        targets_.emplace_back();
                        wanted.push_back(true);
                        fresh.push_back(true);
                        last_subscriber.push_back(kNone);
                    } else {
                        id = free_targets_.back();
                        free_targets_.pop_back();
                    }
                    fresh[id] = true;
                    Target& target = targets_[id];
                    target = Target{};
                    target.session = make_session(io_, spec, session_options_);
                    target.identity = spec.identity;
                    added_ids.emplace(std::move(spec.identity), id);
                    added_targets.push_back(id);
                    ++target_count_;
                }
                wanted[id] = true;
                const auto checker_index = static_cast<std::uint32_t>(checkers.size());
                if (last_subscriber[id] == kNone)
                    targets_[id].first_subscriber = checker_index;
                else
                    checkers[last_subscriber[id]].next_subscriber = checker_index;
                last_subscriber[id] = checker_index;

                CheckerState state;
                state.target = id;
                state.server = index;
                state.type = checker.type;
                state.thresholds = Thresholds::from_keepalived(checker.rise, checker.retry);
                state.health = initial_checker_health(checker.alpha || vs.alpha);
                // Reload keeps what an unchanged checker has learned: the
                // same probe target (identity) as the old checker at its place.
                if (existed && old != nullptr && i < old->checker_count) {
                    const CheckerState& before = checkers_[old->first_checker + i];
                    if (before.target == id) {
                        state.health = before.health;
                        state.weight = before.weight;
                    }
                }
                checkers.push_back(state);
            }
            servers.push_back(std::move(server));
        }
    }

    const auto walked = std::chrono::steady_clock::now();
    // Targets no checker needs any more.
    std::size_t removed = 0;
    for (TargetId id = 0; id < old_slots; ++id) {
        auto& target = targets_[id];
        if (!target.session || wanted[id]) continue;
        target.session->cancel();
        scheduler_.remove(id);
        target = Target{};
        free_targets_.push_back(static_cast<std::uint32_t>(id));
        --target_count_;
        ++removed;
    }
    // New targets: spread evenly at start-up, by identity on reload.
    for (std::size_t k = 0; k < added_targets.size(); ++k) {
        const TargetId id = added_targets[k];
        const Target& target = targets_[id];
        const ProbeSpec& spec = target.session->spec();
        const Duration offset = (first ? spread_offset(k, added_targets.size(), spec.delay_loop)
                                       : hashed_offset(target.identity, spec.delay_loop)) +
                                warmup_delay(spec.warmup, random_());
        scheduler_.add(id, offset);
    }
    old_ids = {};
    added_ids = {};
    old_servers = {};

    // Services of the old configuration stay owned until the next
    // reconcile has removed the ones that went away.
    if (scope)
        for (const auto& key : owned_)
            if (!owned.contains(key)) scope->insert(key);
    for (const auto& key : owned) owned_.insert(key);
    const auto old_config = config_;
    checkers_ = std::move(checkers);
    checkers_.shrink_to_fit();
    servers_ = std::move(servers);
    servers_.shrink_to_fit();
    targets_.shrink_to_fit();
    drains_ = std::move(drains);
    config.reset();
    config_ = std::move(kept);

    // Weight agents are cheap: recreated on every load, spread over their interval.
    for (std::size_t i = 0; i < agents_.size(); ++i) {
        agents_[i].session->cancel();
        scheduler_.remove(kAgentBit | i);
    }
    agents_.clear();
    for (ServerIndex index = 0; index < servers_.size(); ++index) {
        auto& server = servers_[index];
        const auto& dynamic = server.rs->dynamic_weight;
        if (!dynamic || dynamic->source != config::DynamicWeightSource::agent ||
            !dynamic->agent_port)
            continue;
        Agent agent;
        agent.server = index;
        agent.settings = *dynamic;
        agent.spec.address = server.rs->address;
        agent.spec.port = *dynamic->agent_port;
        agent.spec.connect_timeout = dynamic->timeout;
        agent.spec.delay_loop = dynamic->interval;
        agent.spec.identity = "agent " + server.vs->key() + " " + server.rs->key();
        agent.session = make_agent_session(io_, agent.spec);
        server.agent = static_cast<std::uint32_t>(agents_.size());
        scheduler_.add(kAgentBit | agents_.size(),
                       hashed_offset(agent.spec.identity, agent.spec.delay_loop));
        agents_.push_back(std::move(agent));
    }

    std::erase_if(availability_,
                  [&](const auto& entry) { return !virtual_server_keys.contains(entry.first); });
    health_.clear();
    health_.reserve(servers_.size());
    for (ServerIndex index = 0; index < servers_.size(); ++index)
        health_.push_back(server_health(index));

    log(Priority::info,
        std::string(first ? "start" : "reload") + ": " +
            std::to_string(config_->virtual_servers.size()) + " virtual servers, " +
            std::to_string(target_count_) + " probe targets (" +
            std::to_string(added_targets.size()) + " new, " + std::to_string(removed) + " gone)" +
            (scope ? "; " + std::to_string(scope->size()) +
                         " keys changed or gone, only those planned"
                   : std::string()) +
            "; indexed in " + elapsed_ms(load_started, indexed) + " ms, servers and checkers in " +
            elapsed_ms(indexed, walked) + " ms, targets, agents and health in " +
            elapsed_ms(walked, std::chrono::steady_clock::now()) + " ms");
    reconcile(Read::known, scope ? &*scope : nullptr);
    owned_ = std::move(owned);
    arm();

    // Drift repair: the kernel is compared with the wanted table regularly.
    Duration repair_every = std::chrono::seconds(60);
    for (const auto& vs : config_->virtual_servers)
        if (vs.delay_loop.count() > 0) repair_every = std::min(repair_every, vs.delay_loop);
    repair_every_ = repair_every;
    arm_repair();
    if (first) arm_lag_probe();
    return true;
}

void Monitor::arm_lag_probe() {
    if (stopped_) return;
    lag_expected_ = clock_.now() + std::chrono::seconds(1);
    lag_timer_.expires_after(std::chrono::seconds(1));
    lag_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        last_lag_ = std::max(Duration{0},
                             std::chrono::duration_cast<Duration>(clock_.now() - lag_expected_));
        max_lag_ = std::max(max_lag_, last_lag_);
        arm_lag_probe();
    });
}

void Monitor::arm_repair() {
    repair_.expires_after(repair_every_);
    repair_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        repair_now();
    });
}

std::set<ServiceKey> Monitor::owned_keys() const {
    std::set<ServiceKey> owned = owned_;
    if (config_)
        for (const auto& vs : config_->virtual_servers)
            for (const auto& key : service_keys(vs, config_->virtual_server_groups))
                owned.insert(key);
    return owned;
}

void Monitor::read_off_loop(std::shared_ptr<const Table> view, std::set<ServiceKey> owned,
                            std::function<void(OffLoopRead)> done) {
    // The loop waits for the result (io_context::run() does not return).
    auto work = boost::asio::make_work_guard(io_);
    boost::asio::post(reader_thread_, [this, alive = std::weak_ptr<char>(alive_),
                                       view = std::move(view), owned = std::move(owned),
                                       done = std::move(done), work = std::move(work)]() mutable {
        OffLoopRead read;
        read.table = reader_->table();
        // Compared here, not on the loop: at 10,000 servers the comparison
        // takes as long as a probe round's worth of outcomes.
        if (read.table && view)
            read.drift = !make_plan(owned_part(*view, owned), owned_part(*read.table, owned),
                                    PlanOptions{true})
                              .empty();
        boost::asio::post(io_, [alive, read = std::move(read), done = std::move(done)]() mutable {
            if (alive.expired()) return;
            done(std::move(read));
        });
        work.reset();
    });
}

void Monitor::repair_now() {
    if (stopped_ || !config_ || repair_reading_) return;
    if (!reader_) {
        const StallTimer timer(*this, LoopWork::repair);
        reconcile(Read::fresh);
        arm_repair();
        return;
    }
    repair_reading_ = true;
    ++counters_.kernel_reads;
    const std::uint64_t epoch = view_epoch_;
    auto owned = owned_keys();
    read_off_loop(kernel_view_, owned, [this, epoch, owned](OffLoopRead read) {
        on_repair_read(std::move(read), epoch, owned);
    });
}

void Monitor::on_repair_read(OffLoopRead read, std::uint64_t epoch,
                             const std::set<ServiceKey>& owned) {
    repair_reading_ = false;
    ++counters_.repair_reads;
    if (stopped_) return;
    const StallTimer timer(*this, LoopWork::repair);
    if (epoch != view_epoch_ || owned != owned_keys()) {
        // Started before one of our own plans was applied (or before a
        // reload changed what we own): the read may not show that plan, and
        // a repair from it would undo it. Read again.
        ++counters_.stale_reads;
        repair_now();
        return;
    }
    if (!read.table) {
        log(Priority::err, "reading the IPVS table: " + read.table.error().message());
        kernel_view_.reset();
        ++view_epoch_;
        arm_repair();
        return;
    }
    // No drift (the usual case): nothing to plan.
    if (read.drift) {
        ++counters_.drift_repairs;
        if (kernel_view_)
            log(Priority::warning,
                "the IPVS table was changed behind healthcheckd's back: repairing");
        kernel_view_ = std::make_shared<const Table>(std::move(*read.table));
        ++view_epoch_;
        reconcile(Read::known);
    }
    arm_repair();
}

void Monitor::stop() {
    stopped_ = true;
    wake_.cancel();
    wake_at_.reset();
    repair_.cancel();
    drain_timer_.cancel();
    lag_timer_.cancel();
    for (auto& target : targets_)
        if (target.session) target.session->cancel();
    for (auto& agent : agents_) agent.session->cancel();
}

void Monitor::arm() {
    if (stopped_) return;
    auto due = scheduler_.next_due();
    if (!due) return;
    // Wake-ups on a grid (kWakeGrid): the probes due at one step start
    // together (at 500 probes a second and 20 ms, about 10), so their SYNs
    // leave in one sendmmsg, and the SYN prober reads the answers to the
    // step before on the same wake-up (one timer and one epoll round for
    // all of them). The scheduler puts due times on the grid, so a probe
    // starts on time; the ceiling is for any that is not.
    due = wake_grid_ceiling(*due);
    // An earlier wake-up already armed finds this target due then or later.
    if (wake_at_ && *wake_at_ <= *due) return;
    wake_at_ = *due;
    const auto delay = std::max(*due - clock_.now(), TimePoint::duration{0});
    wake_.expires_after(delay);
    wake_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;  // re-armed or stopped; the new wait owns wake_at_
        wake_at_.reset();
        on_wake();
    });
}

void Monitor::on_wake() {
    const StallTimer timer(*this, LoopWork::probes);
    // A bounded batch: after a stall (or at start-up, behind the first
    // plan) hundreds are due at once, and starting them all held the loop
    // for tens of milliseconds. The rest start from the next wake-up, due
    // at once, after the handlers ready meanwhile.
    constexpr std::size_t kBatch = 64;
    scheduler_.take_due(due_now_, kBatch);
    for (const TargetId id : due_now_) {
        if ((id & kAgentBit) != 0) {
            const auto index = id & ~kAgentBit;
            if (index >= agents_.size()) continue;
            agents_[index].session->run(
                [this, id](const ProbeOutcome& outcome) { on_agent_outcome(id, outcome); });
            continue;
        }
        if (id >= targets_.size() || !targets_[id].session) continue;
        ++counters_.probes;
        targets_[id].session->run(
            [this, id](const ProbeOutcome& outcome) { on_outcome(id, outcome); });
    }
    arm();
}

ServerHealth Monitor::server_health(ServerIndex index) const {
    const Server& server = servers_[index];
    ServerHealth health;
    // A server without checkers is always up, as in keepalived.
    bool all_up = true, any_down = false;
    for (std::size_t i = 0; i < server.checker_count; ++i) {
        const auto& state = checkers_[server.first_checker + i];
        if (state.health.health == Health::down) {
            all_up = false;
            if (!state.health.provisional) any_down = true;
        }
        if (state.weight) health.weight = state.weight;
    }
    // misc_dynamic decides when it speaks; dynamic_weight otherwise.
    if (!health.weight && server.dynamic_weight) health.weight = server.dynamic_weight;
    health.verdict =
        any_down ? ServerVerdict::down : (all_up ? ServerVerdict::up : ServerVerdict::unknown);
    if (const auto drain = drains_.find(index); drain != drains_.end())
        health.drain = drain->second.phase;
    return health;
}

void Monitor::on_outcome(TargetId id, const ProbeOutcome& outcome) {
    if (stopped_ || id >= targets_.size() || !targets_[id].session) return;
    std::optional<StallTimer> timer(std::in_place, *this, LoopWork::outcomes);
    Target& target = targets_[id];
    target.last_detail = outcome.detail;
    bool retry = false;
    bool server_changed = false;
    for (std::uint32_t c = target.first_subscriber; c != kNone; c = checkers_[c].next_subscriber) {
        auto& state = checkers_[c];
        Server& server = servers_[state.server];
        const Health before = state.health.health;
        const auto stepped = step(state.health, outcome.success, state.thresholds);
        state.health = stepped.next;
        if (outcome.weight && *outcome.weight != state.weight.value_or(-1)) {
            state.weight = outcome.weight;
            server_changed = true;
        }
        if (!outcome.success && in_retry(state.health, state.thresholds)) retry = true;
        if (outcome.success) {
            const auto& dynamic = server.rs->dynamic_weight;
            if (dynamic && dynamic->source == config::DynamicWeightSource::response_time) {
                const Duration smoothed = smooth_latency(server.latency, outcome.latency);
                server.latency = smoothed;
                const int weight = weight_from_response_time(*dynamic, smoothed);
                if (server.dynamic_weight != weight) {
                    server.dynamic_weight = weight;
                    server_changed = true;
                }
            }
        }
        if (stepped.changed) {
            ++counters_.transitions;
            log(outcome.success ? Priority::notice : Priority::warning,
                label(state.server) + " " +
                    std::string(config::to_string(target.session->spec().type)) + " " +
                    std::string(to_string(before)) + " -> " +
                    std::string(to_string(state.health.health)) +
                    (outcome.success ? ""
                                     : " (" + std::string(to_string(outcome.reason)) + ": " +
                                           outcome.detail + ")"));
            server_changed = true;
        }
    }
    if (server_changed) {
        // Only the servers of this target's checkers can have changed
        // (subscribers are in server order).
        ServerIndex previous = kNone;
        for (std::uint32_t c = target.first_subscriber; c != kNone;
             c = checkers_[c].next_subscriber) {
            if (checkers_[c].server == previous) continue;
            previous = checkers_[c].server;
            refresh_server(previous);
            request_reconcile(previous);
        }
    }
    const ProbeSpec& spec = target.session->spec();
    scheduler_.completed(id, retry ? spec.delay_before_retry : spec.delay_loop);
    timer.reset();
    wake_soon();
}

void Monitor::wake_soon() {
    // The probes due by now start at once, not at the next wake-up; once
    // for a batch of answers (the SYN prober reads many at a time), where a
    // wake-up per answer took the clock and the schedule's top each time.
    if (wake_soon_posted_) return;
    wake_soon_posted_ = true;
    boost::asio::defer(io_, [this] {
        wake_soon_posted_ = false;
        if (!stopped_) on_wake();
    });
}

void Monitor::refresh_server(ServerIndex index) {
    if (index >= servers_.size()) return;
    Server& server = servers_[index];
    const ServerHealth now = server_health(index);
    auto& old = health_[index];
    if (old.verdict != now.verdict) {
        log(Priority::notice, label(index) + " server " + std::string(to_string(old.verdict)) +
                                  " -> " + std::string(to_string(now.verdict)));
        ++server.transitions;
    }
    const auto event = server_notification(old.verdict, now.verdict);
    old = now;
    if (event) notify(*event, *server.vs, server.rs);
}

void Monitor::notify(NotifyEvent event, const config::VirtualServer& vs,
                     const config::RealServer* rs) {
    const config::ScriptCommand* command = nullptr;
    switch (event) {
        case NotifyEvent::server_up:
            if (rs->notify_up) command = &*rs->notify_up;
            break;
        case NotifyEvent::server_down:
            if (rs->notify_down) command = &*rs->notify_down;
            break;
        case NotifyEvent::quorum_up:
            if (vs.quorum_up) command = &*vs.quorum_up;
            break;
        case NotifyEvent::quorum_down:
            if (vs.quorum_down) command = &*vs.quorum_down;
            break;
    }
    if (command == nullptr) return;
    ScriptJob job;
    job.command = *command;
    job.environment["IPVSCTL_EVENT"] = std::string(to_string(event));
    job.environment["IPVSCTL_VIRTUAL_SERVER"] = vs.key();
    if (rs != nullptr) job.environment["IPVSCTL_REAL_SERVER"] = rs->key();
    log(Priority::info, "running " + std::string(to_string(event)) + " '" + job.command.command +
                            "' for [" + vs.key() + (rs ? " -> " + rs->key() : "") + "]");
    scripts_.run(job);
}

void Monitor::on_agent_outcome(TargetId id, const ProbeOutcome& outcome) {
    const auto index = id & ~kAgentBit;
    if (index >= agents_.size() || stopped_) return;
    Agent& agent = agents_[index];
    agent.last_detail = outcome.detail;
    // An agent that does not answer leaves the weight as it was; the
    // checkers decide health.
    if (outcome.success && outcome.agent)
        set_dynamic_weight(agent.server, weight_from_agent(agent.settings, *outcome.agent),
                           outcome.detail);
    scheduler_.completed(id, agent.spec.delay_loop);
    wake_soon();
}

void Monitor::set_dynamic_weight(ServerIndex index, int weight, const std::string& why) {
    auto& current = servers_[index].dynamic_weight;
    if (current == weight) return;
    log(Priority::info,
        label(index) + " dynamic weight " + std::to_string(weight) + " (" + why + ")");
    current = weight;
    update_health(index);
    request_reconcile(index);
}

void Monitor::request_reconcile(std::optional<ServerIndex> server) {
    // A server's change plans its virtual server only: a reconcile of
    // everything walks, plans and copies every owned real server (40 ms
    // for 37,000 on the host) for each transition.
    if (server && config_) {
        for (const auto& key : service_keys(*servers_[*server].vs, config_->virtual_server_groups))
            reconcile_scope_.insert(key);
    } else {
        reconcile_all_ = true;
    }
    // Many outcomes in one loop turn give one reconcile.
    if (reconcile_pending_) return;
    reconcile_pending_ = true;
    boost::asio::post(io_, [this] {
        reconcile_pending_ = false;
        std::set<ServiceKey> scope = std::exchange(reconcile_scope_, {});
        const bool all = std::exchange(reconcile_all_, false);
        if (stopped_) return;
        const StallTimer timer(*this, LoopWork::reconcile);
        if (all) {
            reconcile();
            return;
        }
        // A reload since the request may have dropped some of these
        // services: a scoped plan would delete what is no longer ours.
        const auto owned = owned_keys();
        std::erase_if(scope, [&](const ServiceKey& key) { return !owned.contains(key); });
        if (!scope.empty()) reconcile(Read::known, &scope);
    });
}

void Monitor::reconcile(Read read, const std::set<ServiceKey>* scope) {
    ++counters_.reconciles;
    const auto started = std::chrono::steady_clock::now();
    const bool reading = read == Read::fresh || !kernel_view_;
    if (reading) {
        ++counters_.kernel_reads;
        auto current = kernel_.table();
        ++view_epoch_;
        if (!current) {
            kernel_view_.reset();
            log(Priority::err, "reading the IPVS table: " + current.error().message());
            return;
        }
        kernel_view_ = std::make_shared<const Table>(std::move(*current));
    }
    const auto was_read = std::chrono::steady_clock::now();
    const std::set<ServiceKey> owned = scope != nullptr ? *scope : owned_keys();
    const Table before = owned_part(*kernel_view_, owned);
    // With a scope, the virtual servers in it and their health, in order.
    std::vector<config::VirtualServer> scoped_servers;
    std::vector<ServerHealth> scoped_health;

    // Quorum per virtual server, with hysteresis against its previous state.
    std::size_t first_server = 0;
    for (const auto& vs : config_->virtual_servers) {
        const ServerHealth* health = health_.data() + first_server;
        first_server += vs.real_servers.size();
        const auto keys = service_keys(vs, config_->virtual_server_groups);
        if (scope != nullptr) {
            if (std::none_of(keys.begin(), keys.end(),
                             [&](const ServiceKey& key) { return scope->contains(key); }))
                continue;
            scoped_servers.push_back(vs);
            scoped_health.insert(scoped_health.end(), health, health + vs.real_servers.size());
        }
        const ServiceKey first_key = keys.front();
        const Endpoints serving(before.find(first_key), true);
        const auto in_kernel = [&](const config::RealServer& rs) {
            return serving.contains(destination_for(vs, rs));
        };
        const std::int64_t alive = alive_weight(vs, health, in_kernel);
        const std::string vs_key = vs.key();
        const auto previous = quorum_.find(vs_key);
        const bool had = previous == quorum_.end() ? alive >= vs.quorum : previous->second;
        const bool has = step_quorum(had, alive, vs.quorum, vs.hysteresis);
        if (previous != quorum_.end() && had != has)
            log(has ? Priority::notice : Priority::warning,
                "[" + vs_key + "] quorum " + (has ? "gained" : "lost") + " (alive weight " +
                    std::to_string(alive) + ", quorum " + std::to_string(vs.quorum) + ")");
        quorum_[vs_key] = has;
        // Available: quorum met and at least one live real server.
        const bool available = has && alive > 0;
        if (const auto found = availability_.find(vs_key); found != availability_.end())
            found->second.update(clock_.now(), available);
        else
            availability_.emplace(vs_key, Availability(clock_.now(), available));
        if (previous != quorum_.end())
            if (const auto event = quorum_notification(had, has)) notify(*event, vs, nullptr);
    }

    ReconcileInput input;
    input.virtual_servers = scope != nullptr ? &scoped_servers : &config_->virtual_servers;
    input.groups = &config_->virtual_server_groups;
    input.health_in_order = scope != nullptr ? &scoped_health : &health_;
    input.current = &before;
    input.quorum = &quorum_;
    Table desired = desired_table(input);
    const Plan plan = make_plan(before, desired, PlanOptions{true});
    if (plan.empty()) return;
    const auto planned = std::chrono::steady_clock::now();
    // One write for all the operations' lines: a reload may change
    // thousands of servers. Written after the batch, below the "applied"
    // line, so that line tells when the kernel had it (not 7,400 lines later).
    const auto log_operations = [&] {
        std::vector<std::string> lines;
        lines.reserve(plan.operations.size());
        for (const auto& op : plan.operations)
            lines.push_back(std::string(op.verb()) + " " + describe(op));
        log_lines(Priority::info, lines);
    };
    if (auto applied = kernel_.apply(plan, before); !applied) {
        log_operations();
        ++counters_.apply_failures;
        log(Priority::err, "applying " + std::to_string(plan.operations.size()) +
                               " operations: " + applied.error().message());
        // What the kernel holds is no longer known: the next reconcile reads
        // it. A view that was stale (changed behind our back) is read again
        // at once.
        kernel_view_.reset();
        ++view_epoch_;
        if (read == Read::known) reconcile(Read::fresh);
        return;
    }
    const auto applied = std::chrono::steady_clock::now();
    ++counters_.plans_applied;
    counters_.operations_applied += plan.operations.size();
    const auto ms = [](auto from, auto to) {
        return std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
    };
    log(Priority::info, "applied " + std::to_string(plan.operations.size()) + " operations in " +
                            ms(planned, applied) + " ms (" +
                            (reading ? "table read in " + ms(started, was_read) + " ms"
                                     : std::string("against the known table")) +
                            ", planned in " + ms(was_read, planned) + " ms)");
    log_operations();
    // The kernel now holds the services we do not own as they were, and
    // ours as desired.
    Table after;
    after.services.reserve(kernel_view_->services.size() + desired.services.size());
    for (const auto& entry : kernel_view_->services)
        if (!owned.contains(entry.service.key)) after.services.push_back(entry);
    for (auto& entry : desired.services) after.services.push_back(std::move(entry));
    kernel_view_ = std::make_shared<const Table>(std::move(after));
    ++view_epoch_;
}

std::variant<Monitor::ServerIndex, nlohmann::json> Monitor::find_server(
    const nlohmann::json& request) const {
    const auto failure = [](const std::string& why) {
        return nlohmann::json{{"ok", false}, {"error", why}};
    };
    if (!request.contains("service") || !request["service"].is_string())
        return failure("missing \"service\" (tcp:ADDR:PORT, udp:..., sctp:..., fwmark:N)");
    if (!request.contains("server") || !request["server"].is_string())
        return failure("missing \"server\" (ADDR:PORT or [ADDR]:PORT)");
    const std::string service_text = request["service"].get<std::string>();
    const std::string server_text = request["server"].get<std::string>();
    std::string error;
    const auto service = parse_service_spec(service_text, error);
    if (!service) return failure(error);
    const auto endpoint = parse_server_spec(server_text, error);
    if (!endpoint) return failure(error);
    if (!config_) return failure("unknown service " + service_text);
    bool service_known = false;
    ServerIndex position = 0;
    for (const auto& vs : config_->virtual_servers) {
        const ServerIndex first = position;
        position += static_cast<ServerIndex>(vs.real_servers.size());
        const auto keys = service_keys(vs, config_->virtual_server_groups);
        if (std::none_of(keys.begin(), keys.end(),
                         [&](const ServiceKey& key) { return service_matches(*service, key); }))
            continue;
        service_known = true;
        for (ServerIndex i = 0; i < vs.real_servers.size(); ++i) {
            const Destination destination = destination_for(vs, vs.real_servers[i]);
            if (destination.address == endpoint->address && destination.port == endpoint->port)
                return first + i;
        }
    }
    if (!service_known) return failure("unknown service " + service_text);
    return failure("unknown server " + server_text + " in " + service_text);
}

void Monitor::update_health(ServerIndex index) {
    if (index < servers_.size()) health_[index] = server_health(index);
}

nlohmann::json Monitor::drain(const nlohmann::json& request) {
    std::optional<Duration> timeout;
    if (request.contains("timeout")) {
        const auto& value = request["timeout"];
        if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1e9)
            return {{"ok", false}, {"error", "bad timeout: expected seconds, 0 or more"}};
        timeout = std::chrono::duration_cast<Duration>(
            std::chrono::duration<double>(value.get<double>()));
    }
    auto found = find_server(request);
    if (auto* error = std::get_if<nlohmann::json>(&found)) return *error;
    const ServerIndex ref = std::get<ServerIndex>(found);
    auto& state = drains_[ref];
    if (state.since == TimePoint{}) {
        state.since = clock_.now();
        log(Priority::notice,
            label(ref) + " draining" +
                (timeout ? " (at most " + request["timeout"].dump() + " s)" : ""));
    }
    if (timeout) state.deadline = clock_.now() + *timeout;
    update_health(ref);
    reconcile();  // weight 0 before the reply
    arm_drain_check();
    return {{"ok", true}, {"state", to_string(state.phase)}};
}

nlohmann::json Monitor::undrain(const nlohmann::json& request) {
    auto found = find_server(request);
    if (auto* error = std::get_if<nlohmann::json>(&found)) return *error;
    const ServerIndex ref = std::get<ServerIndex>(found);
    if (drains_.erase(ref) > 0) log(Priority::notice, label(ref) + " undrained");
    update_health(ref);
    reconcile();
    return {{"ok", true}, {"state", to_string(DrainPhase::none)}};
}

void Monitor::arm_drain_check() {
    if (stopped_) return;
    // Connection counts are polled: the kernel has no event for "idle".
    drain_timer_.expires_after(std::chrono::seconds(1));
    drain_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && !stopped_) check_drains();
    });
}

void Monitor::check_drains() {
    const bool any_draining = std::any_of(drains_.begin(), drains_.end(), [](const auto& entry) {
        return entry.second.phase == DrainPhase::draining;
    });
    if (!any_draining) return;
    if (!reader_) {
        const StallTimer timer(*this, LoopWork::drain);
        auto table = kernel_.table();
        if (!table) {
            log(Priority::err, "reading the IPVS table: " + table.error().message());
            return arm_drain_check();
        }
        return drain_counts(*table);
    }
    // One read at a time; the one in progress arms the next check.
    if (drain_reading_) return;
    drain_reading_ = true;
    read_off_loop(nullptr, {}, [this](OffLoopRead read) {
        drain_reading_ = false;
        if (stopped_) return;
        const StallTimer timer(*this, LoopWork::drain);
        if (!read.table) {
            log(Priority::err, "reading the IPVS table: " + read.table.error().message());
            return arm_drain_check();
        }
        drain_counts(*read.table);
    });
}

void Monitor::drain_counts(const Table& table) {
    bool changed = false;
    for (auto& [ref, state] : drains_) {
        if (state.phase != DrainPhase::draining) continue;
        std::uint64_t active = 0;
        const config::VirtualServer& vs = *servers_[ref].vs;
        const Destination wanted = destination_for(vs, *servers_[ref].rs);
        for (const auto& key : service_keys(vs, config_->virtual_server_groups)) {
            const ServiceEntry* entry = table.find(key);
            if (entry == nullptr) continue;
            for (const auto& d : entry->destinations)
                if (d.same_endpoint(wanted)) active += d.active_conns;
        }
        if (!drain_complete(active, clock_.now(), state.deadline)) continue;
        state.phase = DrainPhase::drained;
        log(Priority::notice, label(ref) + " drained (" + std::to_string(active) +
                                  " active connections left); leaving the kernel");
        update_health(ref);
        changed = true;
    }
    if (changed) reconcile();
    arm_drain_check();
}

nlohmann::json Monitor::status() const {
    nlohmann::json out;
    out["counters"] = {{"probes", counters_.probes},
                       {"transitions", counters_.transitions},
                       {"reconciles", counters_.reconciles},
                       {"operations_applied", counters_.operations_applied},
                       {"apply_failures", counters_.apply_failures},
                       {"kernel_reads", counters_.kernel_reads},
                       {"plans_applied", counters_.plans_applied},
                       {"drift_repairs", counters_.drift_repairs},
                       {"stale_reads", counters_.stale_reads},
                       {"scripts_started", scripts_.counters().started},
                       {"scripts_failed", scripts_.counters().failed}};
    out["probe_targets"] = target_count_;
    nlohmann::json services = nlohmann::json::array();
    if (config_) {
        ServerIndex index = 0;
        for (const auto& vs : config_->virtual_servers) {
            nlohmann::json servers = nlohmann::json::array();
            for (const auto& rs : vs.real_servers) {
                const Server& server = servers_[index];
                const ServerHealth& health = health_[index];
                nlohmann::json checkers = nlohmann::json::array();
                for (std::size_t i = 0; i < server.checker_count; ++i) {
                    const CheckerState& state = checkers_[server.first_checker + i];
                    checkers.push_back(
                        {{"type", config::to_string(state.type)},
                         {"state", to_string(state.health.health)},
                         {"consecutive_failures", state.health.consecutive_failures},
                         {"consecutive_successes", state.health.consecutive_successes},
                         {"last", targets_[state.target].last_detail}});
                }
                nlohmann::json entry{{"server", rs.key()},
                                     {"state", to_string(health.verdict)},
                                     {"weight", effective_weight(rs, health)},
                                     {"backup", rs.backup},
                                     {"down", rs.down},
                                     {"drain", to_string(health.drain)},
                                     {"configured_weight", rs.weight},
                                     {"checkers", checkers}};
                const auto drain = drains_.find(index);
                if (drain != drains_.end() && drain->second.deadline) {
                    const auto left =
                        std::max(*drain->second.deadline - clock_.now(), TimePoint::duration{0});
                    entry["drain_seconds_left"] =
                        std::chrono::duration_cast<std::chrono::seconds>(left).count();
                }
                if (server.latency)
                    entry["response_time_ms"] =
                        std::chrono::duration<double, std::milli>(*server.latency).count();
                if (server.agent != kNone) entry["agent"] = agents_[server.agent].last_detail;
                servers.push_back(std::move(entry));
                ++index;
            }
            const auto quorum = quorum_.find(vs.key());
            nlohmann::json entry{{"service", vs.key()},
                                 {"quorum", quorum == quorum_.end() || quorum->second},
                                 {"real_servers", servers}};
            if (const auto found = availability_.find(vs.key()); found != availability_.end())
                entry["availability"] =
                    availability_json(found->second.report(clock_.now()), clock_.now());
            services.push_back(std::move(entry));
        }
    }
    out["virtual_servers"] = services;
    return out;
}

}  // namespace ipvsctl::healthcheck
