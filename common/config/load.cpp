// SPDX-License-Identifier: GPL-2.0-or-later
// The API edge: nothing thrown below escapes from here.
#include <unistd.h>

#include <exception>
#include <new>

#include "config/builder.hpp"
#include "config/config.hpp"

namespace ipvsctl::config {
namespace {

ReadOptions read_options(const LoadOptions& options) {
    ReadOptions read;
    read.config_id = options.config_id.empty() ? default_config_id() : options.config_id;
    read.allow_include = options.allow_include;
    return read;
}

template <typename ReadTokens>
LoadResult load(const std::string& name, ReadTokens read_tokens) {
    Diagnostics diagnostics;
    LoadResult result;
    try {
        // Each stage frees its input: tokens once they are statements, the
        // statements once they are drafts (see build_config).
        auto config =
            build_config(parse_statements(read_tokens(diagnostics), diagnostics), diagnostics);
        if (!diagnostics.has_errors()) {
            result.config = std::make_shared<const Config>(std::move(config));
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
    return load(path.string(), [&](Diagnostics& diagnostics) {
        return read_tokens_from_file(path, read_options(options), diagnostics);
    });
}

LoadResult parse_config(std::string_view text, const std::string& file_name,
                        const LoadOptions& options) {
    return load(file_name, [&](Diagnostics& diagnostics) {
        return read_tokens_from_text(text, file_name, read_options(options), diagnostics);
    });
}

}  // namespace ipvsctl::config
