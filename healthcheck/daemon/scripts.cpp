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
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <cstring>
#include <vector>

#include "log.hpp"

namespace ipvsctl::healthcheck {

namespace asio = boost::asio;

struct ScriptRunner::Child {
    Child(asio::io_context& io, pid_t child_pid, int pidfd, std::string command_line)
        : pid(child_pid), exit_watch(io, pidfd), deadline(io), command(std::move(command_line)) {}
    pid_t pid;
    asio::posix::stream_descriptor exit_watch;
    asio::steady_timer deadline;
    std::string command;
};

namespace {

struct RunAs {
    uid_t uid = 0;
    gid_t gid = 0;
};

/// Resolved before fork: getpwnam is not async-signal-safe.
std::optional<RunAs> lookup(const std::string& user, const std::optional<std::string>& group,
                            std::string& error) {
    const passwd* entry = ::getpwnam(user.c_str());
    if (entry == nullptr) {
        error = "unknown script user " + user;
        return std::nullopt;
    }
    RunAs run_as{entry->pw_uid, entry->pw_gid};
    if (group) {
        const struct group* g = ::getgrnam(group->c_str());
        if (g == nullptr) {
            error = "unknown script group " + *group;
            return std::nullopt;
        }
        run_as.gid = g->gr_gid;
    }
    return run_as;
}

}  // namespace

ScriptRunner::ScriptRunner(asio::io_context& io, std::optional<std::string> default_user,
                           Duration timeout)
    : io_(io), default_user_(std::move(default_user)), timeout_(timeout) {}

ScriptRunner::~ScriptRunner() {
    // Scripts still running are left to finish; only their watchers go.
    for (auto& [fd, child] : children_) {
        boost::system::error_code ignored;
        child->exit_watch.close(ignored);
        child->deadline.cancel();
    }
}

std::size_t ScriptRunner::running() const {
    return children_.size();
}

void ScriptRunner::run(const ScriptJob& job) {
    ++counters_.started;
    std::string user;
    if (job.command.user) {
        user = *job.command.user;
    } else if (default_user_) {
        user = *default_user_;
    } else if (::getpwnam("keepalived_script") != nullptr) {
        user = "keepalived_script";
    }
    std::string error;
    std::optional<RunAs> run_as;
    if (!user.empty()) {
        run_as = lookup(user, job.command.group, error);
        if (!run_as) {
            ++counters_.failed;
            log(Priority::err, "script '" + job.command.command + "' not run: " + error);
            return;
        }
    }
    // Everything the child needs, prepared before fork.
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) environment.emplace_back(*entry);
    for (const auto& [name, value] : job.environment) environment.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (auto& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    const char* command = job.command.command.c_str();

    const pid_t pid = ::fork();
    if (pid < 0) {
        ++counters_.failed;
        log(Priority::err, "script '" + job.command.command + "': fork: " + std::strerror(errno));
        return;
    }
    if (pid == 0) {
        ::setpgid(0, 0);  // a timeout kills the script's children too
        const int null_fd = ::open("/dev/null", O_RDWR);
        if (null_fd >= 0) {
            ::dup2(null_fd, 0);
            ::dup2(null_fd, 1);
        }
        if (run_as && (::setgroups(0, nullptr) != 0 || ::setgid(run_as->gid) != 0 ||
                       ::setuid(run_as->uid) != 0))
            ::_exit(126);
        // Scripts must not inherit the ambient NET_ADMIN/NET_RAW the unit grants the daemon.
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        ::execle("/bin/sh", "sh", "-c", command, static_cast<char*>(nullptr), envp.data());
        ::_exit(127);
    }
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
        // No way to watch it without blocking: wait for it now (rare).
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        ++counters_.failed;
        log(Priority::err, "script '" + job.command.command + "': pidfd_open failed");
        return;
    }
    auto child = std::make_shared<Child>(io_, pid, pidfd, job.command.command);
    children_.emplace(pidfd, child);
    const auto finish = [this, pidfd](bool timed_out) {
        const auto found = children_.find(pidfd);
        if (found == children_.end()) return;
        const auto done = found->second;
        children_.erase(found);
        boost::system::error_code ignored;
        done->deadline.cancel();
        done->exit_watch.close(ignored);
        if (timed_out) ::kill(-done->pid, SIGKILL);
        int status = 0;
        while (::waitpid(done->pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            ++counters_.succeeded;
            return;
        }
        ++counters_.failed;
        const std::string why =
            timed_out
                ? "killed after the timeout"
                : (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                     : "killed by signal " + std::to_string(WTERMSIG(status)));
        log(Priority::warning, "script '" + done->command + "': " + why);
    };
    // A pidfd becomes readable when the process exits.
    child->exit_watch.async_wait(asio::posix::stream_descriptor::wait_read,
                                 [finish](const boost::system::error_code& ec) {
                                     if (!ec) finish(false);
                                 });
    child->deadline.expires_after(timeout_);
    child->deadline.async_wait([finish](const boost::system::error_code& ec) {
        if (!ec) finish(true);
    });
}

}  // namespace ipvsctl::healthcheck
