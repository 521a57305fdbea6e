// SPDX-License-Identifier: GPL-2.0-or-later
// Internal: statements to typed objects, and whole-config validation.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "config/diagnostic.hpp"
#include "config/model.hpp"
#include "config/syntax.hpp"

namespace ipvsctl::config {

/// Builds the typed configuration, reporting every problem it finds; the
/// result is only meaningful when no error was reported. The statements are
/// taken, and freed once read.
/// With `reuse`, blocks the reader found self-contained are taken from the
/// previous load or, when new, noted in reuse->block_of_server for the next.
Config build_config(std::vector<Statement> statements, Diagnostics& diagnostics,
                    BlockReuse* reuse = nullptr);

/// Checks across objects: unique names, VRIDs, addresses and virtual
/// servers; references between objects.
void validate_config(const Config& config, Diagnostics& diagnostics);

/// Every keyword the language implements, as (context, keyword) pairs; the
/// tests walk it so that each keyword has a test, and the man page lists it.
std::vector<std::pair<std::string_view, std::string_view>> implemented_keywords();

/// keepalived keywords that are recognised but not implemented (errors), per context.
std::vector<std::pair<std::string_view, std::string_view>> unimplemented_keywords();

}  // namespace ipvsctl::config
