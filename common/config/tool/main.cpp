// SPDX-License-Identifier: GPL-2.0-or-later
// ipvsctl-config: check, dump or compare configuration files with the same
// code vrrpd and healthcheckd use for --check, --dump and reloads.
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/diff.hpp"
#include "config/json.hpp"

namespace {

constexpr int kExitGood = 0;
constexpr int kExitBad = 1;
constexpr int kExitUsage = 2;

void usage(std::ostream& out) {
    out << "usage: ipvsctl-config [-i CONFIG_ID] --check FILE\n"
           "       ipvsctl-config [-i CONFIG_ID] --dump FILE\n"
           "       ipvsctl-config [-i CONFIG_ID] --diff OLD_FILE NEW_FILE\n"
           "\n"
           "  --check FILE   validate FILE; exit 0 when good, 1 when not\n"
           "  --dump FILE    print FILE as JSON with every default filled in\n"
           "  --diff A B     print what changes when B replaces A, as JSON\n"
           "  -i ID          config id for @ID conditional lines (default: host name)\n";
}

/// Prints diagnostics to stderr; returns the config or null.
std::shared_ptr<const ipvsctl::config::Config> load(const std::string& path,
                                                    const ipvsctl::config::LoadOptions& options) {
    auto result = ipvsctl::config::load_config(path, options);
    for (const auto& diagnostic : result.diagnostics) std::cerr << diagnostic.to_string() << '\n';
    return result.config;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    ipvsctl::config::LoadOptions options;
    std::string_view mode;
    std::vector<std::string> files;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto arg = args[i];
        if (arg == "-h" || arg == "--help") {
            usage(std::cout);
            return kExitGood;
        }
        if ((arg == "-i" || arg == "--config-id") && i + 1 < args.size()) {
            options.config_id = std::string(args[++i]);
        } else if (arg == "--check" || arg == "--dump" || arg == "--diff") {
            if (!mode.empty()) {
                usage(std::cerr);
                return kExitUsage;
            }
            mode = arg;
        } else if (!arg.empty() && arg.front() == '-') {
            std::cerr << "ipvsctl-config: unknown option " << arg << '\n';
            usage(std::cerr);
            return kExitUsage;
        } else {
            files.emplace_back(arg);
        }
    }
    const std::size_t wanted = mode == "--diff" ? 2 : 1;
    if (mode.empty() || files.size() != wanted) {
        usage(std::cerr);
        return kExitUsage;
    }
    try {
        if (mode == "--diff") {
            const auto before = load(files[0], options);
            const auto after = load(files[1], options);
            if (!before || !after) return kExitBad;
            std::cout << ipvsctl::config::json_text(to_json(ipvsctl::config::diff(*before, *after)))
                      << '\n';
            return kExitGood;
        }
        const auto config = load(files[0], options);
        if (!config) return kExitBad;
        if (mode == "--dump") {
            std::cout << ipvsctl::config::json_text(ipvsctl::config::to_json(*config)) << '\n';
        }
        return kExitGood;
    } catch (const std::exception& e) {
        std::cerr << "ipvsctl-config: " << e.what() << '\n';
        return kExitBad;
    }
}
