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
    /// Applies a plan made against `before`.
    virtual Result<void> apply(const Plan& plan, const Table& before) = 0;
};

class IpvsKernel final : public Kernel {
  public:
    explicit IpvsKernel(Client client) : client_(std::move(client)) {}
    Result<Table> table() override { return client_.table(); }
    Result<void> apply(const Plan& plan, const Table& before) override {
        auto report = apply_plan(client_, plan, before);
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
        for (const auto& op : plan.operations) {
            if (auto applied = model_.apply(op); !applied) return applied;
        }
        return {};
    }

  private:
    TableModel model_;
};

}  // namespace ipvsctl::healthcheck
