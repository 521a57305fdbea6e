// SPDX-License-Identifier: GPL-2.0-or-later
// healthcheckd's nftables part: installs the rules for fwmark groups and
// FULLNAT on start and reload (one atomic swap each), removes them on stop,
// and tells the monitor which IPVS services the groups collapse into.
#pragma once

#include <memory>

#include "config/model.hpp"

namespace ipvsctl::healthcheck {

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
