// SPDX-License-Identifier: GPL-2.0-or-later
// A manual clock for tests: time moves only when advance() is called, and
// timers fire in deadline order with now() equal to their deadline.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "clock.hpp"

namespace ipvsctl::vrrp {

class FakeClock : public Clock, public TimerFactory {
  public:
    [[nodiscard]] TimePoint now() const override { return now_; }

    std::unique_ptr<Timer> make_timer() override {
        auto t = std::make_unique<FakeTimer>(*this);
        timers_.push_back(t.get());
        return t;
    }

    /// Moves time forward by `d`, firing every timer that falls due on the way.
    void advance(std::chrono::nanoseconds d) {
        const TimePoint end = now_ + d;
        for (;;) {
            FakeTimer* next = nullptr;
            for (auto* t : timers_) {
                if (t->armed_ && t->deadline_ <= end && (!next || t->deadline_ < next->deadline_)) {
                    next = t;
                }
            }
            if (!next) break;
            now_ = std::max(now_, next->deadline_);
            next->armed_ = false;
            auto cb = std::move(next->callback_);
            cb();
        }
        now_ = end;
    }

  private:
    class FakeTimer : public Timer {
      public:
        explicit FakeTimer(FakeClock& clock) : clock_(clock) {}
        ~FakeTimer() override { std::erase(clock_.timers_, this); }
        FakeTimer(const FakeTimer&) = delete;
        FakeTimer& operator=(const FakeTimer&) = delete;
        void arm(TimePoint deadline, std::function<void()> on_expiry) override {
            deadline_ = deadline;
            callback_ = std::move(on_expiry);
            armed_ = true;
        }
        void cancel() override { armed_ = false; }
        [[nodiscard]] bool armed() const override { return armed_; }

        FakeClock& clock_;
        TimePoint deadline_{};
        std::function<void()> callback_;
        bool armed_ = false;
    };

    TimePoint now_{std::chrono::seconds(1000)};
    std::vector<FakeTimer*> timers_;
};

}  // namespace ipvsctl::vrrp
