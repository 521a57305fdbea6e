// SPDX-License-Identifier: GPL-2.0-or-later
// Incremental reload (ReloadCache): a load that reuses the previous parse
// of unchanged blocks gives exactly what a full load gives — the same
// configuration, the same line numbers, the same diagnostics — over random
// edits of generated files with parameters, conditionals, groups and
// include files; a rejected load leaves the cache as it was.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace config_test;
namespace config = ipvsctl::config;

namespace {

/// Every location of the virtual-server part, as text: SourceLocation never
/// takes part in ==, so the test compares them itself.
std::vector<std::string> locations(const config::Config& c) {
    std::vector<std::string> out;
    for (const auto& vs : c.virtual_servers) {
        out.push_back(vs.where.to_string());
        for (const auto& rs : vs.real_servers) {
            out.push_back(rs.where.to_string());
            for (const auto& checker : rs.checkers) {
                out.push_back(checker.where.to_string());
                if (const auto* http = std::get_if<config::HttpCheck>(&checker.details))
                    for (const auto& url : http->urls) out.push_back(url.where.to_string());
            }
        }
    }
    for (const auto& group : c.virtual_server_groups) out.push_back(group.where.to_string());
    out.push_back(c.global_defs.where.to_string());
    return out;
}

void write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

/// A generated configuration, edited at random between loads.
struct Model {
    std::mt19937 random;
    std::string var = "7";            ///< $WEIGHT
    std::string cond_id = "lb1";      ///< the @id of conditional lines
    std::vector<std::string> blocks;  ///< top-level blocks of the main file
    std::vector<std::string> include_blocks;
    int serial = 0;

    explicit Model(unsigned seed) : random(seed) {
        for (int i = 0; i < 12; ++i) blocks.push_back(plain_block());
        blocks.push_back(param_block());
        blocks.push_back(conditional_block());
        blocks.push_back(group_block());
        for (int i = 0; i < 3; ++i) include_blocks.push_back(plain_block());
    }

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); }

    std::string address() {
        ++serial;
        return "10.100." + std::to_string(serial / 250) + "." + std::to_string(serial % 250 + 1);
    }

    std::string real_servers(int count, int net) {
        std::string out;
        for (int i = 0; i < count; ++i) {
            out += "    real_server 10." + std::to_string(net) + "." + std::to_string(pick(4)) +
                   "." + std::to_string(pick(200) + 1) + " 8" + std::to_string(i) + " {\n";
            out += "        weight " + std::to_string(pick(9) + 1) + "\n";
            if (pick(3) == 0) {
                out += "        HTTP_GET {\n            url {\n                path /h" +
                       std::to_string(pick(5)) + "\n            }\n        }\n";
            } else {
                out += "        TCP_CHECK {\n            connect_timeout " +
                       std::to_string(pick(3) + 1) + "\n        }\n";
            }
            if (pick(4) == 0) out += "        # a comment ! with { braces }\n";
            out += "    }\n";
        }
        return out;
    }

    std::string plain_block() {
        return "virtual_server " + address() + " 80 {\n    lb_algo " +
               (pick(2) == 0 ? std::string("wrr") : std::string("rr")) + "\n    protocol TCP\n" +
               real_servers(pick(4) + 1, 200) + "}\n";
    }
    std::string param_block() {
        return "virtual_server " + address() +
               " 80 {\n    real_server 10.201.0.1 80 {\n        weight $WEIGHT\n"
               "        TCP_CHECK {\n        }\n    }\n}\n";
    }
    std::string conditional_block() {
        return "virtual_server " + address() +
               " 80 {\n    real_server 10.201.0.2 80 {\n        TCP_CHECK {\n        }\n    }\n"
               "    @lb1 real_server 10.201.0.3 80 {\n    @lb1     TCP_CHECK {\n    @lb1     }\n"
               "    @lb1 }\n}\n";
    }
    std::string group_block() {
        return "virtual_server_group web {\n    10.150.0.1 80\n}\n"
               "virtual_server group web {\n    protocol TCP\n" +
               real_servers(2, 200) + "}\n";
    }

    std::string main_text() const {
        std::string out = "global_defs {\n    router_id r1\n}\n$WEIGHT=" + var + "\n";
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            out += blocks[i];
            if (i == blocks.size() / 2) out += "include extra.conf\n";
        }
        return out;
    }
    std::string include_text() const {
        std::string out;
        for (const auto& block : include_blocks) out += block;
        return out;
    }

    /// One random edit; some make the file invalid.
    void edit() {
        auto& list = pick(4) == 0 ? include_blocks : blocks;
        switch (pick(11)) {
            case 0:  // a block's content changes
                if (!list.empty())
                    list[static_cast<std::size_t>(pick(static_cast<int>(list.size())))] =
                        plain_block();
                break;
            case 1:  // lines before shift the rest
                list.insert(list.begin(), "# comment\n\n");
                break;
            case 2:  // a block goes away
                if (list.size() > 1) list.erase(list.begin() + pick(static_cast<int>(list.size())));
                break;
            case 3:  // a new block
                list.insert(list.begin() + pick(static_cast<int>(list.size()) + 1), plain_block());
                break;
            case 4:  // blocks swap places
                if (list.size() > 1)
                    std::swap(list[static_cast<std::size_t>(pick(static_cast<int>(list.size())))],
                              list.back());
                break;
            case 5:  // the parameter changes
                var = std::to_string(pick(20) + 1);
                break;
            case 6:  // the conditional's id changes
                cond_id = pick(2) == 0 ? "lb1" : "lb2";
                break;
            case 7:  // a duplicate block: rejected (virtual_server defined twice)
                if (!list.empty()) list.push_back(list.front());
                break;
            case 8:  // a syntax error inside an otherwise unchanged block
                if (!list.empty()) {
                    auto& block =
                        list[static_cast<std::size_t>(pick(static_cast<int>(list.size())))];
                    block.insert(block.find('\n') + 1, "    lb_algo\n");
                }
                break;
            case 9:  // a bad value in a new block
                list.push_back(
                    "virtual_server 10.99.0.1 80 {\n    real_server 10.200.9.9 80 {\n"
                    "        weight -5\n    }\n}\n");
                break;
            default:  // an unbalanced brace
                list.push_back("virtual_server 10.99.0.2 80 {\n");
                break;
        }
    }

    /// Undoes edits that leave the file bad, so that the walk goes on from
    /// a good file most of the time.
    void repair() {
        for (auto* list : {&blocks, &include_blocks}) {
            std::vector<std::string> kept;
            for (const auto& block : *list) {
                if (block.find("lb_algo\n") != std::string::npos) continue;
                if (block.find("10.99.0.") != std::string::npos) continue;
                if (std::find(kept.begin(), kept.end(), block) != kept.end()) continue;
                kept.push_back(block);
            }
            *list = kept;
        }
    }
};

void require_same(const config::LoadResult& full, const config::LoadResult& incremental) {
    REQUIRE(messages(incremental) == messages(full));
    REQUIRE(incremental.ok() == full.ok());
    if (!full.ok()) return;
    REQUIRE(*incremental.config == *full.config);
    REQUIRE(locations(*incremental.config) == locations(*full.config));
    REQUIRE(dump(incremental) == dump(full));
}

config::Config only(const config::VirtualServer& vs) {
    config::Config c;
    c.virtual_servers.push_back(vs);
    return c;
}

/// A lean reload (LoadOptions::lean_unchanged) is the full load but for the
/// real servers of unchanged virtual servers, which only the cache's kept()
/// copy has (without checkers); the configuration they are unchanged from
/// has each of them, equal.
void require_same_lean(const config::LoadResult& full, const config::LoadResult& lean,
                       const config::ReloadCache& cache) {
    REQUIRE(messages(lean) == messages(full));
    REQUIRE(lean.ok() == full.ok());
    if (!full.ok()) return;
    const auto& servers = full.config->virtual_servers;
    REQUIRE(lean.config->virtual_servers.size() == servers.size());
    REQUIRE(lean.unchanged.size() == servers.size());
    REQUIRE(lean.lean == (lean.reused_servers > 0));
    REQUIRE((lean.unchanged_from != nullptr) == (lean.reused_servers > 0));
    const auto kept = cache.kept();
    REQUIRE(kept != nullptr);
    REQUIRE(kept->virtual_servers.size() == servers.size());
    for (std::size_t v = 0; v < servers.size(); ++v) {
        const auto& got = lean.config->virtual_servers[v];
        auto without_checkers = servers[v];
        for (auto& rs : without_checkers.real_servers) rs.checkers.clear();
        REQUIRE(kept->virtual_servers[v] == without_checkers);
        REQUIRE(locations(only(kept->virtual_servers[v])) == locations(only(without_checkers)));
        if (!lean.unchanged[v]) {
            REQUIRE(got == servers[v]);
            continue;
        }
        REQUIRE(got.real_servers.empty());
        REQUIRE(got == servers[v].without_real_servers());
        REQUIRE(got.where.to_string() == servers[v].where.to_string());
        const auto& before = lean.unchanged_from->virtual_servers;
        const auto same_key = std::find_if(before.begin(), before.end(),
                                           [&](const auto& vs) { return vs.key() == got.key(); });
        REQUIRE(same_key != before.end());
        REQUIRE(*same_key == without_checkers);
    }
    auto filled = *lean.config;
    for (std::size_t v = 0; v < servers.size(); ++v)
        if (lean.unchanged[v]) filled.virtual_servers[v] = servers[v];
    REQUIRE(filled == *full.config);
    REQUIRE(locations(filled) == locations(*full.config));
}

}  // namespace

TEST_CASE("an incremental reload equals a full load over random edits") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("ipvsctl-reload-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto main_file = dir / "main.conf";
    std::size_t reused_total = 0;
    std::size_t lean_total = 0;
    std::size_t rejected = 0;
    for (unsigned seed = 1; seed <= 6; ++seed) {
        Model model(seed);
        config::ReloadCache cache;
        config::ReloadCache lean_cache;
        for (int step = 0; step < 60; ++step) {
            if (step > 0) model.edit();
            if (step % 3 == 2) model.repair();
            write(main_file, model.main_text());
            write(dir / "extra.conf", model.include_text());
            config::LoadOptions options;
            options.config_id = model.cond_id;
            INFO("seed " << seed << " step " << step << "\n" << model.main_text());
            const auto full = config::load_config(main_file, options);
            const auto incremental = config::load_config(main_file, options, cache);
            require_same(full, incremental);
            config::LoadOptions lean_options = options;
            lean_options.lean_unchanged = true;
            const auto lean = config::load_config(main_file, lean_options, lean_cache);
            require_same_lean(full, lean, lean_cache);
            if (lean.ok()) lean_total += lean.reused_servers;
            if (incremental.ok()) {
                REQUIRE(incremental.unchanged.size() == incremental.config->virtual_servers.size());
                REQUIRE(incremental.reused_servers + incremental.parsed_servers ==
                        incremental.config->virtual_servers.size());
                reused_total += incremental.reused_servers;
            } else {
                ++rejected;
            }
        }
    }
    std::filesystem::remove_all(dir);
    // The walk did reuse blocks, and went through rejected files.
    CHECK(reused_total > 100);
    CHECK(lean_total == reused_total);
    CHECK(rejected > 5);
}

TEST_CASE("blocks that depend on parameters, conditionals or groups are parsed again") {
    const std::string text =
        "$W=3\nvirtual_server 10.0.0.1 80 {\n    real_server 10.0.1.1 80 {\n        weight $W\n"
        "        TCP_CHECK {\n        }\n    }\n}\n"
        "virtual_server 10.0.0.2 80 {\n    @lb1 real_server 10.0.1.2 80 {\n    @lb1 }\n}\n"
        "virtual_server_group g {\n    10.0.0.9 80\n}\n"
        "virtual_server group g {\n    real_server 10.0.1.3 80 {\n    }\n}\n"
        "virtual_server 10.0.0.3 80 {\n    real_server 10.0.1.4 80 {\n    }\n}\n";
    config::ReloadCache cache;
    config::LoadOptions options;
    options.config_id = "lb1";
    const auto first = config::parse_config(text, "t.conf", options, cache);
    REQUIRE(first.ok());
    CHECK(first.reused_servers == 0);
    // Only the last block is self-contained.
    CHECK(cache.blocks() == 1);

    std::string changed = text;
    changed.replace(changed.find("$W=3"), 4, "$W=5");
    const auto second = config::parse_config(changed, "t.conf", options, cache);
    REQUIRE(second.ok());
    CHECK(second.reused_servers == 1);
    CHECK(second.config->virtual_servers[0].real_servers[0].weight == 5);
    CHECK(second.unchanged == std::vector<bool>{false, false, false, true});

    options.config_id = "lb2";
    const auto third = config::parse_config(changed, "t.conf", options, cache);
    REQUIRE(third.ok());
    CHECK(third.config->virtual_servers[1].real_servers.empty());
    require_same(config::parse_config(changed, "t.conf", options), third);
}

TEST_CASE("a reused block keeps each checker's column, equal settings or not") {
    // Two equal TCP_CHECKs at different columns (found by fuzz_config): the
    // cache's pool of settings gave the second the first one's column.
    const std::string text =
        "virtual_server 10.0.0.1 80 {\n    real_server 10.0.1.1 80 {\n        TCP_CHECK {\n"
        "        }\n    }\n    real_server 10.0.1.2 80 {\n               TCP_CHECK {\n"
        "        }\n    }\n}\n";
    config::ReloadCache cache;
    config::LoadOptions options;
    const auto first = config::parse_config(text, "t.conf", options, cache);
    REQUIRE(first.ok());
    const auto second = config::parse_config(text, "t.conf", options, cache);
    REQUIRE(second.ok());
    CHECK(second.reused_servers == 1);
    const auto& servers = second.config->virtual_servers.at(0).real_servers;
    REQUIRE(servers.size() == 2);
    CHECK(servers[0].checkers.at(0).where.column == 9);
    CHECK(servers[1].checkers.at(0).where.column == 16);
    CHECK(locations(*second.config) == locations(*first.config));
}

TEST_CASE("a rejected reload names file and line as a full load does and keeps the cache") {
    std::string good;
    for (int i = 1; i <= 20; ++i)
        good += "virtual_server 10.0.0." + std::to_string(i) + " 80 {\n    real_server 10.0.1." +
                std::to_string(i) + " 80 {\n        TCP_CHECK {\n        }\n    }\n}\n";
    config::ReloadCache cache;
    const auto first = config::parse_config(good, "t.conf", {}, cache);
    REQUIRE(first.ok());
    REQUIRE(cache.blocks() == 20);

    // Lines inserted at the top move every block; the error is in block 15.
    std::string bad = "# moved\n# down\n" + good;
    const auto at = bad.find("virtual_server 10.0.0.15 80 {\n") + 30;
    bad.insert(at, "    weight_of_nothing 3\n");
    const auto full = config::parse_config(bad, "t.conf", {});
    const auto rejected = config::parse_config(bad, "t.conf", {}, cache);
    REQUIRE_FALSE(full.ok());
    require_same(full, rejected);
    REQUIRE(joined(rejected).find("t.conf:" + std::to_string(2 + 14 * 6 + 2) + ":") !=
            std::string::npos);
    // Nothing of the rejected load was kept: the good file reuses all 20.
    CHECK(cache.blocks() == 20);
    const auto again = config::parse_config("# moved\n" + good, "t.conf", {}, cache);
    REQUIRE(again.ok());
    CHECK(again.reused_servers == 20);
    require_same(config::parse_config("# moved\n" + good, "t.conf", {}), again);

    // A duplicate of a reused block is still found by validation, with
    // both locations.
    const auto twice = good +
                       "virtual_server 10.0.0.3 80 {\n    real_server 10.0.1.3 80 {\n"
                       "        TCP_CHECK {\n        }\n    }\n}\n";
    require_same(config::parse_config(twice, "t.conf", {}),
                 config::parse_config(twice, "t.conf", {}, cache));
}
