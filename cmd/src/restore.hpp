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

/// How parse_restore reads lines: Fast tries parse_restore_line_fast on
/// each line and gives parse_compat only what it declines; General sends
/// every line through parse_compat (the reference the fast path is tested
/// against).
enum class RestoreParser { Fast, General };

/// Parses every line of an `ipvsadm -S` style text. Blank lines and lines
/// starting with '#' are skipped.
std::variant<RestoreSteps, RestoreProblem> parse_restore(
    std::string_view text, const NameLookup& names, RestoreParser parser = RestoreParser::Fast);

/// The common, well-formed lines `ipvsadm -S` and `ipvsctl -S` print
/// (-A/-E and -a/-e with numeric addresses and the usual options), without
/// parse_compat's general machinery. On true, `operation` (default
/// constructed on entry) and `command` are exactly what parse_compat and
/// operation_for make of the line. On false the line is not one it fully
/// recognises (or not a valid one): parse it with parse_compat, which also
/// gives the error message. Names are never looked up.
bool parse_restore_line_fast(std::string_view line, Operation& operation, CompatCommand& command);

/// True when every field of the two operations is the same (for the tests
/// and the fuzzer that hold the fast path to the general one).
bool identical(const Operation& a, const Operation& b);

/// Checks the steps in order against `current` with the kernel's rules.
std::optional<RestoreProblem> validate_restore(const RestoreSteps& steps, const Table& current);
/// The same through TableModel (the reference validate_restore is tested
/// against; it keeps whole services and is slower at 50,000 lines).
std::optional<RestoreProblem> validate_restore_with_model(const RestoreSteps& steps,
                                                          const Table& current);

/// The steps that add every service and destination of `table`.
RestoreSteps steps_adding(const Table& table);

/// "line 12: " or "" for steps that have no line.
std::string line_prefix(std::size_t line);

}  // namespace ipvsctl::cli
