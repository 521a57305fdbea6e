// SPDX-License-Identifier: GPL-2.0-or-later
// Runs vrrp_script checks on their interval without blocking the protocol:
// fork/exec of `/bin/sh -c SCRIPT`, completion seen through a pidfd on the
// event loop, SIGKILL at the timeout (a timeout counts as a failure).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "instance.hpp"
#include "script_health.hpp"

namespace ipvsctl::vrrp {

struct ScriptSettings {
    std::string name;
    std::string command;
    std::chrono::microseconds interval{std::chrono::seconds(1)};
    std::chrono::microseconds timeout{std::chrono::seconds(1)};
    int rise = 1;
    int fall = 1;
    bool init_fail = false;
    std::optional<std::string> user;  ///< run as this user (else as vrrpd)
    friend bool operator==(const ScriptSettings&, const ScriptSettings&) = default;
};

/// Starts `/bin/sh -c COMMAND` (with extra positional arguments, seen as
/// "$@" by COMMAND when it ends in "$@") as `user`, and does not wait for it:
/// a double fork leaves nothing to reap. Used for notify scripts.
Status spawn_detached(const std::string& command, const std::vector<std::string>& args,
                      const std::optional<std::string>& user);

class ScriptRunner {
  public:
    ScriptRunner(boost::asio::io_context& io, ScriptSettings settings, Logger& log);
    ~ScriptRunner();
    ScriptRunner(const ScriptRunner&) = delete;
    ScriptRunner& operator=(const ScriptRunner&) = delete;

    void start();
    [[nodiscard]] bool up() const { return health_.up; }
    [[nodiscard]] const ScriptSettings& settings() const { return settings_; }

  private:
    void run_once();
    void finished(bool success);
    void schedule();

    boost::asio::io_context& io_;
    ScriptSettings settings_;
    Logger& log_;
    ScriptHealth health_;
    boost::asio::steady_timer interval_timer_;
    boost::asio::steady_timer timeout_timer_;
    std::unique_ptr<boost::asio::posix::stream_descriptor> pidfd_;
    int pid_ = -1;
    bool stopping_ = false;
};

}  // namespace ipvsctl::vrrp
