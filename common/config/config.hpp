// SPDX-License-Identifier: GPL-2.0-or-later
// Loading the configuration language: the entry point for vrrpd's and
// healthcheckd's --check, --dump and SIGHUP reload.
//
//   auto result = ipvsctl::config::load_config("/etc/ipvsctl/ipvsctl.conf");
//   for (const auto& d : result.diagnostics) std::cerr << d.to_string() << '\n';
//   if (!result.ok()) return 1;
//   use(*result.config);
//
// No exception escapes these functions; problems come back as diagnostics.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/defaults.hpp"
#include "config/diagnostic.hpp"
#include "config/model.hpp"

namespace ipvsctl::config {

struct LoadOptions {
    /// Matched by `@id` conditional lines. Empty: the host name up to its
    /// first dot, as keepalived does.
    std::string config_id;
    /// When false, `include` lines are errors (used by the fuzzer).
    bool allow_include = true;
};

struct LoadResult {
    /// Set when there were no errors (warnings allowed).
    std::shared_ptr<const Config> config;
    /// Errors and warnings in the order they were found.
    std::vector<Diagnostic> diagnostics;

    [[nodiscard]] bool ok() const { return config != nullptr; }
};

/// Reads, parses and validates a configuration file and its includes.
LoadResult load_config(const std::filesystem::path& path, const LoadOptions& options = {});

/// Same for text in memory; `file_name` names it in diagnostics and anchors
/// relative includes.
LoadResult parse_config(std::string_view text, const std::string& file_name,
                        const LoadOptions& options = {});

/// The host name up to its first dot: the default config id.
std::string default_config_id();

}  // namespace ipvsctl::config
