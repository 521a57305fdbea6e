// SPDX-License-Identifier: GPL-2.0-or-later
#include "healthcheck/availability.hpp"

#include <algorithm>
#include <cmath>

namespace ipvsctl::healthcheck {

std::optional<double> nines(double ratio) {
    if (ratio >= 1.0) return std::nullopt;
    if (ratio <= 0.0) return 0.0;
    return -std::log10(1.0 - ratio);
}

Availability::Availability(TimePoint start, bool available, std::size_t keep_intervals)
    : start_(start),
      since_(start),
      available_(available),
      keep_(std::max<std::size_t>(1, keep_intervals)) {
    if (!available) {
        downtime_.push_back({start, std::nullopt});
        ++downtime_count_;
    }
}

void Availability::update(TimePoint now, bool available) {
    if (available == available_) return;
    now = std::max(now, since_);  // a clock never runs back here
    if (available_) {
        up_before_since_ += std::chrono::duration_cast<Duration>(now - since_);
        downtime_.push_back({now, std::nullopt});
        ++downtime_count_;
        if (downtime_.size() > keep_) downtime_.pop_front();
    } else if (!downtime_.empty()) {
        downtime_.back().end = now;
    }
    available_ = available;
    since_ = now;
}

AvailabilityReport Availability::report(TimePoint now) const {
    AvailabilityReport out;
    now = std::max(now, since_);
    out.observed = std::chrono::duration_cast<Duration>(now - start_);
    out.up = up_before_since_;
    if (available_) out.up += std::chrono::duration_cast<Duration>(now - since_);
    if (out.observed.count() > 0)
        out.ratio = static_cast<double>(out.up.count()) / static_cast<double>(out.observed.count());
    out.nines = nines(out.ratio);
    out.downtime.assign(downtime_.begin(), downtime_.end());
    out.downtime_count = downtime_count_;
    return out;
}

}  // namespace ipvsctl::healthcheck
