// SPDX-License-Identifier: GPL-2.0-or-later
// Runs notify scripts without blocking the event loop: fork, exec through
// /bin/sh as the script user, and reap through a pidfd on the loop.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/model.hpp"
#include "healthcheck/clock.hpp"

namespace ipvsctl::healthcheck {

struct ScriptJob {
    config::ScriptCommand command;
    /// Extra environment, e.g. IPVSCTL_EVENT=notify_up.
    std::map<std::string, std::string> environment;
};

struct ScriptCounters {
    std::uint64_t started = 0;
    std::uint64_t succeeded = 0;
    std::uint64_t failed = 0;  ///< non-zero exit, signal, timeout or not started
};

class ScriptRunner {
  public:
    /// `default_user`: global_defs script_user; without it keepalived's
    /// keepalived_script when that user exists, else root.
    ScriptRunner(boost::asio::io_context& io, std::optional<std::string> default_user,
                 Duration timeout = std::chrono::seconds(60));
    ~ScriptRunner();
    ScriptRunner(const ScriptRunner&) = delete;
    ScriptRunner& operator=(const ScriptRunner&) = delete;

    /// Starts `job` and returns at once; the outcome is logged.
    void run(const ScriptJob& job);
    void set_default_user(std::optional<std::string> user) { default_user_ = std::move(user); }

    [[nodiscard]] const ScriptCounters& counters() const { return counters_; }
    [[nodiscard]] std::size_t running() const;

  private:
    struct Child;
    boost::asio::io_context& io_;
    std::optional<std::string> default_user_;
    Duration timeout_;
    ScriptCounters counters_;
    std::map<int, std::shared_ptr<Child>> children_;
};

}  // namespace ipvsctl::healthcheck
