// SPDX-License-Identifier: GPL-2.0-or-later
// The API edge: nothing thrown below escapes from here.
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <new>

#include "config/builder.hpp"
#include "config/config.hpp"

namespace ipvsctl::config {

struct ReloadCache::State {
    /// The last configuration without checkers (what the monitor keeps).
    std::shared_ptr<const Config> config;
    /// The distinct checker settings of the cached blocks.
    std::vector<Checker> pool;
    BlockReuse::PreviousMap blocks;
};

ReloadCache::ReloadCache() : state_(std::make_unique<State>()) {}
ReloadCache::~ReloadCache() = default;
void ReloadCache::clear() {
    *state_ = State{};
}
std::size_t ReloadCache::blocks() const {
    return state_->blocks.size();
}
std::shared_ptr<const Config> ReloadCache::kept() const {
    return state_->config;
}

namespace {

/// Adds a block's checker settings to `pool` (equal ones once; line numbers
/// relative to the checker's line; locations compare equal, so the entry's
/// file may be another block's: the builder puts the block's file back),
/// returning its index.
std::uint32_t pooled(std::vector<Checker>& pool, Checker checker) {
    const int line = checker.where.line;
    checker.where.line = 0;
    if (auto* http = std::get_if<HttpCheck>(&checker.details))
        for (auto& url : http->urls) url.where.line -= line;
    // Locations compare equal: equal settings written at another column
    // (or with their urls elsewhere) are another entry, or a reused block
    // would report the first one's columns.
    const auto same_place = [](const Checker& a, const Checker& b) {
        if (a.where.column != b.where.column) return false;
        const auto* a_http = std::get_if<HttpCheck>(&a.details);
        const auto* b_http = std::get_if<HttpCheck>(&b.details);
        if (a_http == nullptr || b_http == nullptr) return true;
        for (std::size_t u = 0; u < a_http->urls.size() && u < b_http->urls.size(); ++u)
            if (a_http->urls[u].where.line != b_http->urls[u].where.line ||
                a_http->urls[u].where.column != b_http->urls[u].where.column)
                return false;
        return true;
    };
    // Equal settings are usually neighbours: look at the last few only.
    const std::size_t look = std::min<std::size_t>(pool.size(), 8);
    for (std::size_t k = 0; k < look; ++k) {
        const Checker& entry = pool[pool.size() - 1 - k];
        if (entry == checker && same_place(entry, checker))
            return static_cast<std::uint32_t>(pool.size() - 1 - k);
    }
    pool.push_back(std::move(checker));
    return static_cast<std::uint32_t>(pool.size() - 1);
}

/// After a successful load: the blocks of this load, for the next, and the
/// configuration without checkers. Unchanged blocks take their copy and
/// their checkers' pool entries from the previous load.
void remember(ReloadCache& cache, BlockReuse& reuse, LoadResult& result) {
    auto& state = cache.state();
    const auto& servers = result.config->virtual_servers;
    auto kept = std::make_shared<Config>();
    kept->global_defs = result.config->global_defs;
    kept->virtual_server_groups = result.config->virtual_server_groups;
    kept->virtual_servers.reserve(servers.size());
    std::vector<Checker> pool;
    constexpr std::uint32_t kNone = ~std::uint32_t{0};
    std::vector<std::uint32_t> moved(state.pool.size(), kNone);  // old pool -> new
    std::vector<std::vector<BlockReuse::CheckerRef>> refs(servers.size());
    result.unchanged.assign(servers.size(), false);
    for (std::size_t i = 0; i < servers.size(); ++i) {
        const auto& vs = servers[i];
        const std::uint32_t index = i < reuse.block_of_server.size() ? reuse.block_of_server[i] : 0;
        const BlockReuse::Block* block = index == 0 ? nullptr : &reuse.blocks[index - 1];
        if (block != nullptr && block->previous != nullptr) {
            // Unchanged: the old copy has no checkers to copy and free;
            // only where the block is now differs.
            // (A lean result has no real servers to take the lines from.)
            const auto& before = block->previous->second;
            auto& copy = kept->virtual_servers.emplace_back(*before.server);
            copy.where = vs.where;
            const int delta = block->first_line - before.first_line;
            if (delta != 0)
                for (auto& rs : copy.real_servers) rs.where.line += delta;
            refs[i] = before.checkers;
            for (auto& ref : refs[i]) {
                auto& to = moved[ref.pool];
                if (to == kNone) {
                    to = static_cast<std::uint32_t>(pool.size());
                    pool.push_back(state.pool[ref.pool]);
                }
                ref.pool = to;
            }
            continue;
        }
        auto& copy = kept->virtual_servers.emplace_back(vs);
        for (auto& rs : copy.real_servers) std::vector<Checker>().swap(rs.checkers);
        if (block == nullptr) continue;
        for (std::size_t r = 0; r < vs.real_servers.size(); ++r)
            for (const auto& checker : vs.real_servers[r].checkers)
                refs[i].push_back({pooled(pool, checker), static_cast<std::uint32_t>(r),
                                   checker.where.line - block->first_line});
    }
    BlockReuse::PreviousMap next;
    next.reserve(reuse.block_of_server.size());
    for (std::size_t i = 0; i < servers.size() && i < reuse.block_of_server.size(); ++i) {
        const std::uint32_t index = reuse.block_of_server[i];
        if (index == 0) {
            ++result.parsed_servers;
            continue;
        }
        const auto& block = reuse.blocks[index - 1];
        if (block.previous != nullptr) {
            result.unchanged[i] = true;
            ++result.reused_servers;
        } else {
            ++result.parsed_servers;
        }
        // The same text may stand twice in a file: the first one keeps it.
        next.try_emplace(
            block.key, BlockReuse::Previous{block.file, block.first_line, &kept->virtual_servers[i],
                                            std::move(refs[i])});
    }
    result.parsed_servers +=
        servers.size() - std::min(servers.size(), reuse.block_of_server.size());
    state.blocks = std::move(next);
    pool.shrink_to_fit();
    state.pool = std::move(pool);
    if (result.reused_servers > 0) result.unchanged_from = state.config;
    state.config = std::move(kept);
}

ReadOptions read_options(const LoadOptions& options) {
    ReadOptions read;
    read.config_id = options.config_id.empty() ? default_config_id() : options.config_id;
    read.allow_include = options.allow_include;
    return read;
}

template <typename ReadTokens>
LoadResult load(const std::string& name, ReadTokens read_tokens, ReloadCache* cache = nullptr,
                bool lean = false) {
    Diagnostics diagnostics;
    LoadResult result;
    try {
        BlockReuse reuse;
        BlockReuse* reusing = nullptr;
        if (cache != nullptr) {
            reusing = &reuse;
            if (cache->state().config) {
                reuse.previous = &cache->state().blocks;
                reuse.pool = &cache->state().pool;
                reuse.lean = lean;
            }
        }
        // Each stage frees its input: tokens once they are statements, the
        // statements once they are drafts (see build_config).
        auto config = build_config(parse_statements(read_tokens(diagnostics, reusing), diagnostics),
                                   diagnostics, reusing);
        if (!diagnostics.has_errors()) {
            result.config = std::make_shared<const Config>(std::move(config));
            if (cache != nullptr) {
                remember(*cache, reuse, result);
                result.lean = reuse.lean && result.reused_servers > 0;
            }
        }
    } catch (const std::bad_alloc&) {
        diagnostics.error(SourceLocation{name, 1, 1},
                          "out of memory while reading the configuration");
    } catch (const std::exception& e) {
        diagnostics.error(SourceLocation{name, 1, 1}, std::string("internal error: ") + e.what());
    }
    result.diagnostics = diagnostics.take();
    return result;
}

}  // namespace

std::string default_config_id() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) return {};
    std::string host(name);
    return host.substr(0, host.find('.'));
}

LoadResult load_config(const std::filesystem::path& path, const LoadOptions& options) {
    return load(path.string(), [&](Diagnostics& diagnostics, BlockReuse*) {
        return read_tokens_from_file(path, read_options(options), diagnostics);
    });
}

LoadResult load_config(const std::filesystem::path& path, const LoadOptions& options,
                       ReloadCache& cache) {
    return load(
        path.string(),
        [&](Diagnostics& diagnostics, BlockReuse* reuse) {
            auto read = read_options(options);
            read.reuse = reuse;
            return read_tokens_from_file(path, read, diagnostics);
        },
        &cache, options.lean_unchanged);
}

LoadResult parse_config(std::string_view text, const std::string& file_name,
                        const LoadOptions& options) {
    return load(file_name, [&](Diagnostics& diagnostics, BlockReuse*) {
        return read_tokens_from_text(text, file_name, read_options(options), diagnostics);
    });
}

LoadResult parse_config(std::string_view text, const std::string& file_name,
                        const LoadOptions& options, ReloadCache& cache) {
    return load(
        file_name,
        [&](Diagnostics& diagnostics, BlockReuse* reuse) {
            auto read = read_options(options);
            read.reuse = reuse;
            return read_tokens_from_text(text, file_name, read, diagnostics);
        },
        &cache, options.lean_unchanged);
}

}  // namespace ipvsctl::config
