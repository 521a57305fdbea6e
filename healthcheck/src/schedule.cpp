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

void Scheduler::push(TargetId id, Slot& slot, TimePoint due) {
    slot.sequence = ++sequence_;
    slot.scheduled = true;
    ++scheduled_;
    heap_.push_back({due, id, slot.sequence});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
}

bool Scheduler::stale(const Entry& entry) const {
    const auto found = slots_.find(entry.id);
    return found == slots_.end() || !found->second.scheduled ||
           found->second.sequence != entry.sequence;
}

void Scheduler::purge() {
    if (heap_.size() > 2 * scheduled_ + 64) {
        std::erase_if(heap_, [this](const Entry& entry) { return stale(entry); });
        std::make_heap(heap_.begin(), heap_.end(), Later{});
    }
    while (!heap_.empty() && stale(heap_.front())) {
        std::pop_heap(heap_.begin(), heap_.end(), Later{});
        heap_.pop_back();
    }
}

void Scheduler::add(TargetId id, Duration offset) {
    remove(id);
    push(id, slots_[id], grid_ceiling(clock_.now() + std::max(offset, Duration{0}), grid_));
}

void Scheduler::remove(TargetId id) {
    const auto found = slots_.find(id);
    if (found == slots_.end()) return;
    if (found->second.scheduled) --scheduled_;
    if (found->second.in_flight) --in_flight_;
    slots_.erase(found);
    purge();
}

std::vector<TargetId> Scheduler::take_due(std::size_t limit) {
    std::vector<TargetId> due;
    take_due(due, limit);
    return due;
}

void Scheduler::take_due(std::vector<TargetId>& due, std::size_t limit) {
    due.clear();
    const TimePoint now = clock_.now();
    purge();
    while (!heap_.empty() && heap_.front().due <= now && due.size() < limit) {
        const Entry entry = heap_.front();
        std::pop_heap(heap_.begin(), heap_.end(), Later{});
        heap_.pop_back();
        if (!stale(entry)) {
            auto& slot = slots_.at(entry.id);
            lateness_.record(std::chrono::duration_cast<Duration>(now - entry.due));
            slot.due = entry.due;
            slot.started = now;
            slot.scheduled = false;
            slot.in_flight = true;
            --scheduled_;
            ++in_flight_;
            due.push_back(entry.id);
        }
        purge();
    }
}

void Scheduler::completed(TargetId id, Duration delay) {
    // A target removed while its probe ran stays removed.
    const auto found = slots_.find(id);
    if (found == slots_.end() || !found->second.in_flight) return;
    found->second.in_flight = false;
    --in_flight_;
    // From when it was due, not when it started: a probe the loop started
    // late keeps its place in the interval. From its start, every target
    // delayed by one stall stayed bunched with the others behind it, and
    // each later stall added to the bunch. A probe started an interval or
    // more late has missed its turn: the next one is its first turn after
    // the start. A probe that ran past that runs again at once, as before.
    const Slot& slot = found->second;
    TimePoint next = slot.due + delay;
    if (delay.count() > 0 && next <= slot.started) {
        const auto missed = (slot.started - slot.due) / delay;  // whole intervals late
        next = slot.due + delay * (missed + 1);
    }
    push(id, found->second, grid_ceiling(std::max(next, clock_.now()), grid_));
}

std::optional<TimePoint> Scheduler::next_due() const {
    // purge() after every change keeps a live entry on top.
    if (heap_.empty()) return std::nullopt;
    return heap_.front().due;
}

}  // namespace ipvsctl::healthcheck
