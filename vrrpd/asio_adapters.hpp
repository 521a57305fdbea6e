// SPDX-License-Identifier: GPL-2.0-or-later
// Thin Boost.Asio adapters for the Clock and Timer interfaces.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "clock.hpp"

namespace ipvsctl::vrrp {

class AsioClock : public Clock {
  public:
    [[nodiscard]] TimePoint now() const override {
        return std::chrono::time_point_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now());
    }
};

class AsioTimerFactory : public TimerFactory {
  public:
    explicit AsioTimerFactory(boost::asio::io_context& io) : io_(io) {}
    std::unique_ptr<Timer> make_timer() override { return std::make_unique<AsioTimer>(io_); }

  private:
    class AsioTimer : public Timer {
      public:
        explicit AsioTimer(boost::asio::io_context& io) : timer_(io) {}
        void arm(TimePoint deadline, std::function<void()> on_expiry) override {
            timer_.expires_at(deadline);
            const auto generation = ++generation_;
            armed_ = true;
            timer_.async_wait(
                [this, generation, cb = std::move(on_expiry)](const boost::system::error_code& ec) {
                    // A re-armed or cancelled timer's old wait must not fire.
                    if (ec || generation != generation_) return;
                    armed_ = false;
                    cb();
                });
        }
        void cancel() override {
            ++generation_;
            armed_ = false;
            timer_.cancel();
        }
        [[nodiscard]] bool armed() const override { return armed_; }

      private:
        boost::asio::steady_timer timer_;
        std::uint64_t generation_ = 0;
        bool armed_ = false;
    };

    boost::asio::io_context& io_;
};

}  // namespace ipvsctl::vrrp
