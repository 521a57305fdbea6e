// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the configuration language: reader, statements,
// builder, validation, JSON dump and diff. Includes are disabled so the
// fuzzer never touches the file system.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

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
    if (result.ok()) {
        const auto& config = *result.config;
        (void)ipvsctl::config::json_text(ipvsctl::config::to_json(config));
        // A configuration never differs from itself.
        if (!ipvsctl::config::diff(config, config).empty() || !(config == config)) std::abort();
    }
    return 0;
}
