// SPDX-License-Identifier: GPL-2.0-or-later
// When each probe target runs. Targets are spread over their interval so
// that start-up or a reload never fires every check at once, and each
// target (which may serve many virtual servers) runs once per interval.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "healthcheck/clock.hpp"

namespace ipvsctl::healthcheck {

using TargetId = std::uint64_t;

/// Evenly spaced first-probe offsets: target `index` of `count` starts at
/// interval * index / count.
Duration spread_offset(std::size_t index, std::size_t count, Duration interval);

/// A stable offset within the interval from a target's identity, for targets
/// added later (reload), so they do not bunch up at the reload instant.
Duration hashed_offset(std::string_view identity, Duration interval);

/// keepalived's warmup: a delay in [0, warmup] before a target's first
/// probe, from a random number the caller draws.
Duration warmup_delay(Duration warmup, std::uint64_t random);

/// Probe wake-ups fall on a grid of this step: the probes due within one
/// step start together, and the answers to SYN probes are read on the same
/// steps, so that one timer wake-up serves both. Due times are on the grid
/// too (see Scheduler), so a coarser grid costs no lateness: it delays the
/// reading of answers (not their latency, which is their arrival) by up to
/// a step. In the emulated guest at 500 probes a second, the daemon's CPU
/// was 9.1-10.4 s/min at 5 ms, 6.6-7.2 at 10 ms and 4.0-4.8 at 20 ms (the
/// wake-up and each sendmmsg's softirq cost more than the probes' packets).
inline constexpr Duration kWakeGrid = std::chrono::milliseconds(20);

/// The first multiple of `grid` (counted from the clock's epoch) at or
/// after `t`; `t` itself when the grid is zero.
[[nodiscard]] inline TimePoint grid_ceiling(TimePoint t, Duration grid) {
    const auto step = std::chrono::duration_cast<TimePoint::duration>(grid);
    if (step.count() <= 0) return t;
    const auto steps = (t.time_since_epoch() + step - TimePoint::duration{1}) / step;
    return TimePoint{steps * step};
}

/// The first point of the wake-up grid at or after `t`.
[[nodiscard]] inline TimePoint wake_grid_ceiling(TimePoint t) {
    return grid_ceiling(t, kWakeGrid);
}

/// How late probes start against their schedule: a fixed-bucket histogram,
/// 0.1 ms wide up to 100 ms, 10 ms wide up to 10 s, then one overflow bucket.
class LatenessHistogram {
  public:
    void record(Duration lateness);
    /// The upper bound of the bucket holding quantile q (0..1); 0 when empty.
    [[nodiscard]] Duration quantile(double q) const;
    [[nodiscard]] std::uint64_t count() const { return count_; }
    /// Samples in the buckets whose upper bound is at most `bound` (all less
    /// than `bound` late): a
    /// cumulative count that a reader can difference between two moments.
    [[nodiscard]] std::uint64_t count_at_most(Duration bound) const;
    [[nodiscard]] Duration max() const { return max_; }

  private:
    static constexpr std::size_t kFine = 1000;   // 100 us each, up to 100 ms
    static constexpr std::size_t kCoarse = 990;  // 10 ms each, up to 10 s
    std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(kFine + kCoarse + 1);
    std::uint64_t count_ = 0;
    Duration max_{};
};

class Scheduler {
  public:
    /// With a non-zero `grid`, every due time falls on it (see add and
    /// completed): a loop that wakes on that grid starts probes on time
    /// rather than up to a step late.
    explicit Scheduler(const Clock& clock, Duration grid = Duration{0})
        : clock_(clock), grid_(grid) {}

    /// Adds (or re-times) a target whose first probe is due at now + offset
    /// (rounded up to the grid).
    void add(TargetId id, Duration offset);
    void remove(TargetId id);
    [[nodiscard]] bool contains(TargetId id) const {
        const auto found = slots_.find(id);
        return found != slots_.end() && found->second.scheduled;
    }

    /// Targets due at the current time, earliest first, at most `limit` of
    /// them; they stay in flight (not scheduled) until completed().
    std::vector<TargetId> take_due(std::size_t limit = SIZE_MAX);
    /// The same into `due` (cleared first), which keeps its capacity from
    /// one wake-up to the next.
    void take_due(std::vector<TargetId>& due, std::size_t limit);
    /// Lateness of every probe take_due() handed out: now minus its due time.
    [[nodiscard]] const LatenessHistogram& lateness() const { return lateness_; }

    /// The probe of `id` has finished; the next one is due `delay` after
    /// this one was due (not after it started: a late start does not move
    /// the target's place in its interval); one started `delay` or more late
    /// is next due at its first such turn after its start. Never in the past.
    /// A delay that is a whole number of grid steps keeps the target on the
    /// grid; any other is rounded up to the grid.
    void completed(TargetId id, Duration delay);

    /// When the earliest scheduled target is due; nullopt when none is.
    [[nodiscard]] std::optional<TimePoint> next_due() const;
    [[nodiscard]] std::size_t scheduled() const { return scheduled_; }
    [[nodiscard]] std::size_t in_flight() const { return in_flight_; }

  private:
    // A binary heap of due times with lazy deletion: a removed or re-timed
    // target leaves its old entry behind, recognised by its sequence number
    // and dropped when it surfaces. A set and a map (two node allocations
    // and frees per probe) were most of the scheduler's cost at 10,000 targets.
    struct Entry {
        TimePoint due;
        TargetId id;
        std::uint64_t sequence;
    };
    struct Slot {
        TimePoint due{};      ///< of the probe in flight
        TimePoint started{};  ///< when take_due() handed it out
        std::uint64_t sequence = 0;
        bool scheduled = false;
        bool in_flight = false;
    };
    // A function object, not a function: the heap algorithms inline it
    // (through a function pointer every comparison was a call).
    struct Later {
        bool operator()(const Entry& a, const Entry& b) const {
            return a.due != b.due ? a.due > b.due : a.id > b.id;
        }
    };
    void push(TargetId id, Slot& slot, TimePoint due);
    [[nodiscard]] bool stale(const Entry& entry) const;
    /// Drops stale entries from the top; rebuilds the heap when most are stale.
    void purge();

    const Clock& clock_;
    Duration grid_;
    std::vector<Entry> heap_;
    std::unordered_map<TargetId, Slot> slots_;
    std::uint64_t sequence_ = 0;
    std::size_t scheduled_ = 0;
    std::size_t in_flight_ = 0;
    LatenessHistogram lateness_;
};

}  // namespace ipvsctl::healthcheck
