// SPDX-License-Identifier: GPL-2.0-or-later
// The untyped layer of the configuration language: files, includes,
// conditional lines, parameters, tokens and blocks.
//
//   text --reader--> logical lines --lexer--> tokens --parse_statements--> Statement tree
//
// The reader follows keepalived.conf(5): `#` and `!` start comments outside
// quotes; `include PATTERN` (glob, relative to the including file);
// `@id` / `@^id` conditional lines; `$NAME=value` definitions (multi-line
// with trailing backslashes) substituted as `$NAME` or `${NAME}`.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/diagnostic.hpp"
#include "config/model.hpp"

namespace ipvsctl::config {

struct Token {
    std::string text;
    SourceLocation where;
    bool quoted = false;  ///< some part was inside quotes: never a brace
    int line_id = 0;      ///< logical line the token came from
    /// Keyword of a self-contained top-level block (see BlockReuse): its
    /// 1-based index in BlockReuse::blocks; 0 for every other token.
    std::uint32_t block = 0;

    [[nodiscard]] bool is_open() const { return !quoted && text == "{"; }
    [[nodiscard]] bool is_close() const { return !quoted && text == "}"; }
};

/// `keyword args... [{ children }]`
struct Statement {
    Token keyword;
    std::vector<Token> args;
    bool has_block = false;
    SourceLocation block_where;
    std::vector<Statement> children;
};

/// Reuse of the previous load's parse on reload.
///
/// A top-level `virtual_server` block (not `group`) whose lines contain no
/// `$`, no conditional (`@`) or `~` line and no include means the same
/// whatever surrounds it: its typed result depends on its text alone (and
/// the file it is in, for locations). The reader finds such blocks at brace
/// depth 0; when the previous load built one with exactly the same text and
/// without any diagnostic, the reader skips its lines and emits one keyword
/// token standing for the finished VirtualServer, whose line numbers the
/// builder shifts to where the block is now.
struct BlockReuse {
    /// A block's text as the cache remembers it: a 128-bit hash of it and
    /// its length (the text itself was as large as the file). The hash is
    /// not cryptographic: the file is root's and trusted (see key_of).
    struct Key {
        std::array<std::uint64_t, 2> hash{};
        std::size_t length = 0;
        friend bool operator==(const Key&, const Key&) = default;
    };
    static Key key_of(std::string_view text);
    struct KeyHash {
        std::size_t operator()(const Key& key) const { return key.hash[0]; }
    };
    /// One checker of a cached block: its settings in `pool` (line numbers
    /// there relative to the checker's own line), its real server in the
    /// block and its line relative to the block's first line.
    struct CheckerRef {
        std::uint32_t pool = 0;
        std::uint32_t real_server = 0;
        int line = 0;
    };
    /// A block of the previous load: where it was and what it became.
    /// `server` has no checkers (the daemon's monitor shares that copy);
    /// `checkers` puts them back from the pool of distinct settings.
    struct Previous {
        FileName file;
        int first_line = 0;
        const VirtualServer* server = nullptr;
        std::vector<CheckerRef> checkers;
    };
    using PreviousMap = std::unordered_map<Key, Previous, KeyHash>;

    /// One self-contained block of this load.
    struct Block {
        FileName file;
        int first_line = 0;
        /// Set when reused.
        const PreviousMap::value_type* previous = nullptr;
        Key key;
    };

    const PreviousMap* previous = nullptr;       ///< null: parse everything
    const std::vector<Checker>* pool = nullptr;  ///< with `previous`
    /// A reused block becomes its virtual server without real servers
    /// (LoadOptions::lean_unchanged).
    bool lean = false;
    std::vector<Block> blocks;
    /// Filled by build_config: per virtual server of the result, the block
    /// (1-based) it came from, 0 when it is not reusable next time (not
    /// self-contained, or something was reported about it).
    std::vector<std::uint32_t> block_of_server;
};

struct ReadOptions {
    /// Compared with `@id` conditional lines (keepalived's -i / --config-id).
    std::string config_id;
    /// When false, `include` is an error (the fuzzer must not touch files).
    bool allow_include = true;
    /// Finds self-contained blocks and reuses previous ones (null: off).
    BlockReuse* reuse = nullptr;
};

/// Turns a token stream into statements; unbalanced braces are reported.
/// The tokens are taken: they move into the statements.
std::vector<Statement> parse_statements(std::vector<Token> tokens, Diagnostics& diagnostics);

/// Reads `path` and everything it includes into tokens.
std::vector<Token> read_tokens_from_file(const std::filesystem::path& path,
                                         const ReadOptions& options, Diagnostics& diagnostics);

/// Same for text already in memory; `file_name` names it in diagnostics and
/// anchors relative includes.
std::vector<Token> read_tokens_from_text(std::string_view text, const std::string& file_name,
                                         const ReadOptions& options, Diagnostics& diagnostics);

}  // namespace ipvsctl::config
