// SPDX-License-Identifier: GPL-2.0-or-later
#include "sync_group.hpp"

#include <algorithm>

namespace ipvsctl::vrrp {
namespace {
constexpr int kLogInfo = 6;
}  // namespace

std::string_view group_state_name(State state) {
    return state == State::initialize ? "STOP" : to_string(state);
}

SyncGroup::SyncGroup(SyncGroupSettings settings, Logger& log)
    : settings_(std::move(settings)), log_(log) {}

void SyncGroup::set_members(std::vector<Instance*> members) {
    members_ = std::move(members);
    detached_ = false;
    std::map<std::string, bool> kept;
    for (const auto* m : members_) {
        const auto found = own_fault_.find(m->settings().name);
        kept[m->settings().name] = found != own_fault_.end() && found->second;
    }
    own_fault_ = std::move(kept);
    settle();
}

bool SyncGroup::has_member(const std::string& name) const {
    return std::find(settings_.members.begin(), settings_.members.end(), name) !=
           settings_.members.end();
}

bool SyncGroup::fault() const {
    return std::any_of(own_fault_.begin(), own_fault_.end(),
                       [](const auto& entry) { return entry.second; });
}

void SyncGroup::member_transitioned(const Instance& who, const LastTransition& t) {
    if (moving_) return;  // a transition we caused: the group already moves
    moving_ = true;
    if (t.to == State::master) {
        for (auto* m : members_) {
            if (m == &who || m->state() != State::backup) continue;
            log_.log(kLogInfo, "[group " + settings_.name + "] " + who.settings().name +
                                   " became MASTER; " + m->settings().name + " follows");
            m->follow_group(State::master);
        }
    } else if (t.to == State::backup && t.from == State::master) {
        for (auto* m : members_) {
            if (m == &who || m->state() != State::master) continue;
            log_.log(kLogInfo, "[group " + settings_.name + "] " + who.settings().name +
                                   " left MASTER; " + m->settings().name + " follows");
            m->follow_group(State::backup);
        }
    }
    moving_ = false;
    settle();
}

void SyncGroup::set_member_fault(const Instance& who, bool fault) {
    own_fault_[who.settings().name] = fault;
    const bool group_fault = this->fault();
    moving_ = true;
    for (auto* m : members_) m->set_fault(group_fault);
    moving_ = false;
    settle();
}

void SyncGroup::settle() {
    if (detached_) return;
    State next = State::initialize;
    bool any_running = false;
    bool all_master = true;
    bool any_fault = false;
    for (const auto* m : members_) {
        const State s = m->state();
        if (s == State::initialize) continue;
        any_running = true;
        if (s == State::fault) any_fault = true;
        if (s != State::master) all_master = false;
    }
    if (any_fault) {
        next = State::fault;
    } else if (any_running) {
        next = all_master ? State::master : State::backup;
    }
    if (next == state_) return;
    const State from = state_;
    state_ = next;
    log_.log(kLogInfo, "[group " + settings_.name + "] " + std::string(group_state_name(from)) +
                           " -> " + std::string(group_state_name(next)));
    if (on_state_) on_state_(*this, from, next);
}

}  // namespace ipvsctl::vrrp
