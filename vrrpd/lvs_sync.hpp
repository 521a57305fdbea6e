// SPDX-License-Identifier: GPL-2.0-or-later
// keepalived's lvs_sync_daemon: the kernel's IPVS connection-sync daemon
// follows one VRRP instance. While the instance is MASTER only the master
// sync daemon runs; in any other state only the backup one; with no
// instance named, both run as long as vrrpd does. The kernel is reached
// through an injected SyncDaemonControl so tests check the actions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "instance.hpp"

namespace ipvsctl::vrrp {

enum class SyncRole : std::uint8_t { master, backup };
std::string_view to_string(SyncRole role);

/// global_defs lvs_sync_daemon, resolved: the sync id defaults to the
/// instance's VRID (0 without an instance); 0 elsewhere means "kernel default".
struct LvsSyncSettings {
    std::string interface;
    std::optional<std::string> instance;
    std::uint8_t sync_id = 0;
    std::uint16_t max_length = 0;
    std::uint16_t port = 0;
    std::uint8_t ttl = 0;
    std::optional<Address> group;
    friend bool operator==(const LvsSyncSettings&, const LvsSyncSettings&) = default;
};

/// Starts and stops the kernel's sync daemons (libipvsctl in vrrpd).
class SyncDaemonControl {
  public:
    virtual ~SyncDaemonControl() = default;
    virtual Status start(SyncRole role, const LvsSyncSettings& settings) = 0;
    virtual Status stop(SyncRole role) = 0;
};

/// Which sync daemons should run while the bound instance is in `state`
/// (nullopt: no instance bound, or the bound one is not running).
struct SyncRoles {
    bool master = false;
    bool backup = false;
    friend bool operator==(const SyncRoles&, const SyncRoles&) = default;
};
SyncRoles wanted_roles(const LvsSyncSettings& settings, std::optional<State> bound_state);

class LvsSyncBinding {
  public:
    LvsSyncBinding(LvsSyncSettings settings, SyncDaemonControl& control, Logger& log);

    /// Takes over whatever a predecessor left running (stops both roles,
    /// failures ignored), then starts what `bound_state` wants.
    void begin(std::optional<State> bound_state);
    /// The bound instance changed state: stop the role it no longer wants
    /// first, then start the one it wants.
    void follow(State bound_state);
    /// vrrpd stops or the binding goes away: stop whatever we started.
    void end();

    [[nodiscard]] const LvsSyncSettings& settings() const { return settings_; }
    [[nodiscard]] SyncRoles running() const { return running_; }
    [[nodiscard]] std::uint64_t errors() const { return errors_; }

  private:
    void apply(SyncRoles wanted);
    void set(SyncRole role, bool on);

    LvsSyncSettings settings_;
    SyncDaemonControl& control_;
    Logger& log_;
    SyncRoles running_;
    std::uint64_t errors_ = 0;
};

}  // namespace ipvsctl::vrrp
