// SPDX-License-Identifier: GPL-2.0-or-later
// vrrpd's Prometheus metrics (metrics_listen vrrpd ADDR:PORT): the figures
// of the status reply as text exposition, served by common/metrics.
#pragma once

#include <string>
#include <vector>

#include "instance.hpp"
#include "lvs_sync.hpp"
#include "sync_group.hpp"

namespace ipvsctl::vrrp {

struct MetricsView {
    std::vector<const Instance*> instances;
    std::vector<const SyncGroup*> groups;
    const LvsSyncBinding* lvs_sync = nullptr;
};

/// The whole exposition: per instance (label vrrp_instance) its state as a
/// one-hot gauge per state, priorities, transitions, adverts sent and
/// received, rejections by reason; per sync group its state; the sync
/// daemon roles.
std::string render_metrics(const MetricsView& view);

}  // namespace ipvsctl::vrrp
