// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers for tests that run inside the QEMU guest against the real kernel.
#pragma once

#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace guest {

struct CommandResult {
    int status = -1;
    std::string output;  ///< stdout and stderr together
};

/// Runs a shell command and captures its output and exit status.
inline CommandResult run(const std::string& command) {
    CommandResult result;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
    const int status = ::pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

/// True when the running kernel can load the IPVS module ip_vs_<name>.
inline bool kernel_has_scheduler(const std::string& name) {
    utsname uts{};
    ::uname(&uts);
    const std::string dir =
        std::string("/lib/modules/") + uts.release + "/kernel/net/netfilter/ipvs/";
    struct stat st {};
    for (const char* suffix : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"})
        if (::stat((dir + "ip_vs_" + name + suffix).c_str(), &st) == 0) return true;
    return ::stat(("/sys/module/ip_vs_" + name).c_str(), &st) == 0;
}

inline std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

inline std::vector<std::string> split_words(const std::string& line) {
    std::vector<std::string> words;
    std::istringstream in(line);
    for (std::string word; in >> word;) words.push_back(word);
    return words;
}

}  // namespace guest
