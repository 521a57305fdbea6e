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

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.hpp"

namespace ipvsctl::config {

struct Token {
    std::string text;
    SourceLocation where;
    bool quoted = false;  ///< some part was inside quotes: never a brace
    int line_id = 0;      ///< logical line the token came from

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

struct ReadOptions {
    /// Compared with `@id` conditional lines (keepalived's -i / --config-id).
    std::string config_id;
    /// When false, `include` is an error (the fuzzer must not touch files).
    bool allow_include = true;
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
