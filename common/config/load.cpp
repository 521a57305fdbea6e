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
    std::shared_ptr<const Config> config;
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

namespace {

/// After a successful load: the blocks of this load, for the next. Texts of
/// reused blocks move over from the previous map; new ones were copied by
/// the reader.
void remember(ReloadCache& cache, BlockReuse& reuse, LoadResult& result) {
    auto& state = cache.state();
    BlockReuse::PreviousMap next;
    next.reserve(reuse.block_of_server.size());
    const auto& servers = result.config->virtual_servers;
    result.unchanged.assign(servers.size(), false);
    for (std::size_t i = 0; i < servers.size() && i < reuse.block_of_server.size(); ++i) {
        const std::uint32_t index = reuse.block_of_server[i];
        if (index == 0) {
            ++result.parsed_servers;
            continue;
        }
        auto& block = reuse.blocks[index - 1];
        BlockReuse::Previous previous{block.file, block.first_line, &servers[i]};
        if (block.previous != nullptr) {
            result.unchanged[i] = true;
            ++result.reused_servers;
            // The same text may stand twice in a file: the first one keeps it.
            auto node = state.blocks.extract(block.previous->first);
            if (!node.empty()) {
                node.mapped() = previous;
                next.insert(std::move(node));
            }
        } else {
            ++result.parsed_servers;
            next.try_emplace(std::move(block.text), previous);
        }
    }
    result.parsed_servers +=
        servers.size() - std::min(servers.size(), reuse.block_of_server.size());
    state.blocks = std::move(next);
    state.config = result.config;
}

ReadOptions read_options(const LoadOptions& options) {
    ReadOptions read;
    read.config_id = options.config_id.empty() ? default_config_id() : options.config_id;
    read.allow_include = options.allow_include;
    return read;
}

template <typename ReadTokens>
LoadResult load(const std::string& name, ReadTokens read_tokens, ReloadCache* cache = nullptr) {
    Diagnostics diagnostics;
    LoadResult result;
    try {
        BlockReuse reuse;
        BlockReuse* reusing = nullptr;
        if (cache != nullptr) {
            reusing = &reuse;
            if (cache->state().config) reuse.previous = &cache->state().blocks;
        }
        // Each stage frees its input: tokens once they are statements, the
        // statements once they are drafts (see build_config).
        auto config = build_config(parse_statements(read_tokens(diagnostics, reusing), diagnostics),
                                   diagnostics, reusing);
        if (!diagnostics.has_errors()) {
            result.config = std::make_shared<const Config>(std::move(config));
            if (cache != nullptr) remember(*cache, reuse, result);
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
        &cache);
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
        &cache);
}

}  // namespace ipvsctl::config
