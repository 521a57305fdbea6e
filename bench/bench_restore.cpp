// SPDX-License-Identifier: GPL-2.0-or-later
// The user-space half of `ipvsctl -R`, on the host (no IPVS needed): parse
// the text of SERVICES x DESTS (as `bench_batch gen` prints it), validate it
// against an empty table, and encode every operation as the batch does.
//   bench_restore [SERVICES] [DESTS] [ROUNDS] [fast|general]
// Prints the best time of each phase over ROUNDS; for `perf record` on the
// host (see bench/README.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ipvsctl/ipvsctl.hpp"
#include "restore.hpp"
#include "wire.hpp"

using namespace ipvsctl;
using namespace ipvsctl::cli;

namespace {

std::string generate(std::uint32_t services, std::uint32_t dests) {
    std::string text;
    char line[160];
    for (std::uint32_t i = 0; i < services; ++i) {
        const std::string vip = Address::v4(0x0a000001u + i).to_string();
        std::snprintf(line, sizeof(line), "-A -t %s:80 -s wrr\n", vip.c_str());
        text += line;
        for (std::uint32_t j = 0; j < dests; ++j) {
            const std::string rip = Address::v4(0xac100000u + i * 16 + j + 1).to_string();
            std::snprintf(line, sizeof(line), "-a -t %s:80 -r %s:8080 -m -w %u\n", vip.c_str(),
                          rip.c_str(), j + 1);
            text += line;
        }
    }
    return text;
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

}  // namespace

int main(int argc, char** argv) {
    const auto services = argc > 1 ? static_cast<std::uint32_t>(std::atoi(argv[1])) : 10000;
    const auto dests = argc > 2 ? static_cast<std::uint32_t>(std::atoi(argv[2])) : 4;
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
    const RestoreParser parser = argc > 4 && std::string(argv[4]) == "general"
                                     ? RestoreParser::General
                                     : RestoreParser::Fast;
    const std::string text = generate(services, dests);
    const NameLookup names = numeric_names();
    double parse_ms = 1e9, validate_ms = 1e9, encode_ms = 1e9;
    std::size_t bytes = 0;
    for (int round = 0; round < rounds; ++round) {
        auto start = std::chrono::steady_clock::now();
        auto parsed = parse_restore(text, names, parser);
        parse_ms = std::min(parse_ms, ms_since(start));
        const auto* steps = std::get_if<RestoreSteps>(&parsed);
        if (steps == nullptr) {
            std::fprintf(stderr, "%s\n", std::get<RestoreProblem>(parsed).message.c_str());
            return 1;
        }
        start = std::chrono::steady_clock::now();
        if (auto problem = validate_restore(*steps, Table{})) {
            std::fprintf(stderr, "%s\n", problem->message.c_str());
            return 1;
        }
        validate_ms = std::min(validate_ms, ms_since(start));
        start = std::chrono::steady_clock::now();
        wire::Bytes out;
        for (std::size_t i = 0; i < steps->size(); ++i) {
            if ((i & 255) == 0) {
                bytes += out.size();
                out.clear();
            }
            (void)wire::append_operation(out, 30, static_cast<std::uint32_t>(i),
                                         steps->operations[i], (i & 255) == 255);
        }
        encode_ms = std::min(encode_ms, ms_since(start));
    }
    std::printf(
        "restore %ux%u (%zu lines): parse %.1f ms, validate %.1f ms, encode %.1f ms (%zu bytes)\n",
        services, dests, static_cast<std::size_t>(services) * (dests + 1), parse_ms, validate_ms,
        encode_ms, bytes / static_cast<std::size_t>(rounds));
    return 0;
}
