// SPDX-License-Identifier: GPL-2.0-or-later
// Injected time: the runtime asks a Clock for "now" and a TimerFactory for
// one-shot timers. The daemon uses Boost.Asio adapters (asio_adapters.hpp);
// tests use FakeClock and advance time by hand, never sleeping.
#pragma once

#include <functional>
#include <memory>

#include "types.hpp"

namespace ipvsctl::vrrp {

class Clock {
  public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual TimePoint now() const = 0;
};

/// A one-shot timer. Re-arming replaces the previous deadline; cancel() makes
/// sure the callback does not run.
class Timer {
  public:
    virtual ~Timer() = default;
    virtual void arm(TimePoint deadline, std::function<void()> on_expiry) = 0;
    virtual void cancel() = 0;
    [[nodiscard]] virtual bool armed() const = 0;
};

class TimerFactory {
  public:
    virtual ~TimerFactory() = default;
    virtual std::unique_ptr<Timer> make_timer() = 0;
};

}  // namespace ipvsctl::vrrp
