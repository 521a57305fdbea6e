// SPDX-License-Identifier: GPL-2.0-or-later
// Arbitrary bytes as an `ipvsctl -R` text: the fast line parser must agree
// with parse_compat. The whole text parses to the same steps (or the same
// first problem) both ways, and every line the fast path takes is one
// parse_compat makes the same operation of.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "restore.hpp"

using namespace ipvsctl;
using namespace ipvsctl::cli;

namespace {

void same_or_abort(const std::variant<RestoreSteps, RestoreProblem>& a,
                   const std::variant<RestoreSteps, RestoreProblem>& b) {
    if (a.index() != b.index()) std::abort();
    if (const auto* problem = std::get_if<RestoreProblem>(&a)) {
        const auto& other = std::get<RestoreProblem>(b);
        if (problem->status != other.status || problem->message != other.message) std::abort();
        return;
    }
    const auto& x = std::get<RestoreSteps>(a);
    const auto& y = std::get<RestoreSteps>(b);
    if (x.size() != y.size()) std::abort();
    for (std::size_t i = 0; i < x.size(); ++i)
        if (!identical(x.operations[i], y.operations[i]) ||
            x.origins[i].line != y.origins[i].line || x.origins[i].command != y.origins[i].command)
            std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    static const NameLookup names = numeric_names();
    same_or_abort(parse_restore(text, names, RestoreParser::General),
                  parse_restore(text, names, RestoreParser::Fast));
    // Line by line too: the whole-text parse stops at the first bad line.
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        Operation fast;
        CompatCommand command = CompatCommand::None;
        if (!parse_restore_line_fast(line, fast, command)) continue;
        const auto general = parse_restore(line, names, RestoreParser::General);
        const auto* steps = std::get_if<RestoreSteps>(&general);
        if (steps == nullptr || steps->size() != 1 || !identical(fast, steps->operations[0]) ||
            steps->origins[0].command != command)
            std::abort();
    }
    return 0;
}
