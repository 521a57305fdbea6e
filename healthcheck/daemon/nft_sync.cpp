// SPDX-License-Identifier: GPL-2.0-or-later
#include "nft_sync.hpp"

#include <fstream>

#include "log.hpp"
#include "nft/from_config.hpp"
#include "nft/netlink.hpp"

namespace ipvsctl::healthcheck {
namespace {

constexpr const char* kIpvsConntrack = "/proc/sys/net/ipv4/vs/conntrack";

/// FULLNAT's SNAT needs IPVS connections in conntrack; without it the
/// postrouting rules never see IPVS-forwarded packets as new flows.
void enable_ipvs_conntrack() {
    std::ofstream sysctl(kIpvsConntrack);
    sysctl << "1\n";
    sysctl.flush();
    if (!sysctl) {
        log(Priority::err,
            std::string("FULLNAT: cannot set ") + kIpvsConntrack + " to 1; SNAT will not apply");
        return;
    }
    log(Priority::info, "FULLNAT: net.ipv4.vs.conntrack=1");
}

}  // namespace

std::shared_ptr<const config::Config> NftSync::apply(std::shared_ptr<const config::Config> config) {
    const auto marks = nft::group_marks(*config);
    const nft::Ruleset ruleset = nft::desired_ruleset(*config, marks);
    auto collapsed = std::make_shared<const config::Config>(nft::collapse_groups(*config, marks));
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
    if (nft::needs_ipvs_conntrack(ruleset)) enable_ipvs_conntrack();
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
