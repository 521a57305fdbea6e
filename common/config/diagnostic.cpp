// SPDX-License-Identifier: GPL-2.0-or-later
#include "config/diagnostic.hpp"

#include <mutex>
#include <set>

namespace ipvsctl::config {

const std::string& FileName::intern(std::string_view name) {
    static std::mutex guard;
    static std::set<std::string, std::less<>> names;
    const std::lock_guard lock(guard);
    auto found = names.find(name);
    if (found == names.end()) found = names.emplace(name).first;
    return *found;
}

std::string SourceLocation::to_string() const {
    return file.str() + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Diagnostic::to_string() const {
    std::string text = where.to_string() + ": ";
    if (severity == Severity::warning) text += "warning: ";
    return text + message;
}

void Diagnostics::error(const SourceLocation& where, std::string message) {
    ++error_count_;
    if (error_count_ > kMaxErrors) return;
    if (error_count_ == kMaxErrors) message = "too many errors, stopping here";
    items_.push_back({Severity::error, where, std::move(message)});
}

void Diagnostics::warning(const SourceLocation& where, std::string message) {
    if (items_.size() >= 4 * kMaxErrors) return;
    items_.push_back({Severity::warning, where, std::move(message)});
}

}  // namespace ipvsctl::config
