// SPDX-License-Identifier: GPL-2.0-or-later
// `-R`: every line parsed and checked against the current table before
// anything reaches the kernel; then one batch, rolled back on refusal.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "compat_parser.hpp"
#include "ipvsctl/operation.hpp"
#include "ipvsctl/types.hpp"

namespace ipvsctl::cli {

/// Where an operation of a restore came from.
struct StepOrigin {
    std::size_t line = 0;  ///< 1-based line of the input; 0 for JSON input
    CompatCommand command = CompatCommand::None;
};

/// The operations of a restore in order, and where each came from. Kept
/// apart so that the operations go to the kernel as they are, not copied
/// again (50,000 of them take ~20 MB).
struct RestoreSteps {
    std::vector<Operation> operations;
    std::vector<StepOrigin> origins;  ///< one per operation
    [[nodiscard]] std::size_t size() const { return operations.size(); }
};

/// Why a restore changed nothing: "line 5000: Service already exists".
struct RestoreProblem {
    int status = 2;  ///< 2 for a line that does not parse, 255 for a refusal
    std::string message;
};

/// The operation a compatible command performs on the kernel, if it is one
/// that a restore may contain (not -L, -S, -R, -h, -v).
std::optional<Operation> operation_for(const CompatRequest& request);

/// Splits a line into words as ipvsadm's restore does (blanks separate,
/// "..." and '...' quote).
std::vector<std::string> split_restore_line(std::string_view line);
/// The same into `words`, reusing its strings' storage.
void split_restore_line(std::string_view line, std::vector<std::string>& words);

/// Parses every line of an `ipvsadm -S` style text. Blank lines and lines
/// starting with '#' are skipped.
std::variant<RestoreSteps, RestoreProblem> parse_restore(std::string_view text,
                                                         const NameLookup& names);

/// Checks the steps in order against `current` with the kernel's rules.
std::optional<RestoreProblem> validate_restore(const RestoreSteps& steps, const Table& current);

/// The steps that add every service and destination of `table`.
RestoreSteps steps_adding(const Table& table);

/// "line 12: " or "" for steps that have no line.
std::string line_prefix(std::size_t line);

}  // namespace ipvsctl::cli
