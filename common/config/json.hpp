// SPDX-License-Identifier: GPL-2.0-or-later
// The configuration as JSON (for --dump), every default filled in.
//
// Durations are seconds (integers when whole, else fractions); addresses are
// text; absent optional values are null. Keys follow the keywords of the
// language, so a dump reads like the file it came from.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config/model.hpp"

namespace ipvsctl::config {

nlohmann::json to_json(const Config& config);

nlohmann::json to_json(const GlobalDefs& defs);
nlohmann::json to_json(const VrrpScript& script);
nlohmann::json to_json(const VrrpInstance& instance);
nlohmann::json to_json(const VrrpSyncGroup& group);
nlohmann::json to_json(const VirtualServerGroup& group);
/// Without its real servers when `with_real_servers` is false (for diffs).
nlohmann::json to_json(const VirtualServer& server, bool with_real_servers = true);
nlohmann::json to_json(const RealServer& server);

/// Serialises JSON for output. Configuration strings are bytes, not always
/// UTF-8; invalid sequences become U+FFFD instead of throwing.
std::string json_text(const nlohmann::json& value, int indent = 2);

}  // namespace ipvsctl::config
