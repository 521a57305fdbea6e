// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as an apply/diff/`-R --json` document: the fast reader and
// nlohmann's lexer driving the same handler must agree on every input (the
// same table, the same problem, or both a syntax error with the same words).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "json_document.hpp"

namespace {

std::string outcome(const std::variant<ipvsctl::Table, ipvsctl::cli::JsonProblem,
                                       ipvsctl::cli::JsonSyntaxError>& result) {
    using namespace ipvsctl::cli;
    if (const auto* table = std::get_if<ipvsctl::Table>(&result))
        return "table " + table_to_json(*table, JsonOptions{.counters = false}).dump();
    if (const auto* problem = std::get_if<JsonProblem>(&result))
        return "problem " + problem->message();
    return "syntax " + std::get<JsonSyntaxError>(result).what;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto fast = ipvsctl::cli::read_table_json(text);
    const auto reference = ipvsctl::cli::read_table_json_nlohmann(text);
    if (outcome(fast) != outcome(reference)) __builtin_trap();
    // A table read back from its own printout is the same table.
    if (const auto* table = std::get_if<ipvsctl::Table>(&fast)) {
        const auto again = ipvsctl::cli::read_table_json(
            ipvsctl::cli::table_to_json(*table, ipvsctl::cli::JsonOptions{.counters = false})
                .dump());
        if (outcome(again) != outcome(fast)) __builtin_trap();
    }
    return 0;
}
