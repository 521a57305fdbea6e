// SPDX-License-Identifier: GPL-2.0-or-later
// Fixture shared by the test binaries that start from a configuration text.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "config/config.hpp"

namespace test_support {

/// Parses `text` as "test.conf"; a test whose text does not load stops here,
/// with every diagnostic shown.
inline std::shared_ptr<const ipvsctl::config::Config> parse_ok(const std::string& text) {
    auto result = ipvsctl::config::parse_config(text, "test.conf");
    std::string errors;
    for (const auto& d : result.diagnostics) errors += d.to_string() + "\n";
    INFO(errors);
    REQUIRE(result.ok());
    return result.config;
}

}  // namespace test_support
