// SPDX-License-Identifier: GPL-2.0-or-later
// The one JSON schema of ipvsctl: what `-L --json` and `-S --json` print and
// what `apply -f`, `diff -f` and `-R --json` read (documented in ipvsctl(8)).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

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

/// Reads the "services" of a document; counters in it are ignored.
std::variant<Table, JsonProblem> table_from_json(const nlohmann::json& document);

}  // namespace ipvsctl::cli
