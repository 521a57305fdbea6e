// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include <map>

#include "healthcheck/schedule.hpp"

using namespace ipvsctl::healthcheck;
using namespace std::chrono_literals;

TEST_CASE("spread_offset spaces targets evenly over the interval", "[schedule]") {
    CHECK(spread_offset(0, 4, 1s) == 0ms);
    CHECK(spread_offset(1, 4, 1s) == 250ms);
    CHECK(spread_offset(3, 4, 1s) == 750ms);
    CHECK(spread_offset(5, 0, 1s) == 0ms);
    // Long intervals and many targets stay within 64 bits.
    CHECK(spread_offset(999'999, 1'000'000, std::chrono::hours(24 * 365)) <
          std::chrono::hours(24 * 365));
}

TEST_CASE("hashed_offset is stable and inside the interval", "[schedule]") {
    CHECK(hashed_offset("TCP_CHECK 192.0.2.1:80", 1s) ==
          hashed_offset("TCP_CHECK 192.0.2.1:80", 1s));
    CHECK(hashed_offset("TCP_CHECK 192.0.2.1:80", 1s) !=
          hashed_offset("TCP_CHECK 192.0.2.2:80", 1s));
    for (int i = 0; i < 100; ++i) {
        const auto offset = hashed_offset("target " + std::to_string(i), 3s);
        CHECK(offset >= 0s);
        CHECK(offset < 3s);
    }
}

TEST_CASE("targets run once per interval, on the clock", "[schedule]") {
    FakeClock clock;
    Scheduler scheduler(clock);
    scheduler.add(1, 0ms);
    scheduler.add(2, 500ms);
    auto due = scheduler.take_due();
    REQUIRE(due == std::vector<TargetId>{1});
    CHECK(scheduler.take_due().empty());  // in flight, not rescheduled yet
    const auto started = clock.now();
    clock.advance(30ms);  // the probe took 30 ms
    scheduler.completed(1, 1s);
    CHECK(*scheduler.next_due() == started + 500ms);
    clock.advance(470ms);
    CHECK(scheduler.take_due() == std::vector<TargetId>{2});
    clock.advance(499ms);
    CHECK(scheduler.take_due().empty());
    clock.advance(1ms);  // 1 s after the previous start, not after its end
    CHECK(scheduler.take_due() == std::vector<TargetId>{1});
}

TEST_CASE("a probe started late keeps its place in the interval", "[schedule]") {
    FakeClock clock;
    Scheduler scheduler(clock);
    scheduler.add(1, 100ms);
    scheduler.add(2, 400ms);
    // The loop was busy: both are taken late, together.
    clock.advance(450ms);
    REQUIRE(scheduler.take_due() == std::vector<TargetId>{1, 2});
    clock.advance(10ms);
    scheduler.completed(1, 1s);
    scheduler.completed(2, 1s);
    // Next due 1 s after they were due (1.1 s and 1.4 s), not both at 1.45 s.
    CHECK(*scheduler.next_due() == clock.now() - 460ms + 1100ms);
    clock.advance(640ms);  // 1.1 s
    CHECK(scheduler.take_due() == std::vector<TargetId>{1});
    clock.advance(299ms);
    CHECK(scheduler.take_due().empty());
    clock.advance(1ms);  // 1.4 s
    CHECK(scheduler.take_due() == std::vector<TargetId>{2});
    CHECK(scheduler.lateness().max() == 350ms);
    CHECK(scheduler.lateness().count_at_most(1ms) == 2);  // on time again
}

TEST_CASE("a probe started more than an interval late skips its missed turns", "[schedule]") {
    FakeClock clock;
    Scheduler scheduler(clock);
    scheduler.add(1, 100ms);
    clock.advance(2300ms);  // due at 0.1 s, taken at 2.3 s: turns at 1.1 and 2.1 s missed
    REQUIRE(scheduler.take_due() == std::vector<TargetId>{1});
    clock.advance(10ms);
    scheduler.completed(1, 1s);
    CHECK(*scheduler.next_due() == clock.now() - 2310ms + 3100ms);  // not at once
}

TEST_CASE("a stall does not leave the targets behind it bunched", "[schedule]") {
    FakeClock clock;
    Scheduler scheduler(clock);
    constexpr std::size_t kTargets = 1'000;
    for (std::size_t i = 0; i < kTargets; ++i) scheduler.add(i, spread_offset(i, kTargets, 1s));
    std::size_t busiest_ms = 0;
    for (int ms = 0; ms < 4000; ++ms) {
        if (ms == 1200) clock.advance(300ms);  // one 300 ms stall in the second round
        const auto due = scheduler.take_due();
        if (ms > 2000) busiest_ms = std::max(busiest_ms, due.size());
        for (const TargetId id : due) scheduler.completed(id, 1s);
        clock.advance(1ms);
    }
    // From the third round on, one target per millisecond as at the start.
    CHECK(busiest_ms <= 2);
}

TEST_CASE("a probe slower than its interval is not rescheduled into the past", "[schedule]") {
    FakeClock clock;
    Scheduler scheduler(clock);
    scheduler.add(7, 0ms);
    REQUIRE(scheduler.take_due().size() == 1);
    clock.advance(3s);
    scheduler.completed(7, 1s);
    CHECK(*scheduler.next_due() == clock.now());
}

TEST_CASE("removing a target in flight drops its completion", "[schedule]") {
    FakeClock clock;
    Scheduler scheduler(clock);
    scheduler.add(1, 0ms);
    REQUIRE(scheduler.take_due().size() == 1);
    scheduler.remove(1);
    scheduler.completed(1, 1s);
    CHECK_FALSE(scheduler.next_due().has_value());
    CHECK(scheduler.in_flight() == 0);
}

TEST_CASE("no thundering herd: 10,000 targets spread over one second", "[schedule]") {
    FakeClock clock;
    Scheduler scheduler(clock);
    constexpr std::size_t kTargets = 10'000;
    for (std::size_t i = 0; i < kTargets; ++i) scheduler.add(i, spread_offset(i, kTargets, 1s));

    // Run three intervals in 1 ms steps; every target completes at once.
    std::map<TargetId, int> runs;
    std::size_t busiest_ms = 0;
    for (int ms = 0; ms < 3000; ++ms) {
        const auto due = scheduler.take_due();
        busiest_ms = std::max(busiest_ms, due.size());
        for (const TargetId id : due) {
            ++runs[id];
            scheduler.completed(id, 1s);
        }
        clock.advance(1ms);
    }
    CHECK(runs.size() == kTargets);
    // Three runs each; those due in the last fraction of a millisecond of
    // the window have had two.
    std::size_t total = 0;
    for (const auto& [id, count] : runs) total += static_cast<std::size_t>(count);
    CHECK(total > 3 * kTargets - 20);
    CHECK(total <= 3 * kTargets);
    CHECK(busiest_ms <= 10);  // 10 per millisecond, never a burst
}

TEST_CASE("warmup delays the first probe by up to its value", "[schedule][warmup]") {
    using namespace std::chrono_literals;
    CHECK(warmup_delay(Duration{0}, 12345) == Duration{0});
    const Duration warmup = 5s;
    Duration longest{0}, shortest = warmup;
    for (std::uint64_t r = 0; r < 10000; ++r) {
        const Duration d = warmup_delay(warmup, r * 2654435761u);
        CHECK(d >= Duration{0});
        CHECK(d <= warmup);
        longest = std::max(longest, d);
        shortest = std::min(shortest, d);
    }
    // Spread over the whole range, not bunched at one end.
    CHECK(longest > 4s);
    CHECK(shortest < 1s);
    CHECK(warmup_delay(warmup, static_cast<std::uint64_t>(warmup.count())) == warmup);
}

TEST_CASE("the scheduler records how late each probe is taken", "[schedule]") {
    FakeClock clock;
    Scheduler scheduler(clock);
    scheduler.add(1, 10ms);
    scheduler.add(2, 20ms);
    clock.advance(25ms);  // 1 is 15 ms late, 2 is 5 ms late
    REQUIRE(scheduler.take_due().size() == 2);
    CHECK(scheduler.lateness().count() == 2);
    CHECK(scheduler.lateness().max() == 15ms);
    CHECK(scheduler.lateness().quantile(0.5) == 5100us);
    CHECK(scheduler.lateness().quantile(0.99) == 15100us);
}

TEST_CASE("take_due hands out at most its limit, earliest first, the rest later", "[schedule]") {
    FakeClock clock;
    Scheduler scheduler(clock);
    for (TargetId id = 1; id <= 5; ++id) scheduler.add(id, std::chrono::milliseconds(10 * id));
    clock.advance(100ms);
    CHECK(scheduler.take_due(2) == std::vector<TargetId>{1, 2});
    CHECK(scheduler.in_flight() == 2);
    CHECK(scheduler.scheduled() == 3);
    CHECK(scheduler.next_due() == clock.now() - 70ms);  // 3 is still due
    clock.advance(5ms);
    CHECK(scheduler.take_due(2) == std::vector<TargetId>{3, 4});
    CHECK(scheduler.take_due() == std::vector<TargetId>{5});
    // Each is as late as when it was handed out: 1 by 90 ms, 5 by 55 ms.
    CHECK(scheduler.lateness().count() == 5);
    CHECK(scheduler.lateness().max() == 90ms);
    CHECK(scheduler.lateness().count_at_most(60ms) == 1);
}

TEST_CASE("lateness quantiles over fine, coarse and overflow buckets", "[schedule]") {
    LatenessHistogram histogram;
    CHECK(histogram.quantile(0.99) == 0us);
    for (int i = 0; i < 98; ++i) histogram.record(250us);
    histogram.record(1500ms);
    histogram.record(-5ms);  // clamped to zero
    CHECK(histogram.count() == 100);
    CHECK(histogram.quantile(0.5) == 300us);
    CHECK(histogram.quantile(0.99) == 300us);
    CHECK(histogram.quantile(1.0) == 1510ms);
    histogram.record(30s);
    CHECK(histogram.quantile(1.0) == 30s);
    CHECK(histogram.max() == 30s);
}

TEST_CASE("lateness counts below a bound can be differenced over a window", "[schedule]") {
    LatenessHistogram histogram;
    CHECK(histogram.count_at_most(20ms) == 0);
    histogram.record(250us);  // bucket [200, 300) us
    histogram.record(19ms);   // bucket [19.0, 19.1) ms
    histogram.record(20ms);   // bucket [20.0, 20.1) ms: not below 20 ms
    histogram.record(150ms);  // coarse bucket [150, 160) ms
    histogram.record(30s);    // overflow
    CHECK(histogram.count_at_most(300us) == 1);
    CHECK(histogram.count_at_most(299us) == 0);
    CHECK(histogram.count_at_most(20ms) == 2);
    CHECK(histogram.count_at_most(20100us) == 3);
    CHECK(histogram.count_at_most(160ms) == 4);
    CHECK(histogram.count_at_most(1s) == 4);
    histogram.record(1ms);
    CHECK(histogram.count_at_most(20ms) == 3);  // cumulative: only ever grows
}

TEST_CASE("with a grid, every due time falls on it", "[schedule][grid]") {
    FakeClock clock;
    clock.advance(1234us);  // not on the grid
    const Duration grid = 5ms;
    Scheduler scheduler(clock, grid);
    const auto on_grid = [&](TimePoint t) {
        return t.time_since_epoch() % std::chrono::duration_cast<TimePoint::duration>(grid) ==
               TimePoint::duration{0};
    };
    constexpr std::size_t kTargets = 1'000;
    for (std::size_t i = 0; i < kTargets; ++i) scheduler.add(i, spread_offset(i, kTargets, 2s));
    std::map<TargetId, int> runs;
    std::size_t busiest = 0;
    for (int ms = 0; ms < 4000; ++ms) {
        if (const auto next = scheduler.next_due()) CHECK(on_grid(*next));
        const auto due = scheduler.take_due();
        busiest = std::max(busiest, due.size());
        for (const TargetId id : due) {
            ++runs[id];
            // An odd delay (not whole steps) is rounded up to the grid.
            scheduler.completed(id, id % 10 == 0 ? 2001ms : 2s);
        }
        clock.advance(1ms);
    }
    CHECK(runs.size() == kTargets);
    // Still spread: 1,000 targets over 2 s are 2 or 3 per 5 ms step.
    CHECK(busiest <= 4);
    // Taken when due, whatever the clock's offset from the grid.
    CHECK(scheduler.lateness().max() < 1ms);
}

TEST_CASE("with a grid, a late probe's next turn is on the grid", "[schedule][grid]") {
    FakeClock clock;
    Scheduler scheduler(clock, 10ms);
    scheduler.add(1, 3ms);  // due at the next 10 ms step
    const auto due = *scheduler.next_due();
    CHECK(due.time_since_epoch() % 10ms == TimePoint::duration{0});
    CHECK(due - clock.now() < 10ms + 3ms);
    clock.advance(5s);  // long past its turn
    REQUIRE(scheduler.take_due().size() == 1);
    clock.advance(2ms);
    scheduler.completed(1, 300ms);
    const auto next = *scheduler.next_due();
    CHECK(next.time_since_epoch() % 10ms == TimePoint::duration{0});
    CHECK(next >= clock.now());
}
