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
    /// With a ReloadCache: virtual servers whose block is unchanged come
    /// back without their real servers (everything else as in a full
    /// load); their real servers, without checkers, are in the cache's
    /// kept(). For a caller that keeps its own state of the previous load
    /// (healthcheckd's monitor): copying 90% of 37,000 real servers and
    /// their checkers only to be dropped was half of a reload's page faults.
    bool lean_unchanged = false;
};

struct LoadResult {
    /// Set when there were no errors (warnings allowed).
    std::shared_ptr<const Config> config;
    /// Errors and warnings in the order they were found.
    std::vector<Diagnostic> diagnostics;
    /// With a ReloadCache, per virtual server of `config`: true when its
    /// block is byte for byte one of the previous successful load's (so
    /// the virtual server, checkers included, is equal to that one's).
    std::vector<bool> unchanged;
    /// With a ReloadCache, when some virtual server is unchanged: the
    /// previous load's kept() configuration, which has each unchanged
    /// virtual server (same key, equal but for line numbers). A caller
    /// that built its state from exactly that configuration may carry its
    /// state of those virtual servers over (required with lean_unchanged).
    std::shared_ptr<const Config> unchanged_from;
    /// Set when LoadOptions::lean_unchanged left the unchanged virtual
    /// servers of `config` without real servers.
    bool lean = false;
    /// With a ReloadCache: virtual servers taken from the previous load,
    /// and those parsed.
    std::size_t reused_servers = 0;
    std::size_t parsed_servers = 0;

    [[nodiscard]] bool ok() const { return config != nullptr; }
};

/// What a reload may reuse of the previous successful load: each
/// self-contained top-level `virtual_server` block's text (as a digest), where it
/// was and what it became. A block is self-contained when its lines hold no
/// `$` parameter, no `@` conditional, `~` or include line and it is not a
/// `group` (whose meaning depends on its virtual_server_group); such a
/// block means the same wherever it is, so an unchanged one is not parsed
/// again (its line numbers are moved to where it is now). Everything else —
/// global_defs, parameters, conditionals, includes (read again each time,
/// their blocks compared by content) — is read as in a full load, and
/// cross-object validation always runs on the whole result: the result
/// equals a full load's, diagnostics included.
///
/// A failed load leaves the cache as it was. Keeps the last configuration
/// without checkers (kept()), a 128-bit non-cryptographic hash (the file
/// is root's, trusted) and the length of each self-contained block's text,
/// and the blocks' checkers as references into one pool of distinct
/// checker settings.
class ReloadCache {
  public:
    ReloadCache();
    ~ReloadCache();
    ReloadCache(const ReloadCache&) = delete;
    ReloadCache& operator=(const ReloadCache&) = delete;

    /// Forgets everything: the next load parses the whole file.
    void clear();
    [[nodiscard]] std::size_t blocks() const;
    /// The last successful load's configuration without checkers (null
    /// before one): what healthcheckd's monitor keeps, shared, instead of a
    /// copy of its own.
    [[nodiscard]] std::shared_ptr<const Config> kept() const;

    /// Internal to the loader (load.cpp).
    struct State;
    State& state() { return *state_; }

  private:
    std::unique_ptr<State> state_;
};

/// Reads, parses and validates a configuration file and its includes.
LoadResult load_config(const std::filesystem::path& path, const LoadOptions& options = {});

/// Same, reusing what `cache` holds of the previous load (see ReloadCache)
/// and updating it when the load succeeds.
LoadResult load_config(const std::filesystem::path& path, const LoadOptions& options,
                       ReloadCache& cache);

/// Same for text in memory; `file_name` names it in diagnostics and anchors
/// relative includes.
LoadResult parse_config(std::string_view text, const std::string& file_name,
                        const LoadOptions& options = {});
LoadResult parse_config(std::string_view text, const std::string& file_name,
                        const LoadOptions& options, ReloadCache& cache);

/// The host name up to its first dot: the default config id.
std::string default_config_id();

}  // namespace ipvsctl::config
