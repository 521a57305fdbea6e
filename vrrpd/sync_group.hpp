// SPDX-License-Identifier: GPL-2.0-or-later
// vrrp_sync_group: instances that move together, as keepalived documents
// them. When a member becomes MASTER the other members become MASTER; when a
// member leaves MASTER for BACKUP the others follow; when any member's
// tracked objects fail, every member goes to FAULT until all recover. The
// group's own state (for its notify scripts and status) is FAULT if any
// member is in FAULT, MASTER if every running member is, STOP if none runs,
// else BACKUP.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "instance.hpp"

namespace ipvsctl::vrrp {

struct SyncGroupSettings {
    std::string name;
    std::vector<std::string> members;  ///< vrrp_instance names
    NotifySettings notify;
    friend bool operator==(const SyncGroupSettings&, const SyncGroupSettings&) = default;
};

/// "MASTER", "BACKUP", "FAULT" or "STOP" for a group's state (INIT is STOP).
std::string_view group_state_name(State state);

class SyncGroup {
  public:
    SyncGroup(SyncGroupSettings settings, Logger& log);

    /// The running members (instances that could not start are left out);
    /// called again after every reload. Forgets own faults of members that
    /// are gone.
    void set_members(std::vector<Instance*> members);
    /// Forgets the members without changing the group state (before a
    /// reload replaces instances, so no stale member is ever moved).
    void clear_members() {
        members_.clear();
        detached_ = true;
    }
    /// To be called after every state change of a member (its
    /// on_transition hook); moves the other members along.
    void member_transitioned(const Instance& who, const LastTransition& t);
    /// A member's own tracking verdict; the group is in FAULT while any
    /// member's own tracking says so.
    void set_member_fault(const Instance& who, bool fault);
    /// Called when the group's state changes (group notify scripts).
    void on_state(std::function<void(const SyncGroup&, State from, State to)> hook) {
        on_state_ = std::move(hook);
    }

    [[nodiscard]] const SyncGroupSettings& settings() const { return settings_; }
    [[nodiscard]] State state() const { return state_; }
    [[nodiscard]] bool fault() const;
    [[nodiscard]] bool has_member(const std::string& name) const;

  private:
    /// Recomputes the group state and runs the hook when it changed.
    void settle();

    SyncGroupSettings settings_;
    Logger& log_;
    std::vector<Instance*> members_;
    std::map<std::string, bool> own_fault_;
    State state_ = State::initialize;
    bool moving_ = false;
    bool detached_ = false;  ///< between clear_members() and set_members()  ///< set while we move
                             ///< members: their transitions are ours
    std::function<void(const SyncGroup&, State, State)> on_state_;
};

}  // namespace ipvsctl::vrrp
