// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as an apply/diff/`-R --json` document: the fast reader and
// nlohmann's lexer driving the same handler must agree on every input (the
// same table, the same problem, or both a syntax error with the same words),
// and apply's compact reading (read_document_json, plan_document) with them.
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
    // apply's compact reading holds the same table, and plans from it are
    // make_plan's: everything new against an empty table, nothing against
    // the table itself.
    auto compact = ipvsctl::cli::read_document_json(text);
    if (auto* document = std::get_if<ipvsctl::cli::DocumentTable>(&compact)) {
        const ipvsctl::Table expanded = document->to_table();
        if (outcome(expanded) != outcome(fast)) __builtin_trap();
        const auto plan = ipvsctl::cli::plan_document({}, *document);
        const auto reference_plan = ipvsctl::make_plan({}, expanded);
        if (plan.operations.size() != reference_plan.operations.size()) __builtin_trap();
        for (std::size_t i = 0; i < plan.operations.size(); ++i)
            if (plan.operations[i].describe() != reference_plan.operations[i].describe())
                __builtin_trap();
        if (!ipvsctl::cli::plan_document(expanded, *document, {.prune = true}).empty())
            __builtin_trap();
    } else if (std::holds_alternative<ipvsctl::Table>(fast)) {
        __builtin_trap();
    }
    // A table read back from its own printout is the same table.
    if (const auto* table = std::get_if<ipvsctl::Table>(&fast)) {
        const auto again = ipvsctl::cli::read_table_json(
            ipvsctl::cli::table_to_json(*table, ipvsctl::cli::JsonOptions{.counters = false})
                .dump());
        if (outcome(again) != outcome(fast)) __builtin_trap();
    }
    return 0;
}
