// SPDX-License-Identifier: GPL-2.0-or-later
// Tokens to statements: `keyword args... [{ ... }]`, one statement per line.
#include "config/syntax.hpp"

namespace ipvsctl::config {
namespace {

constexpr int kMaxNesting = 32;

class StatementParser {
  public:
    StatementParser(std::vector<Token>& tokens, Diagnostics& diagnostics)
        : tokens_(tokens), diagnostics_(diagnostics) {}

    std::vector<Statement> parse_all() {
        auto statements = parse_body(nullptr, 0);
        return statements;
    }

  private:
    [[nodiscard]] bool at_end() const { return next_ >= tokens_.size(); }
    [[nodiscard]] Token& peek() const { return tokens_[next_]; }

    /// Statements up to the `}` that closes `open` (or to the end when open is null).
    std::vector<Statement> parse_body(const Token* open, int nesting) {
        std::vector<Statement> body;
        while (!at_end()) {
            const Token& token = peek();
            if (token.is_close()) {
                ++next_;
                if (open != nullptr) return body;
                diagnostics_.error(token.where, "unexpected '}' without a matching '{'");
                continue;
            }
            if (token.is_open()) {
                const bool starts_line = next_ == 0 || tokens_[next_ - 1].line_id != token.line_id;
                ++next_;
                if (!body.empty() && !body.back().has_block && starts_line) {
                    open_block(body.back(), token, nesting);
                    continue;
                }
                diagnostics_.error(token.where, "unexpected '{' without a keyword before it");
                Statement discarded;
                open_block(discarded, token, nesting);
                continue;
            }
            // Tokens are moved out: each is used once, by the statement that holds it.
            const int line_id = token.line_id;
            Statement statement;
            statement.keyword = std::move(peek());
            ++next_;
            while (!at_end() && peek().line_id == line_id && !peek().is_open() &&
                   !peek().is_close()) {
                statement.args.push_back(std::move(peek()));
                ++next_;
            }
            if (!at_end() && peek().line_id == line_id && peek().is_open()) {
                const Token& brace = peek();
                ++next_;
                open_block(statement, brace, nesting);
            } else if (statement.keyword.block != 0) {
                // A reused block: its one token stands for a whole block.
                statement.has_block = true;
            }
            body.push_back(std::move(statement));
        }
        if (open != nullptr) {
            diagnostics_.error(open->where, "this '{' is never closed (missing '}')");
        }
        return body;
    }

    void open_block(Statement& owner, const Token& brace, int nesting) {
        owner.has_block = true;
        owner.block_where = brace.where;
        if (nesting + 1 > kMaxNesting) {
            diagnostics_.error(brace.where,
                               "blocks nested more than " + std::to_string(kMaxNesting) + " deep");
            skip_block();
            return;
        }
        owner.children = parse_body(&brace, nesting + 1);
    }

    /// Skips to the `}` matching an already consumed `{`, without recursion.
    void skip_block() {
        int depth = 1;
        while (!at_end() && depth > 0) {
            if (peek().is_open()) ++depth;
            if (peek().is_close()) --depth;
            ++next_;
        }
    }

    std::vector<Token>& tokens_;
    Diagnostics& diagnostics_;
    std::size_t next_ = 0;
};

}  // namespace

std::vector<Statement> parse_statements(std::vector<Token> tokens, Diagnostics& diagnostics) {
    return StatementParser(tokens, diagnostics).parse_all();
}

}  // namespace ipvsctl::config
