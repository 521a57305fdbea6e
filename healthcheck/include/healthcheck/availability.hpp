// SPDX-License-Identifier: GPL-2.0-or-later
// Availability of a virtual server as the seed notes define it: the share
// of time it had at least one healthy real server (and its quorum), as a
// ratio and in nines, with the intervals it was down. Pure; fed by the
// monitor with an injected clock.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "healthcheck/clock.hpp"

namespace ipvsctl::healthcheck {

/// Nines of a ratio: -log10(1 - ratio); 0.9995 gives 3.30. Nullopt for a
/// ratio of 1 (no downtime: infinitely many nines).
std::optional<double> nines(double ratio);

struct DowntimeInterval {
    TimePoint start;
    std::optional<TimePoint> end;  ///< nullopt while still down
};

struct AvailabilityReport {
    Duration observed{};
    Duration up{};
    double ratio = 1.0;  ///< up / observed; 1 before any time has passed
    std::optional<double> nines;
    std::vector<DowntimeInterval> downtime;  ///< oldest first, at most the kept count
    std::size_t downtime_count = 0;          ///< every interval, kept or not
};

class Availability {
  public:
    /// Observation starts at `start` in state `available`.
    Availability(TimePoint start, bool available, std::size_t keep_intervals = 100);

    /// The state at `now` (called on every change; repeats are harmless).
    void update(TimePoint now, bool available);
    [[nodiscard]] AvailabilityReport report(TimePoint now) const;
    [[nodiscard]] bool available() const { return available_; }

  private:
    TimePoint start_;
    TimePoint since_;  ///< when the current state began
    bool available_;
    Duration up_before_since_{};
    std::deque<DowntimeInterval> downtime_;
    std::size_t downtime_count_ = 0;
    std::size_t keep_;
};

}  // namespace ipvsctl::healthcheck
