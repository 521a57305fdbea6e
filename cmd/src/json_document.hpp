// SPDX-License-Identifier: GPL-2.0-or-later
// The one JSON schema of ipvsctl: what `-L --json` and `-S --json` print and
// what `apply -f`, `diff -f` and `-R --json` read (documented in ipvsctl(8)).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "document_table.hpp"
#include "ipvsctl/types.hpp"
#include "listing.hpp"

namespace ipvsctl::cli {

struct JsonOptions {
    bool counters = true;  ///< include stats, rates and connection counters
};

nlohmann::json service_to_json(const ServiceEntry& entry, const JsonOptions& options);
/// {"services": [...]}; services in ipvsadm's listing order.
nlohmann::json table_to_json(const Table& table, const JsonOptions& options);
nlohmann::json timeouts_to_json(const Timeouts& timeouts);
nlohmann::json daemons_to_json(const std::vector<SyncDaemon>& daemons);
nlohmann::json connections_to_json(const std::vector<Connection>& connections);

/// A problem in a document: where ("services[2].destinations[0].weight")
/// and what.
struct JsonProblem {
    std::string where;
    std::string what;
    [[nodiscard]] std::string message() const { return where + ": " + what; }
};

/// A text that is not JSON: the lexer's message, with line and column.
struct JsonSyntaxError {
    std::string what;
};

/// Reads the "services" of a document straight from its text, in one pass
/// and without a DOM; counters and unknown keys are ignored. A syntax error
/// anywhere wins over a schema problem, as if the whole text were parsed first.
std::variant<Table, JsonProblem, JsonSyntaxError> read_table_json(std::string_view text);

/// The same, for `apply` and `diff`: the settings only, in a compact table.
std::variant<DocumentTable, JsonProblem, JsonSyntaxError> read_document_json(std::string_view text);

/// The same through nlohmann's own lexer: the words for a syntax error, and
/// a reference to check the fast reader against (fuzz target).
std::variant<Table, JsonProblem, JsonSyntaxError> read_table_json_nlohmann(std::string_view text);

/// The same for a document already parsed (it is printed and read again).
std::variant<Table, JsonProblem> table_from_json(const nlohmann::json& document);

}  // namespace ipvsctl::cli
