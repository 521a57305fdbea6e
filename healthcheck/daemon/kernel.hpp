// SPDX-License-Identifier: GPL-2.0-or-later
// Where the IPVS table lives: the kernel through libipvsctl, or an in-memory
// model (--dry-run, and hosts without IPVS).
#pragma once

#include <memory>

#include "ipvsctl/ipvsctl.hpp"

namespace ipvsctl::healthcheck {

class Kernel {
  public:
    virtual ~Kernel() = default;
    virtual Result<Table> table() = 0;
    /// Applies a plan made against `before` (the daemon's own services),
    /// all of it in one batch; a refused operation does not stop the rest,
    /// and nothing is rolled back: the caller reads the table again and
    /// plans from what is there.
    virtual Result<void> apply(const Plan& plan, const Table& before) = 0;
};

class IpvsKernel final : public Kernel {
  public:
    explicit IpvsKernel(Client client) : client_(std::move(client)) {}
    // Everything a plan compares, with one getsockopt() per IPv4 service
    // instead of a netlink dump each.
    Result<Table> table() override { return client_.table(TableDetail::Settings); }
    Result<void> apply(const Plan& plan, const Table& before) override {
        // A rollback to `before` would also prune the services the daemon
        // does not own (`before` holds only its own).
        ApplyOptions options;
        options.rollback = false;
        options.batch.stop_on_error = false;
        auto report = apply_plan(client_, plan, before, options);
        if (!report) return std::move(report).take_error();
        return {};
    }

  private:
    Client client_;
};

/// The kernel's rules in memory: a plan it would refuse fails here too.
class ModelKernel final : public Kernel {
  public:
    Result<Table> table() override { return model_.table(); }
    Result<void> apply(const Plan& plan, const Table&) override {
        // As the kernel path: the rest goes on, the first refusal is reported.
        Result<void> result;
        for (const auto& op : plan.operations)
            if (auto applied = model_.apply(op); !applied && result) result = std::move(applied);
        return result;
    }

  private:
    TableModel model_;
};

}  // namespace ipvsctl::healthcheck
