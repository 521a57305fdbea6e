// SPDX-License-Identifier: GPL-2.0-or-later
// Log lines on stderr with syslog priority prefixes ("<6>..."), which
// journald turns into priorities.
#pragma once

#include <iostream>
#include <string_view>

namespace ipvsctl::healthcheck {

enum class Priority { err = 3, warning = 4, notice = 5, info = 6, debug = 7 };

inline void log(Priority priority, std::string_view message) {
    std::cerr << '<' << static_cast<int>(priority) << '>' << message << '\n' << std::flush;
}

}  // namespace ipvsctl::healthcheck
