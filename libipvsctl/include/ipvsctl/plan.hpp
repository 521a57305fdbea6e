// SPDX-License-Identifier: LGPL-2.1-or-later
// Plan, then apply: a pure diff between the current and the desired table,
// and an in-memory model that checks operations the way the kernel would.
#pragma once

#include <map>
#include <vector>

#include "ipvsctl/client.hpp"
#include "ipvsctl/operation.hpp"
#include "ipvsctl/types.hpp"

namespace ipvsctl {

struct PlanOptions {
    /// Delete services and destinations that exist only in the current table.
    bool prune = false;
};

struct Plan {
    std::vector<Operation> operations;
    [[nodiscard]] bool empty() const { return operations.empty(); }
};

/// The smallest list of operations that turns `current` into `desired`.
/// Settings are edited in place wherever the kernel can change them; a
/// service present in both tables is never deleted. Order: new services with
/// their destinations, then edits and destination changes of existing
/// services, deletions last.
Plan make_plan(const Table& current, const Table& desired, const PlanOptions& options = {});

/// The IPVS table in memory, applying operations with the kernel's rules
/// (which object must or must not exist), so that a whole sequence can be
/// checked before any of it reaches the kernel.
class TableModel {
  public:
    TableModel() = default;
    explicit TableModel(const Table& initial);

    /// Applies `op` to the model or says, as the kernel would, why not.
    Result<void> apply(const Operation& op);
    /// The modelled table, services in key order.
    [[nodiscard]] Table table() const;
    [[nodiscard]] std::size_t service_count() const { return services_.size(); }

  private:
    std::map<ServiceKey, ServiceEntry> services_;
};

struct ApplyOptions {
    BatchOptions batch;
    /// On a kernel refusal, put the table back as it was before the plan.
    bool rollback = true;
};

struct ApplyReport {
    std::size_t applied = 0;
};

/// Applies a plan made against `before`, in batches. When the kernel refuses
/// an operation, the table is read back and restored to `before` (when
/// rollback is on), and the error names the refused operation.
Result<ApplyReport> apply_plan(Client& client, const Plan& plan, const Table& before,
                               const ApplyOptions& options = {});

}  // namespace ipvsctl
