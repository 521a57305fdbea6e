// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the configuration language: reader, statements,
// builder, validation, JSON dump and diff, and the incremental reload
// (ReloadCache): loading the input again, and again with lines inserted
// before it, with the cache gives exactly what a full load gives. Includes
// are disabled so the fuzzer never touches the file system.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
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
    ipvsctl::config::ReloadCache cache;
    if (!same(result, ipvsctl::config::parse_config(text, "fuzz.conf", options, cache)))
        std::abort();
    if (!same(result, ipvsctl::config::parse_config(text, "fuzz.conf", options, cache)))
        std::abort();
    const std::string moved = "# moved\n\n" + std::string(text);
    if (!same(ipvsctl::config::parse_config(moved, "fuzz.conf", options),
              ipvsctl::config::parse_config(moved, "fuzz.conf", options, cache)))
        std::abort();
    if (result.ok()) {
        const auto& config = *result.config;
        (void)ipvsctl::config::json_text(ipvsctl::config::to_json(config));
        // A configuration never differs from itself.
        if (!ipvsctl::config::diff(config, config).empty() || !(config == config)) std::abort();
    }
    return 0;
}
