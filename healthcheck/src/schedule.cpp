// SPDX-License-Identifier: GPL-2.0-or-later
#include "healthcheck/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace ipvsctl::healthcheck {

Duration spread_offset(std::size_t index, std::size_t count, Duration interval) {
    if (count == 0 || interval.count() <= 0) return Duration{0};
    // Split to stay within 64 bits for long intervals and many targets.
    const auto n = static_cast<std::int64_t>(count);
    const auto i = static_cast<std::int64_t>(index % count);
    const std::int64_t ticks = interval.count() / n * i + interval.count() % n * i / n;
    return Duration{ticks};
}

Duration hashed_offset(std::string_view identity, Duration interval) {
    if (interval.count() <= 0) return Duration{0};
    // FNV-1a: stable across runs and builds, unlike std::hash.
    std::uint64_t hash = 14695981039346656037ull;
    for (const char c : identity) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ull;
    }
    return Duration{
        static_cast<Duration::rep>(hash % static_cast<std::uint64_t>(interval.count()))};
}

Duration warmup_delay(Duration warmup, std::uint64_t random) {
    if (warmup.count() <= 0) return Duration{0};
    const auto span = static_cast<std::uint64_t>(warmup.count()) + 1;
    return Duration{static_cast<Duration::rep>(random % span)};
}

void LatenessHistogram::record(Duration lateness) {
    const std::int64_t us = std::max<std::int64_t>(0, lateness.count());
    std::size_t bucket;
    if (us < 100'000)
        bucket = static_cast<std::size_t>(us / 100);
    else if (us < 10'000'000)
        bucket = kFine + static_cast<std::size_t>((us - 100'000) / 10'000);
    else
        bucket = kFine + kCoarse;
    ++buckets_[bucket];
    ++count_;
    max_ = std::max(max_, Duration{us});
}

Duration LatenessHistogram::quantile(double q) const {
    if (count_ == 0) return Duration{0};
    // The smallest bucket whose cumulative count reaches q of all samples.
    const auto wanted = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        seen += buckets_[i];
        if (seen < std::max<std::uint64_t>(wanted, 1)) continue;
        if (i < kFine) return Duration{static_cast<Duration::rep>((i + 1) * 100)};
        if (i < kFine + kCoarse)
            return Duration{static_cast<Duration::rep>(100'000 + (i - kFine + 1) * 10'000)};
        return max_;
    }
    return max_;
}

std::uint64_t LatenessHistogram::count_at_most(Duration bound) const {
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kFine + kCoarse; ++i) {
        const std::int64_t upper =
            i < kFine ? static_cast<std::int64_t>((i + 1) * 100)
                      : 100'000 + static_cast<std::int64_t>((i - kFine + 1) * 10'000);
        if (upper > bound.count()) break;
        seen += buckets_[i];
    }
    return seen;
}

void Scheduler::add(TargetId id, Duration offset) {
    remove(id);
    const TimePoint due = clock_.now() + std::max(offset, Duration{0});
    queue_.emplace(due, id);
    due_at_[id] = due;
}

void Scheduler::remove(TargetId id) {
    in_flight_.erase(id);
    const auto found = due_at_.find(id);
    if (found == due_at_.end()) return;
    queue_.erase({found->second, id});
    due_at_.erase(found);
}

std::vector<TargetId> Scheduler::take_due() {
    std::vector<TargetId> due;
    const TimePoint now = clock_.now();
    while (!queue_.empty() && queue_.begin()->first <= now) {
        const TargetId id = queue_.begin()->second;
        lateness_.record(std::chrono::duration_cast<Duration>(now - queue_.begin()->first));
        queue_.erase(queue_.begin());
        due_at_.erase(id);
        in_flight_.insert(id);
        due.push_back(id);
    }
    return due;
}

void Scheduler::completed(TargetId id, TimePoint started, Duration delay) {
    // A target removed while its probe ran stays removed.
    if (in_flight_.erase(id) == 0) return;
    const TimePoint due = std::max(started + delay, clock_.now());
    queue_.emplace(due, id);
    due_at_[id] = due;
}

std::optional<TimePoint> Scheduler::next_due() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.begin()->first;
}

}  // namespace ipvsctl::healthcheck
