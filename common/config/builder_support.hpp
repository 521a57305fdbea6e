// SPDX-License-Identifier: GPL-2.0-or-later
// Internal: value parsers and keyword dispatch shared by the section builders.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/defaults.hpp"
#include "config/diagnostic.hpp"
#include "config/model.hpp"
#include "config/syntax.hpp"

namespace ipvsctl::config::detail {

/// Where each keyword of a block was last written, for messages about it.
struct Seen {
    std::map<std::string, SourceLocation, std::less<>> at;

    [[nodiscard]] bool has(std::string_view keyword) const { return at.find(keyword) != at.end(); }
    [[nodiscard]] SourceLocation where(std::string_view keyword,
                                       const SourceLocation& fallback) const {
        const auto found = at.find(keyword);
        return found == at.end() ? fallback : found->second;
    }
};

enum class BlockUse { none, required };

/// Value parsers: each reports its own error and returns nullopt on failure.
class Values {
  public:
    explicit Values(Diagnostics& diagnostics) : diagnostics_(diagnostics) {}

    Diagnostics& diagnostics() { return diagnostics_; }
    void error(const SourceLocation& where, std::string message) {
        diagnostics_.error(where, std::move(message));
    }
    void warning(const SourceLocation& where, std::string message) {
        diagnostics_.warning(where, std::move(message));
    }

    std::optional<long long> integer(const Token& token, std::string_view what, long long low,
                                     long long high);
    std::optional<int> small_integer(const Token& token, std::string_view what, int low, int high) {
        auto value = integer(token, what, low, high);
        if (!value) return std::nullopt;
        return static_cast<int>(*value);
    }
    /// keepalived <TIMER>: decimal seconds, microsecond resolution.
    std::optional<Duration> timer(const Token& token, std::string_view what,
                                  Duration low = Duration::zero(),
                                  Duration high = std::chrono::hours(24 * 365));
    /// Optional <BOOL> argument at `index`: absent means true.
    std::optional<bool> boolean(const Statement& statement, std::size_t index = 0);
    std::optional<IpAddress> address(const Token& token, std::string_view what);
    std::optional<std::uint16_t> port(const Token& token, std::string_view what);
    /// `command [user [[:]group]]`
    ScriptCommand script(const Statement& statement);
    /// `user [[:]group]`
    ScriptCommand user(const Statement& statement);
    /// `NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]|FNAT [source ADDR]` starting at
    /// args[0].
    std::optional<Forwarding> forwarding(const Statement& statement);

  private:
    Diagnostics& diagnostics_;
};

/// "1-255", "0.01-40.95 seconds": for range messages.
std::string seconds_text(Duration duration);

/// A keyword of one block type and what it accepts.
template <typename Draft>
struct Keyword {
    std::string_view name;
    std::size_t min_args = 0;
    std::size_t max_args = 0;  ///< kMany: no limit
    BlockUse block = BlockUse::none;
    void (*handle)(Values&, const Statement&, Draft&) = nullptr;
    /// Bit mask of the block kinds (e.g. checker types) the keyword applies to.
    std::uint32_t applies_to = ~std::uint32_t{0};
};

inline constexpr std::size_t kMany = static_cast<std::size_t>(-1);

/// Why an unimplemented-but-harmless keyword is accepted.
struct Ignored {
    std::string_view keyword;
    std::string_view reason;
};

/// What a block type knows besides its own keywords.
struct BlockInfo {
    std::string_view context;  ///< "vrrp_instance", "TCP_CHECK", ...
    std::span<const std::string_view> unimplemented;
    std::span<const Ignored> ignored;
    /// This block's kind bit, matched against Keyword::applies_to.
    std::uint32_t kind = ~std::uint32_t{0};
    /// Names the block kinds in a mask, for "does not apply" messages.
    std::string (*describe_kinds)(std::uint32_t mask) = nullptr;
};

/// Reports a keyword that is not in the block's table.
void report_unknown(Values& values, const Statement& statement, const BlockInfo& info,
                    std::span<const std::string_view> known);

/// Checks argument count and block use; false when the statement is unusable.
bool check_shape(Values& values, const Statement& statement, std::size_t min_args,
                 std::size_t max_args, BlockUse block);

template <typename Draft>
void dispatch(Values& values, std::span<const Statement> body,
              std::span<const Keyword<Draft>> table, const BlockInfo& info, Draft& draft) {
    for (const auto& statement : body) {
        const Keyword<Draft>* keyword = nullptr;
        for (const auto& candidate : table) {
            if (candidate.name == statement.keyword.text) {
                keyword = &candidate;
                break;
            }
        }
        if (keyword == nullptr) {
            std::vector<std::string_view> known;
            known.reserve(table.size());
            for (const auto& candidate : table) known.push_back(candidate.name);
            report_unknown(values, statement, info, known);
            continue;
        }
        if ((keyword->applies_to & info.kind) == 0) {
            std::string message =
                "'" + statement.keyword.text + "' does not apply to " + std::string(info.context);
            if (info.describe_kinds != nullptr) {
                message += "; it is a keyword of " + info.describe_kinds(keyword->applies_to);
            }
            values.error(statement.keyword.where, message);
            continue;
        }
        if (!check_shape(values, statement, keyword->min_args, keyword->max_args, keyword->block)) {
            continue;
        }
        draft.seen.at[std::string(keyword->name)] = statement.keyword.where;
        keyword->handle(values, statement, draft);
    }
}

}  // namespace ipvsctl::config::detail
