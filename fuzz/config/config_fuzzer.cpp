// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the configuration language: reader, statements,
// builder, validation, JSON dump and diff, and the incremental reload
// (ReloadCache): loading the input again, and again with lines inserted
// before it, with the cache gives exactly what a full load gives (a lean
// one, LoadOptions::lean_unchanged, all but the unchanged virtual servers'
// real servers, which the cache's kept copy has). Includes
// are disabled so the fuzzer never touches the file system.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/diff.hpp"
#include "config/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ipvsctl::config::LoadOptions options;
    options.config_id = "lb1";
    options.allow_include = false;
    const auto result = ipvsctl::config::parse_config(text, "fuzz.conf", options);
    for (const auto& diagnostic : result.diagnostics) {
        // Every diagnostic points into the input.
        if (diagnostic.where.file != "fuzz.conf" || diagnostic.where.line < 1) std::abort();
    }
    const auto messages = [](const ipvsctl::config::LoadResult& r) {
        std::vector<std::string> out;
        for (const auto& d : r.diagnostics) out.push_back(d.to_string());
        return out;
    };
    const auto lines = [](const ipvsctl::config::LoadResult& r) {
        std::vector<int> out;
        if (!r.ok()) return out;
        for (const auto& vs : r.config->virtual_servers) {
            out.push_back(vs.where.line);
            for (const auto& rs : vs.real_servers) {
                out.push_back(rs.where.line);
                for (const auto& checker : rs.checkers) {
                    // A cached block's checkers come back from a pool of
                    // settings with relative lines: their columns and urls too.
                    out.push_back(checker.where.line);
                    out.push_back(checker.where.column);
                    if (const auto* http =
                            std::get_if<ipvsctl::config::HttpCheck>(&checker.details))
                        for (const auto& url : http->urls) out.push_back(url.where.line);
                }
            }
        }
        return out;
    };
    const auto same = [&](const ipvsctl::config::LoadResult& a,
                          const ipvsctl::config::LoadResult& b) {
        if (a.ok() != b.ok() || messages(a) != messages(b) || lines(a) != lines(b)) return false;
        return !a.ok() || *a.config == *b.config;
    };
    // A lean reload (LoadOptions::lean_unchanged) is the full load but for
    // the real servers of unchanged virtual servers, which the cache's
    // kept() copy has (without checkers), as has the configuration they
    // are unchanged from.
    const auto same_lean = [&](const ipvsctl::config::LoadResult& full,
                               const ipvsctl::config::LoadResult& lean,
                               const ipvsctl::config::ReloadCache& lean_cache) {
        if (full.ok() != lean.ok() || messages(full) != messages(lean)) return false;
        if (!full.ok()) return true;
        const auto& servers = full.config->virtual_servers;
        const auto kept = lean_cache.kept();
        if (lean.config->virtual_servers.size() != servers.size() ||
            lean.unchanged.size() != servers.size() || kept == nullptr ||
            kept->virtual_servers.size() != servers.size() ||
            lean.lean != (lean.reused_servers > 0) ||
            (lean.unchanged_from != nullptr) != (lean.reused_servers > 0))
            return false;
        auto filled = *lean.config;
        for (std::size_t v = 0; v < servers.size(); ++v) {
            auto without_checkers = servers[v];
            for (auto& rs : without_checkers.real_servers) rs.checkers.clear();
            const auto& kept_vs = kept->virtual_servers[v];
            if (!(kept_vs == without_checkers) || kept_vs.where.line != servers[v].where.line)
                return false;
            for (std::size_t r = 0; r < kept_vs.real_servers.size(); ++r)
                if (kept_vs.real_servers[r].where.line != servers[v].real_servers[r].where.line)
                    return false;
            if (!lean.unchanged[v]) continue;
            const auto& got = lean.config->virtual_servers[v];
            if (!got.real_servers.empty() || !(got == servers[v].without_real_servers()))
                return false;
            bool found = false;
            for (const auto& before : lean.unchanged_from->virtual_servers)
                if (before.key() == got.key()) found = before == without_checkers;
            if (!found) return false;
            filled.virtual_servers[v] = servers[v];
        }
        ipvsctl::config::LoadResult whole;
        whole.config = std::make_shared<const ipvsctl::config::Config>(std::move(filled));
        whole.diagnostics = lean.diagnostics;
        return same(full, whole);
    };
    ipvsctl::config::ReloadCache cache;
    if (!same(result, ipvsctl::config::parse_config(text, "fuzz.conf", options, cache)))
        std::abort();
    if (!same(result, ipvsctl::config::parse_config(text, "fuzz.conf", options, cache)))
        std::abort();
    const std::string moved = "# moved\n\n" + std::string(text);
    if (!same(ipvsctl::config::parse_config(moved, "fuzz.conf", options),
              ipvsctl::config::parse_config(moved, "fuzz.conf", options, cache)))
        std::abort();
    auto lean_options = options;
    lean_options.lean_unchanged = true;
    ipvsctl::config::ReloadCache lean_cache;
    // The first load fills the cache; the second reuses every block it
    // can, the third the same blocks moved down.
    for (const std::string_view now : {text, text, std::string_view(moved)}) {
        if (!same_lean(ipvsctl::config::parse_config(now, "fuzz.conf", options),
                       ipvsctl::config::parse_config(now, "fuzz.conf", lean_options, lean_cache),
                       lean_cache))
            std::abort();
    }
    if (result.ok()) {
        const auto& config = *result.config;
        (void)ipvsctl::config::json_text(ipvsctl::config::to_json(config));
        // A configuration never differs from itself.
        if (!ipvsctl::config::diff(config, config).empty() || !(config == config)) std::abort();
    }
    return 0;
}
