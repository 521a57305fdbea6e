// SPDX-License-Identifier: GPL-2.0-or-later
#include "nft_sync.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <variant>

#include "log.hpp"
#include "nft/from_config.hpp"
#include "nft/netlink.hpp"

namespace ipvsctl::healthcheck {
namespace {

/// The first byte of kIpvsConntrack ('0' or '1'), or errno as a message.
std::variant<char, std::string> read_ipvs_conntrack() {
    const int fd = ::open(kIpvsConntrack, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::string(std::strerror(errno));
    char value = 0;
    const ssize_t n = ::read(fd, &value, 1);
    const int saved = errno;
    ::close(fd);
    if (n != 1) return std::string(n < 0 ? std::strerror(saved) : "empty");
    return value;
}

/// Writes "1" to kIpvsConntrack; empty on success, else errno as a message.
std::string write_ipvs_conntrack() {
    const int fd = ::open(kIpvsConntrack, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return std::strerror(errno);
    const ssize_t n = ::write(fd, "1\n", 2);
    const int saved = errno;
    ::close(fd);
    return n == 2 ? std::string() : std::string(n < 0 ? std::strerror(saved) : "short write");
}

/// The daemon's side: it normally runs unprivileged with /proc/sys read-only,
/// so it checks the value --prepare set and writes only when it can.
void ensure_ipvs_conntrack() {
    const auto current = read_ipvs_conntrack();
    if (const char* value = std::get_if<char>(&current); value && *value != '0') {
        log(Priority::info, "FULLNAT: net.ipv4.vs.conntrack=1");
        return;
    }
    const std::string why = std::holds_alternative<char>(current)
                                ? std::string("is 0")
                                : "cannot be read: " + std::get<std::string>(current);
    if (const auto failed = write_ipvs_conntrack(); !failed.empty()) {
        log(Priority::err, std::string("FULLNAT: ") + kIpvsConntrack + " " + why +
                               " and cannot be set to 1 (" + failed +
                               "); FULLNAT SNAT will not apply. Run 'healthcheckd --prepare' "
                               "as root before the daemon (healthcheckd.service does so)");
        return;
    }
    log(Priority::info, "FULLNAT: net.ipv4.vs.conntrack=1 (was 0)");
}

}  // namespace

bool needs_ipvs_conntrack(const config::Config& config) {
    return nft::needs_ipvs_conntrack(nft::desired_ruleset(config, nft::group_marks(config)));
}

int prepare_ipvs_conntrack(const config::Config& config) {
    if (!needs_ipvs_conntrack(config)) {
        std::cout << "healthcheckd --prepare: no FULLNAT real server, nothing to do\n";
        return 0;
    }
    if (const auto current = read_ipvs_conntrack();
        std::holds_alternative<char>(current) && std::get<char>(current) != '0') {
        std::cout << "healthcheckd --prepare: FULLNAT: " << kIpvsConntrack << " is already 1\n";
        return 0;
    }
    if (const auto failed = write_ipvs_conntrack(); !failed.empty()) {
        std::cerr << "healthcheckd --prepare: FULLNAT needs " << kIpvsConntrack
                  << " = 1, cannot write it: " << failed
                  << (failed == std::strerror(ENOENT) ? " (is the ip_vs module loaded?)" : "")
                  << '\n';
        return 1;
    }
    std::cout << "healthcheckd --prepare: FULLNAT: set " << kIpvsConntrack << " to 1\n";
    return 0;
}

std::shared_ptr<const config::Config> NftSync::apply(std::shared_ptr<const config::Config> config) {
    const auto marks = nft::group_marks(*config);
    const nft::Ruleset ruleset = nft::desired_ruleset(*config, marks);
    // Without fwmark groups there is nothing to collapse: no copy.
    auto collapsed =
        marks.empty()
            ? config
            : std::make_shared<const config::Config>(nft::collapse_groups(*config, marks));
    const std::string summary = std::to_string(ruleset.marks.size()) + " mark rules, " +
                                std::to_string(ruleset.snats.size()) + " snat rules";
    if (dry_run_) {
        log(Priority::info,
            "dry run: nftables rules (" + summary + "):\n" + nft::to_nft_text(ruleset));
        return collapsed;
    }
    if (ruleset.empty() && !installed_) return collapsed;
    if (auto replaced = nft::replace_table(ruleset); !replaced) {
        log(Priority::err,
            "nftables: " + replaced.error().message() +
                "; fwmark groups stay one IPVS service per address, no FULLNAT SNAT");
        return config;
    }
    installed_ = !ruleset.empty();
    log(Priority::info, "nftables: table inet " + std::string(nft::kTableName) +
                            (installed_ ? " set: " + summary : " removed"));
    if (nft::needs_ipvs_conntrack(ruleset)) ensure_ipvs_conntrack();
    return collapsed;
}

void NftSync::remove() {
    if (!installed_) return;
    if (auto removed = nft::remove_table(); !removed) {
        log(Priority::err, "nftables: " + removed.error().message());
        return;
    }
    installed_ = false;
    log(Priority::info, "nftables: table inet " + std::string(nft::kTableName) + " removed");
}

}  // namespace ipvsctl::healthcheck
