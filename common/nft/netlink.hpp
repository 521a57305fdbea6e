// SPDX-License-Identifier: GPL-2.0-or-later
// Programs a Ruleset into the kernel through libnftnl: the whole table is
// replaced in one nfnetlink batch, so the kernel swaps old rules for new ones
// in one transaction (no moment without rules, nothing half-applied).
#pragma once

#include <string_view>

#include "ipvsctl/result.hpp"
#include "nft/ruleset.hpp"

namespace ipvsctl::nft {

/// Replaces `table inet <table>` with `ruleset` in the calling thread's
/// network namespace. An empty ruleset removes the table. On error the
/// kernel keeps what it had.
Result<void> replace_table(const Ruleset& ruleset, std::string_view table = kTableName);

/// Removes `table inet <table>`; not an error when it is not there.
Result<void> remove_table(std::string_view table = kTableName);

}  // namespace ipvsctl::nft
