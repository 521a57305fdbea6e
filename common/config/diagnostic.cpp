// SPDX-License-Identifier: GPL-2.0-or-later
#include "config/diagnostic.hpp"

namespace ipvsctl::config {

std::string SourceLocation::to_string() const {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
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
