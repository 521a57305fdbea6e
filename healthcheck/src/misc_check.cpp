// SPDX-License-Identifier: GPL-2.0-or-later
// MISC_CHECK: run a script; healthy when it exits 0. With misc_dynamic, an
// exit status of 2..255 is healthy with weight status - 2, and 1 is a failure.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <cerrno>
#include <cstring>

#include "healthcheck/session.hpp"

namespace ipvsctl::healthcheck {
namespace {

namespace asio = boost::asio;

struct RunAs {
    uid_t uid = 0;
    gid_t gid = 0;
};

/// Looks the script user up before fork (getpwnam is not async-signal-safe).
std::optional<RunAs> lookup_user(const std::optional<std::string>& user) {
    if (!user) return std::nullopt;
    const passwd* entry = ::getpwnam(user->c_str());
    if (entry == nullptr) return std::nullopt;
    return RunAs{entry->pw_uid, entry->pw_gid};
}

class MiscCheck final : public ProbeSession {
  public:
    MiscCheck(asio::io_context& io, const ProbeSpec& spec, const SessionOptions& options)
        : ProbeSession(io, spec),
          misc_(spec.details_if<config::MiscCheck>() ? *spec.details_if<config::MiscCheck>()
                                                     : config::MiscCheck{}),
          exit_watch_(io) {
        user_ = misc_.user ? std::optional<std::string>(misc_.user->command) : options.script_user;
    }
    ~MiscCheck() override { reap(true); }

  protected:
    [[nodiscard]] Duration deadline() const override {
        return misc_.timeout.count() > 0 ? misc_.timeout : spec().delay_loop;
    }

    void start_probe() override {
        const std::uint64_t probe = generation();
        const auto run_as = lookup_user(user_);
        if (user_ && !run_as) return report_later(probe, "unknown script user " + *user_);

        const pid_t pid = ::fork();
        if (pid < 0) return report_later(probe, std::string("fork: ") + std::strerror(errno));
        if (pid == 0) exec_child(run_as);  // never returns

        child_ = pid;
        const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        if (pidfd < 0) {
            reap(true);
            return report_later(probe, std::string("pidfd_open: ") + std::strerror(errno));
        }
        exit_watch_.assign(pidfd);
        // A pidfd becomes readable when the process exits.
        exit_watch_.async_wait(
            asio::posix::stream_descriptor::wait_read,
            [self = shared_from_this(), this, probe](const boost::system::error_code& ec) {
                if (probe != generation() || ec) return;
                finished(probe);
            });
    }

    void abort_probe() override { reap(true); }

  private:
    [[noreturn]] void exec_child(const std::optional<RunAs>& run_as) {
        // Own process group, so a timeout kills the script's children too.
        ::setpgid(0, 0);
        const int null_fd = ::open("/dev/null", O_RDWR);
        if (null_fd >= 0) {
            ::dup2(null_fd, 0);
            ::dup2(null_fd, 1);
            ::dup2(null_fd, 2);
        }
        if (run_as) {
            if (::setgroups(0, nullptr) != 0 || ::setgid(run_as->gid) != 0 ||
                ::setuid(run_as->uid) != 0)
                ::_exit(126);
        }
        // Scripts must not inherit the ambient NET_ADMIN/NET_RAW the unit grants the daemon.
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        ::execl("/bin/sh", "sh", "-c", misc_.path.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }

    void report_later(std::uint64_t probe, std::string why) {
        asio::post(io(), [self = shared_from_this(), this, probe, why = std::move(why)] {
            probe_finished(probe, {false, FailureReason::script_error, why, {}, {}, {}});
        });
    }

    /// Collects the child; `kill` first ends its whole process group.
    int reap(bool kill) {
        boost::system::error_code ignored;
        if (exit_watch_.is_open()) exit_watch_.close(ignored);
        if (child_ <= 0) return -1;
        if (kill) ::kill(-child_, SIGKILL);
        int status = 0;
        while (::waitpid(child_, &status, 0) < 0 && errno == EINTR) {
        }
        child_ = -1;
        return status;
    }

    void finished(std::uint64_t probe) {
        const int status = reap(false);
        ProbeOutcome outcome;
        if (!WIFEXITED(status)) {
            outcome.reason = FailureReason::script_failed;
            outcome.detail = "killed by signal " + std::to_string(WTERMSIG(status));
            return probe_finished(probe, std::move(outcome));
        }
        const int code = WEXITSTATUS(status);
        outcome.detail = "exit status " + std::to_string(code);
        if (code == 0) {
            outcome.success = true;
        } else if (misc_.dynamic && code >= 2) {
            outcome.success = true;
            outcome.weight = code - 2;
        } else {
            outcome.reason = FailureReason::script_failed;
        }
        probe_finished(probe, std::move(outcome));
    }

    config::MiscCheck misc_;
    std::optional<std::string> user_;
    asio::posix::stream_descriptor exit_watch_;
    pid_t child_ = -1;
};

}  // namespace

std::shared_ptr<ProbeSession> make_misc_session(asio::io_context& io, const ProbeSpec& spec,
                                                const SessionOptions& options) {
    return std::make_shared<MiscCheck>(io, spec, options);
}

}  // namespace ipvsctl::healthcheck
