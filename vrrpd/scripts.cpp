// SPDX-License-Identifier: GPL-2.0-or-later
#include "scripts.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ipvsctl::vrrp {
namespace {

constexpr int kLogWarning = 4;
constexpr int kLogInfo = 6;

int pidfd_open(int pid) {
    return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

/// In a child: stdio to /dev/null, a new session, then the user's ids.
/// Returns false when the ids could not be taken.
bool prepare_child(const std::optional<std::pair<uid_t, gid_t>>& ids) {
    setsid();
    const int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    return !ids ||
           (setgroups(0, nullptr) == 0 && setgid(ids->second) == 0 && setuid(ids->first) == 0);
}

}  // namespace

Status spawn_detached(const std::string& command, const std::vector<std::string>& args,
                      const std::optional<std::string>& user) {
    std::optional<std::pair<uid_t, gid_t>> ids;
    if (user) {
        const passwd* pw = getpwnam(user->c_str());
        if (!pw) return Error{0, "unknown user " + *user};
        ids = std::make_pair(pw->pw_uid, pw->pw_gid);
    }
    // argv: sh -c COMMAND sh ARGS...
    std::vector<const char*> argv{"sh", "-c", command.c_str(), "sh"};
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    const pid_t child = fork();
    if (child < 0) return Error{errno, "fork"};
    if (child == 0) {
        const pid_t grandchild = fork();
        if (grandchild != 0) _exit(grandchild < 0 ? 1 : 0);
        if (!prepare_child(ids)) _exit(126);
        // Scripts must not inherit the ambient NET_ADMIN/NET_RAW the unit grants the daemon.
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        execv("/bin/sh", const_cast<char* const*>(argv.data()));
        _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);  // returns at once: the child only forks
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return Error{0, "fork of the script failed"};
    return std::nullopt;
}

ScriptRunner::ScriptRunner(boost::asio::io_context& io, ScriptSettings settings, Logger& log)
    : io_(io),
      settings_(std::move(settings)),
      log_(log),
      health_(ScriptHealth::initial(settings_.init_fail)),
      interval_timer_(io),
      timeout_timer_(io) {}

ScriptRunner::~ScriptRunner() {
    stopping_ = true;
    interval_timer_.cancel();
    timeout_timer_.cancel();
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (pidfd_) pidfd_->close();
}

void ScriptRunner::start() {
    run_once();
}

void ScriptRunner::schedule() {
    if (stopping_) return;
    interval_timer_.expires_after(settings_.interval);
    interval_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) run_once();
    });
}

void ScriptRunner::run_once() {
    std::optional<std::pair<uid_t, gid_t>> ids;
    if (settings_.user) {
        const passwd* pw = getpwnam(settings_.user->c_str());
        if (!pw) {
            log_.log(kLogWarning, "vrrp_script " + settings_.name + ": unknown user " +
                                      *settings_.user + "; counted as a failure");
            finished(false);
            return;
        }
        ids = std::make_pair(pw->pw_uid, pw->pw_gid);
    }
    const pid_t pid = fork();
    if (pid < 0) {
        log_.log(kLogWarning, "vrrp_script " + settings_.name + ": fork: " + std::strerror(errno));
        finished(false);
        return;
    }
    if (pid == 0) {
        // Child: a new session, stdio to /dev/null, drop privileges, exec.
        setsid();
        const int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        if (ids &&
            (setgroups(0, nullptr) != 0 || setgid(ids->second) != 0 || setuid(ids->first) != 0)) {
            _exit(126);
        }
        // Scripts must not inherit the ambient NET_ADMIN/NET_RAW the unit grants the daemon.
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        execl("/bin/sh", "sh", "-c", settings_.command.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    pid_ = pid;
    const int fd = pidfd_open(pid);
    if (fd < 0) {
        // No pidfd: wait synchronously (only on very old kernels).
        int status = 0;
        waitpid(pid, &status, 0);
        pid_ = -1;
        finished(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        return;
    }
    pidfd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
    timeout_timer_.expires_after(settings_.timeout);
    timeout_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && pid_ > 0) kill(pid_, SIGKILL);  // reaped below; a timeout fails
    });
    pidfd_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& ec) {
                           if (ec || stopping_) return;
                           int status = 0;
                           waitpid(pid_, &status, 0);
                           pid_ = -1;
                           timeout_timer_.cancel();
                           pidfd_->close();
                           finished(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                       });
}

void ScriptRunner::finished(bool success) {
    const bool was_up = health_.up;
    health_ = next(health_, success, settings_.rise, settings_.fall);
    if (health_.up != was_up) {
        log_.log(kLogInfo,
                 "vrrp_script " + settings_.name + " is now " + (health_.up ? "up" : "down"));
    }
    schedule();
}

}  // namespace ipvsctl::vrrp
