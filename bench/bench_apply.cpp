// SPDX-License-Identifier: GPL-2.0-or-later
// The user-space half of `ipvsctl apply`, on the host (no IPVS needed).
//   bench_apply doc SERVICES DESTS > current.json
//       the document `ipvsctl -S -n --json` prints for `bench_batch gen
//       SERVICES DESTS` restored (bench/cli.sh makes desired.json from it)
//   bench_apply run CURRENT.json DESIRED.json [ROUNDS]
//       reads DESIRED as `apply` does (mapped, read_document_json), CURRENT as
//       a stand-in for the kernel's table, plans and prints the plan to a
//       string; prints the first (cold: fresh pages, as in a real run) and
//       the best CPU time of each phase over ROUNDS.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "ipvsctl/ipvsctl.hpp"
#include "json_document.hpp"

using namespace ipvsctl;
using namespace ipvsctl::cli;

namespace {

/// CPU time of this thread: the host is shared, wall time would mostly
/// measure the other users.
long faults() {
    rusage usage{};
    ::getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_minflt + usage.ru_majflt;
}

double cpu_ms() {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

std::string_view map_file(const char* path) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    struct stat info {};
    if (fd < 0 || ::fstat(fd, &info) != 0 || info.st_size == 0) {
        std::fprintf(stderr, "bench_apply: cannot read %s\n", path);
        std::exit(1);
    }
    const auto size = static_cast<std::size_t>(info.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) {
        std::fprintf(stderr, "bench_apply: cannot map %s\n", path);
        std::exit(1);
    }
    return {static_cast<const char*>(map), size};
}

template <typename T>
T read_or_exit(std::string_view text, const char* what) {
    auto read = [&] {
        if constexpr (std::is_same_v<T, Table>)
            return read_table_json(text);
        else
            return read_document_json(text);
    }();
    if (auto* table = std::get_if<T>(&read)) return std::move(*table);
    if (auto* problem = std::get_if<JsonProblem>(&read))
        std::fprintf(stderr, "bench_apply: %s: %s\n", what, problem->message().c_str());
    else
        std::fprintf(stderr, "bench_apply: %s: %s\n", what,
                     std::get<JsonSyntaxError>(read).what.c_str());
    std::exit(1);
}

int document(std::uint32_t services, std::uint32_t dests) {
    Table table;
    for (std::uint32_t i = 0; i < services; ++i) {
        ServiceEntry entry;
        entry.service.key = ServiceKey::tcp(Address::v4(0x0a000001u + i), 80);
        entry.service.scheduler = "wrr";
        for (std::uint32_t j = 0; j < dests; ++j) {
            Destination d;
            d.address = Address::v4(0xac100000u + i * 16 + j + 1);
            d.port = 8080;
            d.method = ForwardMethod::Masquerade;
            d.weight = static_cast<std::int32_t>(j + 1);
            entry.destinations.push_back(d);
        }
        table.services.push_back(std::move(entry));
    }
    const std::string text = table_to_json(table, JsonOptions{.counters = false}).dump(2) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "doc" && argc == 4)
        return document(static_cast<std::uint32_t>(std::atoi(argv[2])),
                        static_cast<std::uint32_t>(std::atoi(argv[3])));
    if (mode != "run" || argc < 4) {
        std::fprintf(stderr,
                     "usage: bench_apply doc SERVICES DESTS | run CURRENT DESIRED [ROUNDS]\n");
        return 2;
    }
    const int rounds = argc > 4 ? std::atoi(argv[4]) : 5;
    const std::string_view desired_text = map_file(argv[3]);
    const std::string_view current_text = map_file(argv[2]);
    double first[4] = {}, best[4] = {1e9, 1e9, 1e9, 1e9};
    long first_faults[4] = {};
    std::size_t operations = 0;
    for (int round = 0; round < rounds; ++round) {
        double ms[4];
        long f[5];
        f[0] = faults();
        double start = cpu_ms();
        const DocumentTable desired = read_or_exit<DocumentTable>(desired_text, argv[3]);
        ms[0] = cpu_ms() - start;
        f[1] = faults();
        start = cpu_ms();
        const Table current = read_or_exit<Table>(current_text, argv[2]);
        ms[1] = cpu_ms() - start;
        f[2] = faults();
        start = cpu_ms();
        const Plan plan = plan_document(current, desired, PlanOptions{.prune = true});
        ms[2] = cpu_ms() - start;
        f[3] = faults();
        start = cpu_ms();
        std::string printed;
        for (const auto& op : plan.operations) printed += op.describe() + "\n";
        ms[3] = cpu_ms() - start;
        f[4] = faults();
        operations = plan.operations.size();
        if (round == 0) {  // the same plan as the library's planner makes
            const Plan reference =
                make_plan(current, desired.to_table(), PlanOptions{.prune = true});
            std::string expected;
            for (const auto& op : reference.operations) expected += op.describe() + "\n";
            if (expected != printed) {
                std::fprintf(stderr, "bench_apply: plan_document differs from make_plan\n");
                return 1;
            }
        }
        for (int i = 0; i < 4; ++i) {
            if (round == 0) first[i] = ms[i];
            if (round == 0) first_faults[i] = f[i + 1] - f[i];
            best[i] = std::min(best[i], ms[i]);
        }
    }
    std::printf(
        "apply: %zu operations; first/best of %d: read desired %.1f/%.1f ms, read current "
        "%.1f/%.1f ms, plan %.1f/%.1f ms, print %.1f/%.1f ms\n",
        operations, rounds, first[0], best[0], first[1], best[1], first[2], best[2], first[3],
        best[3]);
    std::printf(
        "  page faults, first round: read desired %ld, read current %ld, plan %ld, print %ld\n",
        first_faults[0], first_faults[1], first_faults[2], first_faults[3]);
    return 0;
}
