// SPDX-License-Identifier: GPL-2.0-or-later
// healthcheckd's nftables part: installs the rules for fwmark groups and
// FULLNAT on start and reload (one atomic swap each), removes them on stop,
// and tells the monitor which IPVS services the groups collapse into.
#pragma once

#include <memory>

#include "config/model.hpp"

namespace ipvsctl::healthcheck {

/// The sysctl FULLNAT's SNAT needs at 1: without it the postrouting rules
/// never see IPVS-forwarded packets as conntrack flows.
inline constexpr const char* kIpvsConntrack = "/proc/sys/net/ipv4/vs/conntrack";

/// Whether `config` has a FULLNAT real server (so needs kIpvsConntrack=1).
bool needs_ipvs_conntrack(const config::Config& config);

/// `healthcheckd --prepare`: the one privileged step the unprivileged daemon
/// cannot do itself (the unit runs it as root, ExecStartPre=+). Sets
/// kIpvsConntrack to 1 when `config` needs it; prints what it did, or an
/// error naming the file and the reason. Returns the exit status.
int prepare_ipvs_conntrack(const config::Config& config);

class NftSync {
  public:
    /// In a dry run the rules are only logged.
    explicit NftSync(bool dry_run) : dry_run_(dry_run) {}
    NftSync(const NftSync&) = delete;
    NftSync& operator=(const NftSync&) = delete;

    /// Programs the rules `config` asks for and returns the configuration
    /// the monitor should program IPVS from: groups collapsed into fwmark
    /// services, or, when the rules could not be installed, `config` as it
    /// is (one service per group address, as keepalived does).
    std::shared_ptr<const config::Config> apply(std::shared_ptr<const config::Config> config);

    /// Removes our table, if we installed one.
    void remove();

  private:
    bool dry_run_;
    bool installed_ = false;
};

}  // namespace ipvsctl::healthcheck
