// SPDX-License-Identifier: GPL-2.0-or-later
#include "restore.hpp"

#include <algorithm>

#include "ipvsctl/plan.hpp"

namespace ipvsctl::cli {

std::string line_prefix(std::size_t line) {
    return line == 0 ? std::string() : "line " + std::to_string(line) + ": ";
}

std::optional<Operation> operation_for(const CompatRequest& request) {
    const ServiceKey& key = request.service.key;
    switch (request.command) {
        case CompatCommand::AddService:
            return Operation::add_service(request.service);
        case CompatCommand::EditService:
            return Operation::edit_service(request.service);
        case CompatCommand::DeleteService:
            return Operation::delete_service(key);
        case CompatCommand::AddServer:
            return Operation::add_destination(key, request.destination);
        case CompatCommand::EditServer:
            return Operation::edit_destination(key, request.destination);
        case CompatCommand::DeleteServer:
            return Operation::delete_destination(key, request.destination);
        case CompatCommand::Flush:
            return Operation::flush();
        case CompatCommand::Zero:
            if (request.has(OptionClass::Service)) return Operation::zero(key);
            return Operation::zero_all();
        case CompatCommand::SetTimeouts:
            return Operation::set_timeouts(request.timeouts);
        case CompatCommand::StartDaemon:
            return Operation::start_daemon(request.daemon);
        case CompatCommand::StopDaemon:
            return Operation::stop_daemon(request.daemon.state);
        default:
            return std::nullopt;
    }
}

void split_restore_line(std::string_view line, std::vector<std::string>& words) {
    std::size_t count = 0;  // words[count] is the word being built
    const auto word = [&]() -> std::string& {
        if (count == words.size()) words.emplace_back();
        return words[count];
    };
    bool in_word = false;
    char quote = 0;
    for (char c : line) {
        if (quote != 0) {
            if (c == quote)
                quote = 0;
            else
                word() += c;
            continue;
        }
        if (c == '"' || c == '\'') {
            if (!in_word) word().clear();
            quote = c;
            in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (in_word) ++count;
            in_word = false;
        } else {
            if (!in_word) word().clear();
            word() += c;
            in_word = true;
        }
    }
    if (in_word) ++count;
    words.resize(count);
}

std::vector<std::string> split_restore_line(std::string_view line) {
    std::vector<std::string> words;
    split_restore_line(line, words);
    return words;
}

std::variant<RestoreSteps, RestoreProblem> parse_restore(std::string_view text,
                                                         const NameLookup& names) {
    RestoreSteps steps;
    // One step a line at most: no reallocation (each operation is a few hundred bytes).
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    steps.operations.reserve(lines);
    steps.origins.reserve(lines);
    std::vector<std::string> words;  // reused: no allocation per line
    std::size_t line_number = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++line_number;
        split_restore_line(line, words);
        if (words.empty() || words[0][0] == '#') continue;
        auto parsed = parse_compat(words, "ipvsctl", names);
        if (auto* exit = std::get_if<CompatExit>(&parsed)) {
            std::string message = exit->message;
            while (!message.empty() && message.back() == '\n') message.pop_back();
            return RestoreProblem{2, line_prefix(line_number) + message};
        }
        const auto& request = std::get<CompatRequest>(parsed);
        auto operation = operation_for(request);
        if (!operation)
            return RestoreProblem{
                2, line_prefix(line_number) + "this command cannot be part of a restore"};
        steps.operations.push_back(std::move(*operation));
        steps.origins.push_back(StepOrigin{line_number, request.command});
    }
    return steps;
}

std::optional<RestoreProblem> validate_restore(const RestoreSteps& steps, const Table& current) {
    TableModel model(current);
    for (std::size_t i = 0; i < steps.size(); ++i) {
        auto applied = model.apply(steps.operations[i]);
        if (!applied)
            return RestoreProblem{
                255, line_prefix(steps.origins[i].line) +
                         kernel_error_text(steps.origins[i].command, applied.error().errnum)};
    }
    return std::nullopt;
}

RestoreSteps steps_adding(const Table& table) {
    RestoreSteps steps;
    for (const auto& entry : table.services) {
        steps.operations.push_back(Operation::add_service(entry.service));
        steps.origins.push_back(StepOrigin{0, CompatCommand::AddService});
        for (const auto& d : entry.destinations) {
            steps.operations.push_back(Operation::add_destination(entry.service.key, d));
            steps.origins.push_back(StepOrigin{0, CompatCommand::AddServer});
        }
    }
    return steps;
}

}  // namespace ipvsctl::cli
