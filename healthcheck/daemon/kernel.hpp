// SPDX-License-Identifier: GPL-2.0-or-later
// Where the IPVS table lives: the kernel through libipvsctl, or an in-memory
// model (--dry-run, and hosts without IPVS).
#pragma once

#include <memory>
#include <mutex>

#include "ipvsctl/ipvsctl.hpp"

namespace ipvsctl::healthcheck {

/// Reads the table off the event loop: used on one worker thread only.
class TableReader {
  public:
    virtual ~TableReader() = default;
    virtual Result<Table> table() = 0;
};

class Kernel {
  public:
    virtual ~Kernel() = default;
    virtual Result<Table> table() = 0;
    /// Applies a plan made against `before` (the daemon's own services),
    /// all of it in one batch; a refused operation does not stop the rest,
    /// and nothing is rolled back: the caller reads the table again and
    /// plans from what is there.
    virtual Result<void> apply(const Plan& plan, const Table& before) = 0;
    /// A reader for a worker thread, independent of this object's own use on
    /// the loop (its own netlink socket). Null: this kernel is read on the
    /// loop only.
    virtual std::unique_ptr<TableReader> background_reader() { return nullptr; }
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
    /// A Client of its own: a libipvsctl Client is not shared between threads.
    /// Null when it cannot be opened (the caller reads on the loop).
    std::unique_ptr<TableReader> background_reader() override {
        auto client = Client::open();
        if (!client) return nullptr;
        return std::make_unique<Reader>(std::move(*client));
    }

  private:
    class Reader final : public TableReader {
      public:
        explicit Reader(Client client) : client_(std::move(client)) {}
        Result<Table> table() override { return client_.table(TableDetail::Settings); }

      private:
        Client client_;
    };
    Client client_;
};

/// The kernel's rules in memory: a plan it would refuse fails here too.
/// Locked, as the kernel is: its background reader runs on another thread.
class ModelKernel final : public Kernel {
  public:
    Result<Table> table() override {
        const std::lock_guard lock(mutex_);
        return model_.table();
    }
    Result<void> apply(const Plan& plan, const Table&) override {
        const std::lock_guard lock(mutex_);
        // As the kernel path: the rest goes on, the first refusal is reported.
        Result<void> result;
        for (const auto& op : plan.operations)
            if (auto applied = model_.apply(op); !applied && result) result = std::move(applied);
        return result;
    }
    std::unique_ptr<TableReader> background_reader() override {
        return std::make_unique<Reader>(*this);
    }

  private:
    class Reader final : public TableReader {
      public:
        explicit Reader(ModelKernel& kernel) : kernel_(kernel) {}
        Result<Table> table() override { return kernel_.table(); }

      private:
        ModelKernel& kernel_;
    };
    std::mutex mutex_;
    TableModel model_;
};

}  // namespace ipvsctl::healthcheck
