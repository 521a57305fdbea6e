// SPDX-License-Identifier: GPL-2.0-or-later
// Realistic configurations, parsed and dumped; the JSON must match
// expected/<name>.json. Set IPVSCTL_REGENERATE_EXPECTED=1 (or build the
// config_regenerate_expected target) to rewrite the expected files, then
// review the diff by eye before committing it.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.hpp"
#include "config/json.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kDir = IPVSCTL_CONFIG_TEST_DIR;

/// Corpus files name their config id in a first-line comment "# config-id: ID".
std::string config_id_of(const fs::path& path) {
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    const std::string marker = "# config-id: ";
    return first.rfind(marker, 0) == 0 ? first.substr(marker.size()) : "lb1";
}

}  // namespace

TEST_CASE("corpus configs dump to their expected JSON", "[corpus]") {
    const bool regenerate = std::getenv("IPVSCTL_REGENERATE_EXPECTED") != nullptr;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(kDir / "corpus")) {
        if (entry.is_regular_file() && entry.path().extension() == ".conf")
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 8);
    for (const auto& file : files) {
        DYNAMIC_SECTION(file.filename().string()) {
            ipvsctl::config::LoadOptions options;
            options.config_id = config_id_of(file);
            const auto result = ipvsctl::config::load_config(file, options);
            std::string diagnostics;
            for (const auto& d : result.diagnostics) diagnostics += d.to_string() + "\n";
            INFO(diagnostics);
            REQUIRE(result.ok());
            const auto dumped =
                ipvsctl::config::json_text(ipvsctl::config::to_json(*result.config)) + "\n";
            const auto expected_path = kDir / "expected" / (file.stem().string() + ".json");
            if (regenerate) {
                std::ofstream(expected_path) << dumped;
                WARN("rewrote " << expected_path.string());
                continue;
            }
            std::ifstream in(expected_path);
            REQUIRE(in.good());
            std::stringstream expected;
            expected << in.rdbuf();
            CHECK(dumped == expected.str());
        }
    }
}

TEST_CASE("the example configs in etc/ are valid", "[corpus]") {
    const fs::path etc = kDir.parent_path().parent_path() / "etc";
    for (const auto& entry : fs::directory_iterator(etc)) {
        if (entry.path().extension() != ".conf") continue;
        DYNAMIC_SECTION(entry.path().filename().string()) {
            ipvsctl::config::LoadOptions options;
            options.config_id = "lb1";
            const auto result = ipvsctl::config::load_config(entry.path(), options);
            std::string diagnostics;
            for (const auto& d : result.diagnostics) diagnostics += d.to_string() + "\n";
            INFO(diagnostics);
            CHECK(result.ok());
            CHECK(result.diagnostics.empty());
        }
    }
}
