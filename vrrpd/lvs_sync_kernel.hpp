// SPDX-License-Identifier: GPL-2.0-or-later
// SyncDaemonControl over libipvsctl: the kernel's IPVS sync daemons in
// vrrpd's own network namespace.
#pragma once

#include "lvs_sync.hpp"

namespace ipvsctl::vrrp {

class KernelSyncDaemonControl : public SyncDaemonControl {
  public:
    /// Opens a libipvsctl client per call, so vrrpd starts and runs where
    /// IPVS is not loaded yet (the error is reported when it matters).
    Status start(SyncRole role, const LvsSyncSettings& settings) override;
    Status stop(SyncRole role) override;
};

}  // namespace ipvsctl::vrrp
