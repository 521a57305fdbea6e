// SPDX-License-Identifier: GPL-2.0-or-later
// Time as the health checker sees it: injected, so tests advance a fake
// clock instead of sleeping.
#pragma once

#include <chrono>

namespace ipvsctl::healthcheck {

using Duration = std::chrono::microseconds;
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
  public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual TimePoint now() const = 0;
};

/// The monotonic clock of the machine.
class SteadyClock final : public Clock {
  public:
    [[nodiscard]] TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

/// A clock that moves only when told to.
class FakeClock final : public Clock {
  public:
    [[nodiscard]] TimePoint now() const override { return now_; }
    void advance(Duration by) { now_ += by; }
    void set(TimePoint to) { now_ = to; }

  private:
    TimePoint now_{std::chrono::seconds(1000)};
};

}  // namespace ipvsctl::healthcheck
