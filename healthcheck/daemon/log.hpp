// SPDX-License-Identifier: GPL-2.0-or-later
// Log lines on stderr with syslog priority prefixes ("<6>..."), which
// journald turns into priorities.
#pragma once

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace ipvsctl::healthcheck {

enum class Priority { err = 3, warning = 4, notice = 5, info = 6, debug = 7 };

inline void log(Priority priority, std::string_view message) {
    std::cerr << '<' << static_cast<int>(priority) << '>' << message << '\n' << std::flush;
}

/// Many lines in one write (a reload may log thousands of operations).
inline void log_lines(Priority priority, const std::vector<std::string>& lines) {
    const std::string prefix = '<' + std::to_string(static_cast<int>(priority)) + '>';
    std::string text;
    for (const auto& line : lines) text.append(prefix).append(line).append(1, '\n');
    std::cerr << text << std::flush;
}

}  // namespace ipvsctl::healthcheck
