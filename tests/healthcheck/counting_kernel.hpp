// SPDX-License-Identifier: GPL-2.0-or-later
// An in-memory kernel for the monitor's tests: ModelKernel, counting the
// table reads made on the loop and the plans applied. With background reads,
// drift-repair reads go through a reader that can be held after it took its
// snapshot (a read in progress while the loop goes on).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernel.hpp"

namespace ipvsctl::healthcheck::testing {

class CountingKernel final : public Kernel {
  public:
    enum class Reads { on_loop, background };
    explicit CountingKernel(Reads reads = Reads::on_loop) : reads_(reads) {}

    Result<Table> table() override {
        ++loop_reads;
        return model.table();
    }
    Result<void> apply(const Plan& plan, const Table& before) override {
        plans.push_back(plan);
        return model.apply(plan, before);
    }
    std::unique_ptr<TableReader> background_reader() override {
        if (reads_ == Reads::on_loop) return nullptr;
        return std::make_unique<Reader>(*this);
    }

    /// The next background read takes its snapshot, then waits for release().
    void hold_next_read() {
        const std::lock_guard lock(mutex_);
        hold_ = true;
        held_ = false;
    }
    void wait_until_held() {
        std::unique_lock lock(mutex_);
        gate_.wait(lock, [this] { return held_; });
    }
    void release() {
        {
            const std::lock_guard lock(mutex_);
            hold_ = false;
        }
        gate_.notify_all();
    }

    /// How many operations of `kind` the last plan had.
    [[nodiscard]] std::size_t count(OpKind kind) const {
        return static_cast<std::size_t>(
            std::count_if(plans.back().operations.begin(), plans.back().operations.end(),
                          [kind](const auto& op) { return op.kind == kind; }));
    }
    /// "ADDR:PORT" of every destination of every service, sorted.
    [[nodiscard]] std::vector<std::string> endpoints() { return listing(false); }
    /// "ADDR:PORT weight W" of every destination, sorted.
    [[nodiscard]] std::vector<std::string> destinations() { return listing(true); }

    ModelKernel model;
    std::size_t loop_reads = 0;
    std::atomic<std::size_t> background_reads = 0;
    std::vector<Plan> plans;

  private:
    class Reader final : public TableReader {
      public:
        explicit Reader(CountingKernel& kernel) : kernel_(kernel) {}
        Result<Table> table() override {
            auto snapshot = kernel_.model.table();
            ++kernel_.background_reads;
            std::unique_lock lock(kernel_.mutex_);
            if (kernel_.hold_) {
                kernel_.held_ = true;
                kernel_.gate_.notify_all();
                kernel_.gate_.wait(lock, [this] { return !kernel_.hold_; });
            }
            return snapshot;
        }

      private:
        CountingKernel& kernel_;
    };

    std::vector<std::string> listing(bool with_weight) {
        std::vector<std::string> out;
        for (const auto& entry : (*model.table()).services)
            for (const auto& d : entry.destinations)
                out.push_back(with_weight ? d.endpoint() + " weight " + std::to_string(d.weight)
                                          : d.endpoint());
        std::sort(out.begin(), out.end());
        return out;
    }

    Reads reads_;
    std::mutex mutex_;
    std::condition_variable gate_;
    bool hold_ = false;
    bool held_ = false;
};

/// The i-th real-server address of 10.NET/16: 10.NET.(i/250).(i%250+1).
inline std::string server_address(int i, int net) {
    return "10." + std::to_string(net) + "." + std::to_string(i / 250) + "." +
           std::to_string(i % 250 + 1);
}

}  // namespace ipvsctl::healthcheck::testing
