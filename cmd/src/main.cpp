// SPDX-License-Identifier: GPL-2.0-or-later
// ipvsctl: ipvsadm's command line, byte for byte, plus JSON, declarative
// apply/diff, atomic restore and drain. Exceptions stop here, at the edge.
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

#include "compat_parser.hpp"
#include "control_client.hpp"
#include "ipvsctl/ipvsctl.hpp"
#include "json_document.hpp"
#include "listing.hpp"
#include "realserver.hpp"
#include "restore.hpp"

namespace ipvsctl::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;  // new commands: kernel refused
constexpr int kExitUsage = 2;    // new commands: bad usage or input

void write(std::FILE* stream, const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stream);
}

std::optional<Client> open_client(const std::string& netns, std::string& problem) {
    ClientOptions options;
    options.netns = netns;
    auto client = Client::open(options);
    if (!client) {
        problem = client.error().message();
        return std::nullopt;
    }
    return std::move(*client);
}

/// ipvsadm's message when IPVS cannot be reached.
int cannot_initialize(const std::string& problem) {
    write(stderr,
          "Can't initialize ipvs: " + problem +
              "\nAre you sure that IP Virtual Server is built in the kernel or as module?\n");
    return 2;
}

std::string read_all(std::istream& in) {
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// A file descriptor's whole content in large read()s: through std::cin
/// (synchronised with stdio) a 10,000-line restore cost a library call per
/// character, and an istreambuf_iterator copy of a JSON document one call
/// per byte too.
bool read_fd(int fd, std::string& text) {
    std::size_t used = 0;
    text.resize(1 << 16);
    while (true) {
        if (used == text.size()) text.resize(text.size() * 2);
        const auto n = ::read(fd, text.data() + used, text.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    text.resize(used);
    return true;
}

/// The whole contents of a file descriptor. A regular file is mapped, not
/// copied: a multi-megabyte document or restore file then costs no copy and
/// no freshly zeroed pages (a large share of a run in an emulated guest).
class InputText {
  public:
    InputText() = default;
    InputText(const InputText&) = delete;
    InputText& operator=(const InputText&) = delete;
    ~InputText() {
        if (mapped_ != nullptr) ::munmap(mapped_, mapped_size_);
    }

    /// False on a read error (what was read so far stays).
    bool read(int fd) {
        struct stat info {};
        if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
            const off_t offset = ::lseek(fd, 0, SEEK_CUR);  // stdin may be partly read
            const auto size = static_cast<std::size_t>(info.st_size);
            if (offset >= 0 && static_cast<std::size_t>(offset) < size) {
                void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
                if (map != MAP_FAILED) {
                    mapped_ = map;
                    mapped_size_ = size;
                    view_ = std::string_view(static_cast<const char*>(map), size)
                                .substr(static_cast<std::size_t>(offset));
                    return true;
                }
            }
        }
        const bool ok = read_fd(fd, copy_);
        view_ = copy_;
        return ok;
    }
    [[nodiscard]] std::string_view text() const { return view_; }

  private:
    void* mapped_ = nullptr;
    std::size_t mapped_size_ = 0;
    std::string copy_;
    std::string_view view_;
};

/// /proc/net/ip_vs_conn of the namespace we run in (or of `netns`).
std::optional<std::string> read_connection_table(const std::string& netns) {
    if (!netns.empty()) {
        const std::string path = netns[0] == '/' ? netns : "/run/netns/" + netns;
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
            if (fd >= 0) ::close(fd);
            return std::nullopt;
        }
        ::close(fd);
    }
    std::ifstream in("/proc/net/ip_vs_conn");
    if (!in) return std::nullopt;
    return read_all(in);
}

void print_json(const nlohmann::json& document) {
    write(stdout, document.dump(2) + "\n");
}

int kernel_refusal(CompatCommand command, const Error& error, int status = 255) {
    write(stderr, kernel_error_text(command, error.errnum) + "\n");
    return status;
}

/// When main() was entered, for PhaseTimer's account of the start-up.
std::chrono::steady_clock::time_point main_entered;

/// Milliseconds from the process's start (exec) to now, from
/// /proc/self/stat's start time (clock ticks since boot) and CLOCK_BOOTTIME;
/// negative when that cannot be read.
double ms_since_exec() {
    std::FILE* stat = std::fopen("/proc/self/stat", "r");
    if (stat == nullptr) return -1;
    char text[1024];
    const std::size_t n = std::fread(text, 1, sizeof(text) - 1, stat);
    std::fclose(stat);
    text[n] = '\0';
    // Field 22; the command name (field 2) ends at the last ')'.
    const char* field = std::strrchr(text, ')');
    for (int i = 2; field != nullptr && i < 22; ++i) field = std::strchr(field + 1, ' ');
    if (field == nullptr) return -1;
    const double start_ms =
        std::strtod(field + 1, nullptr) * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
    timespec now{};
    ::clock_gettime(CLOCK_BOOTTIME, &now);
    return static_cast<double>(now.tv_sec) * 1000.0 + static_cast<double>(now.tv_nsec) / 1e6 -
           start_ms;
}

/// With IPVSCTL_TIMING set, prints how long each phase of a command took to
/// stderr, to find where the time goes without a profiler.
class PhaseTimer {
  public:
    PhaseTimer() : enabled_(std::getenv("IPVSCTL_TIMING") != nullptr) {
        if (!enabled_) return;
        // The start-up before the command: exec, loading, static
        // initialisation, option parsing (exec time has clock-tick
        // resolution, 10 ms).
        std::fprintf(stderr, "ipvsctl: (exec to now %.0f ms; main to now %.3f ms)\n",
                     ms_since_exec(),
                     std::chrono::duration<double, std::milli>(last_ - main_entered).count());
    }
    void mark(const char* phase) {
        if (!enabled_) return;
        const auto now = std::chrono::steady_clock::now();
        std::fprintf(stderr, "ipvsctl: %-12s %8.3f ms\n", phase,
                     std::chrono::duration<double, std::milli>(now - last_).count());
        last_ = now;
    }

    /// A duration measured elsewhere (another thread's).
    void note(const char* what, double ms) const {
        if (enabled_) std::fprintf(stderr, "ipvsctl: (%s %.3f ms)\n", what, ms);
    }
    void note(const std::string& what) const {
        if (enabled_) std::fprintf(stderr, "ipvsctl: (%s)\n", what.c_str());
    }

  private:
    bool enabled_;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

/// Ends the process without destroying the two tables of an apply or the
/// steps of a restore (100,000 objects at 10,000 services, a noticeable share of a run in an
/// emulated guest); the kernel reclaims the memory and the sockets at once.
[[noreturn]] void exit_without_teardown(int status) {
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(status);
}

/// Runs a batch of restore steps; on a refusal puts the table back.
int run_restore_steps(Client& client, const RestoreSteps& steps, const Table& before) {
    const std::vector<Operation>& operations = steps.operations;
    auto report = client.execute_batch(operations);
    if (!report) {
        write(stderr, report.error().message() + "\n");
        return 255;
    }
    if (report->ok()) return 0;
    const std::size_t failed = *report->first_failure();
    const int errnum = report->status[failed];
    std::string message = line_prefix(steps.origins[failed].line) +
                          kernel_error_text(steps.origins[failed].command, errnum);
    if (steps.origins[failed].line == 0) message = operations[failed].describe() + ": " + message;
    auto now = client.table();
    if (!now) {
        write(stderr, message + "; rollback failed: " + now.error().message() + "\n");
        return 255;
    }
    const Plan undo = make_plan(*now, before, PlanOptions{.prune = true});
    BatchOptions keep_going;
    keep_going.stop_on_error = false;
    auto undone = client.execute_batch(undo.operations, keep_going);
    if (!undone || !undone->ok())
        message += "; rollback failed, the table is partly restored";
    else
        message += "; nothing was changed (rolled back " + std::to_string(report->succeeded()) +
                   " operations)";
    write(stderr, message + "\n");
    return 255;
}

int compat_restore(Client& client, const CompatRequest& request) {
    PhaseTimer timer;
    InputText stdin_text;
    (void)stdin_text.read(STDIN_FILENO);  // a read error ends the input, as end of file does
    const std::string_view input = stdin_text.text();
    timer.mark("read input");
    auto before = client.table();
    if (!before) {
        write(stderr, before.error().message() + "\n");
        return 255;
    }
    timer.mark("read kernel");
    RestoreSteps steps;
    if (request.json) {
        auto table = read_table_json(input);
        if (auto* syntax = std::get_if<JsonSyntaxError>(&table)) {
            write(stderr, "invalid JSON on stdin: " + syntax->what + "\n");
            return 2;
        }
        if (auto* problem = std::get_if<JsonProblem>(&table)) {
            write(stderr, problem->message() + "\n");
            return 2;
        }
        steps = steps_adding(std::get<Table>(table));
    } else {
        auto parsed = parse_restore(input, system_names());
        if (auto* problem = std::get_if<RestoreProblem>(&parsed)) {
            write(stderr, problem->message + "\n");
            return problem->status;
        }
        steps = std::move(std::get<RestoreSteps>(parsed));
    }
    timer.mark("parse");
    if (auto problem = validate_restore(steps, *before)) {
        write(stderr, problem->message + "\n");
        return problem->status;
    }
    timer.mark("validate");
    const int status = run_restore_steps(client, steps, *before);
    timer.mark("batch");
    exit_without_teardown(status);
}

int compat_list(Client& client, const CompatRequest& request, const NameLookup& names) {
    const ListFormat& format = request.format;
    if (request.has(OptionClass::Connection)) {
        const auto text = read_connection_table(request.netns);
        if (!text) {
            write(stderr, "cannot open file /proc/net/ip_vs_conn\n");
            return 1;
        }
        if (request.json)
            print_json({{"connections", connections_to_json(parse_connections(*text))}});
        else
            write(stdout, format_connections(*text, format, names));
        return 0;
    }
    if (request.has(OptionClass::Service)) {
        auto service = client.service(request.service.key);
        if (!service) return kernel_refusal(CompatCommand::List, service.error(), 1);
        auto destinations = client.destinations(request.service.key);
        if (!destinations) return kernel_refusal(CompatCommand::List, destinations.error(), 1);
        ServiceEntry entry{*service, *destinations};
        if (request.json) {
            Table one;
            one.services.push_back(entry);
            print_json(table_to_json(sorted_like_ipvsadm(one, format), JsonOptions{}));
        } else {
            write(stdout, format_one_service(entry, format, names));
        }
        return 0;
    }
    if (request.has(OptionClass::Timeout)) {
        auto timeouts = client.timeouts();
        if (!timeouts) return kernel_refusal(CompatCommand::List, timeouts.error(), 1);
        if (request.json)
            print_json({{"timeouts", timeouts_to_json(*timeouts)}});
        else
            write(stdout, format_timeouts(*timeouts));
        return 0;
    }
    if (request.has(OptionClass::Daemon)) {
        auto daemons = client.daemons();
        if (!daemons) return kernel_refusal(CompatCommand::List, daemons.error(), 1);
        if (request.json)
            print_json({{"daemons", daemons_to_json(*daemons)}});
        else
            write(stdout, format_daemons(*daemons));
        return 0;
    }
    // Plain listings and saves need only what /proc/net/ip_vs holds, read at
    // once instead of one netlink dump per service.
    const bool needs_full_detail = request.json || format.stats || format.rate ||
                                   format.thresholds || format.persistent_conn || format.tun_info;
    auto info = client.info();
    auto table = client.table(needs_full_detail ? TableDetail::Full : TableDetail::Basic);
    if (!info || !table) {
        write(stderr, (info ? table.error() : info.error()).message() + "\n");
        return 1;
    }
    if (request.json) {
        auto document = table_to_json(sorted_like_ipvsadm(*table, format),
                                      JsonOptions{.counters = !format.rule});
        if (!format.rule) {
            document["version"] = info->version_string();
            document["conn_table_size"] = info->conn_table_size;
        }
        print_json(document);
    } else {
        write(stdout, format_table(*info, *table, format, names));
    }
    return 0;
}

int run_compat(const std::vector<std::string>& args, const std::string& program) {
    const NameLookup names = system_names();
    CompatRequest request;
    if (args.empty()) {
        request.command = CompatCommand::List;
    } else {
        auto parsed = parse_compat(args, program, names);
        if (auto* exit = std::get_if<CompatExit>(&parsed)) {
            write(stderr, exit->message);
            return exit->status;
        }
        request = std::get<CompatRequest>(parsed);
    }
    if (request.command == CompatCommand::Help) {
        write(stdout, usage_text(program));
        return 0;
    }
    if (request.command == CompatCommand::Version) {
        write(stdout,
              std::string("ipvsctl ") + library_version() + " (ipvsadm v1.31 compatible)\n");
        return 0;
    }
    std::string problem;
    auto client = open_client(request.netns, problem);
    if (!client) return cannot_initialize(problem);

    switch (request.command) {
        case CompatCommand::List:
            return compat_list(*client, request, names);
        case CompatCommand::Save: {
            CompatRequest save = request;
            save.format.rule = true;
            return compat_list(*client, save, names);
        }
        case CompatCommand::Restore:
            return compat_restore(*client, request);
        default:
            break;
    }
    const auto operation = operation_for(request);
    if (!operation) return 2;
    auto done = client->execute(*operation);
    if (!done) return kernel_refusal(request.command, done.error());
    return 0;
}

// ---- new commands -------------------------------------------------------

/// Reads a JSON document from FILE ("-" for stdin) into a table.
std::variant<DocumentTable, std::string> read_document(const std::string& file, PhaseTimer& timer) {
    InputText text;
    if (file == "-") {
        (void)text.read(STDIN_FILENO);
    } else {
        const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return "cannot read '" + file + "'";
        const bool read = text.read(fd);
        ::close(fd);
        if (!read) return "cannot read '" + file + "'";
    }
    timer.mark("read file");
    auto table = read_document_json(text.text());
    timer.mark("read JSON");
    if (auto* syntax = std::get_if<JsonSyntaxError>(&table))
        return file + ": invalid JSON: " + syntax->what;
    if (auto* problem = std::get_if<JsonProblem>(&table)) return file + ": " + problem->message();
    return std::move(std::get<DocumentTable>(table));
}

/// The plan as printed: one line per operation.
std::string plan_text(const Plan& plan) {
    if (plan.empty()) return "no changes\n";
    std::string text;
    text.reserve(plan.operations.size() * 96);
    for (const auto& op : plan.operations) {
        text += op.describe();
        text += '\n';
    }
    return text;
}

/// Reads the kernel's table for apply and diff on a second thread, in two
/// halves (Client::ipv4_settings_table, then the netlink dump that rules out
/// IPv6 services and persistence engines), so that the caller parses its
/// document meanwhile and plans from the first half while the kernel walks
/// the second. main() starts it before the options are parsed.
/// Client::open enters and leaves the namespace on the thread that calls it.
class TableReader {
  public:
    explicit TableReader(std::string netns)
        : netns_(std::move(netns)), thread_([this] { read(); }) {}
    TableReader(const TableReader&) = delete;
    TableReader& operator=(const TableReader&) = delete;
    ~TableReader() {
        if (thread_.joinable()) thread_.join();
    }

    const std::string& netns() const { return netns_; }
    void wait_for_ipv4() { ipv4_read_.wait(); }
    void join() { thread_.join(); }

    // Read after wait_for_ipv4(): the client, what opening it said, the
    // IPv4 half; after join(): the rest.
    std::optional<Client> client;
    std::string open_problem;
    std::optional<Result<Table>> ipv4;
    std::optional<bool> beyond_ipv4;
    std::string beyond_ipv4_check;  ///< how beyond_ipv4 was decided
    double ipv4_ms = 0;
    double total_ms = 0;

  private:
    void read() {
        const auto start = std::chrono::steady_clock::now();
        const auto since_start = [&] {
            return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                             start)
                .count();
        };
        client = open_client(netns_, open_problem);
        if (client) ipv4 = client->ipv4_settings_table();
        ipv4_ms = since_start();
        ipv4_done_.set_value();
        if (ipv4 && ipv4->ok()) {
            beyond_ipv4 = client->has_services_beyond_ipv4_settings(**ipv4);
            beyond_ipv4_check = client->last_beyond_ipv4_check();
        }
        total_ms = since_start();
    }

    std::string netns_;
    std::promise<void> ipv4_done_;
    std::shared_future<void> ipv4_read_ = ipv4_done_.get_future().share();
    std::thread thread_;  // last: starts once the members above exist
};

int run_apply(const std::string& file, bool dry_run, bool prune, bool only_diff,
              const std::string& netns, std::optional<TableReader>& reader) {
    PhaseTimer timer;
    // A reader main() started for another namespace than the options name
    // (its guess from the arguments was wrong) is replaced.
    if (!reader || reader->netns() != netns) {
        reader.reset();
        reader.emplace(netns);
    }
    auto desired = read_document(file, timer);
    std::optional<Client>& client = reader->client;
    const std::optional<Result<Table>>& ipv4 = reader->ipv4;
    reader->wait_for_ipv4();
    timer.mark("read IPv4");
    timer.note("kernel thread, IPv4 part", reader->ipv4_ms);
    // The plan from the IPv4 half, and its text, while the dump goes on.
    std::optional<Plan> early_plan;
    std::string early_text;
    auto* document = std::get_if<DocumentTable>(&desired);
    if (document != nullptr && ipv4 && ipv4->ok()) {
        early_plan = plan_document(**ipv4, *document, PlanOptions{.prune = prune});
        early_text = plan_text(*early_plan);
        timer.mark("plan");
    }
    reader->join();
    timer.mark("read rest");
    timer.note("kernel thread", reader->total_ms);
    if (!reader->beyond_ipv4_check.empty())
        timer.note("services beyond IPv4 checked by " + reader->beyond_ipv4_check);
    if (auto* problem = std::get_if<std::string>(&desired)) {
        write(stderr, *problem + "\n");
        return kExitUsage;
    }
    if (!client) {
        write(stderr, "cannot reach IPVS: " + reader->open_problem + "\n");
        return kExitRefused;
    }
    if (ipv4 && !ipv4->ok()) {
        write(stderr, ipv4->error().message() + "\n");
        return kExitRefused;
    }
    // Only a dump that found nothing beyond the IPv4 half keeps the early
    // plan; otherwise (IPv6 services, a persistence engine, getsockopt not
    // usable) the whole table is read again and planned again.
    std::optional<Result<Table>> whole;
    if (!early_plan || reader->beyond_ipv4 != false) {
        early_plan.reset();
        whole.emplace(client->table(TableDetail::Settings));
        timer.mark("read kernel");
        if (!*whole) {
            write(stderr, whole->error().message() + "\n");
            return kExitRefused;
        }
    }
    const Table& current = whole ? **whole : **ipv4;
    const Plan plan = early_plan ? std::move(*early_plan)
                                 : plan_document(current, *document, PlanOptions{.prune = prune});
    if (whole) timer.mark("plan");
    // One write: a thousand stdio calls were a visible share of a guest run.
    write(stdout, whole ? plan_text(plan) : early_text);
    timer.mark("print plan");
    if (only_diff || dry_run) exit_without_teardown(kExitOk);
    auto applied = apply_plan(*client, plan, current);
    timer.mark("apply");
    if (!applied) {
        write(stderr, applied.error().message() + "\n");
        return kExitRefused;
    }
    exit_without_teardown(kExitOk);
}

int run_drain(const std::string& protocol_flag, const std::string& service,
              const std::string& server, double timeout_seconds, double interval_seconds,
              const std::string& netns) {
    const NameLookup names = system_names();
    auto parsed = parse_compat({"-d", protocol_flag, service, "-r", server}, "ipvsctl", names);
    if (auto* exit = std::get_if<CompatExit>(&parsed)) {
        write(stderr, "drain: " + exit->message);
        return kExitUsage;
    }
    const auto& request = std::get<CompatRequest>(parsed);
    std::string open_problem;
    auto client = open_client(netns, open_problem);
    if (!client) {
        write(stderr, "cannot reach IPVS: " + open_problem + "\n");
        return kExitRefused;
    }
    const ServiceKey& key = request.service.key;
    const auto find = [&]() -> std::variant<Destination, std::string> {
        auto destinations = client->destinations(key);
        if (!destinations)
            return "service " + key.to_string() + ": " + destinations.error().message();
        for (const auto& d : *destinations)
            if (d.same_endpoint(request.destination)) return d;
        return "no real server " + request.destination.endpoint() + " in " + key.to_string();
    };
    auto found = find();
    if (auto* problem = std::get_if<std::string>(&found)) {
        write(stderr, "drain: " + *problem + "\n");
        return kExitRefused;
    }
    Destination destination = std::get<Destination>(found);
    destination.weight = 0;
    if (auto edited = client->edit_destination(key, destination); !edited) {
        write(stderr, "drain: " + edited.error().message() + "\n");
        return kExitRefused;
    }
    const std::string name = destination.endpoint() + " in " + key.to_string();
    write(stdout, "weight of " + name + " set to 0\n");
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<long>(timeout_seconds * 1000));
    while (true) {
        auto now = find();
        if (auto* problem = std::get_if<std::string>(&now)) {
            write(stderr, "drain: " + *problem + "\n");
            return kExitRefused;
        }
        const auto active = std::get<Destination>(now).active_conns;
        if (active == 0) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            write(stdout, "timeout with " + std::to_string(active) + " active connections\n");
            break;
        }
        std::this_thread::sleep_for(
            std::chrono::milliseconds(static_cast<long>(interval_seconds * 1000)));
    }
    if (auto deleted = client->delete_destination(key, destination); !deleted) {
        write(stderr, "drain: " + deleted.error().message() + "\n");
        return kExitRefused;
    }
    write(stdout, "deleted " + name + "\n");
    return kExitOk;
}

int run_extended(int argc, char** argv, std::optional<TableReader>& reader) {
    CLI::App app{"ipvsctl: declarative IPVS management (ipvsadm options: see ipvsctl -h)"};
    app.require_subcommand(1);
    std::string netns;
    app.add_option("--netns", netns, "network namespace (name under /run/netns or a path)");

    std::string file;
    bool dry_run = false, prune = false;
    auto* apply = app.add_subcommand("apply", "make the kernel match a JSON document");
    apply->add_option("-f,--file", file, "JSON document, - for stdin")->required();
    apply->add_flag("--dry-run", dry_run, "print the plan, change nothing");
    apply->add_flag("--prune", prune, "delete services and servers not in the document");

    auto* diff = app.add_subcommand("diff", "print the plan that apply would run");
    diff->add_option("-f,--file", file, "JSON document, - for stdin")->required();
    diff->add_flag("--prune", prune, "include deletions of what the document lacks");

    std::string tcp, udp, mark, server;
    double timeout = 300, interval = 1;
    auto* drain = app.add_subcommand("drain", "weight 0, wait for connections to end, delete");
    auto* tcp_option = drain->add_option("-t,--tcp-service", tcp, "TCP service host:port");
    auto* udp_option = drain->add_option("-u,--udp-service", udp, "UDP service host:port");
    auto* mark_option = drain->add_option("-f,--fwmark-service", mark, "fwmark service");
    tcp_option->excludes(udp_option)->excludes(mark_option);
    udp_option->excludes(mark_option);
    drain->add_option("-r,--real-server", server, "real server host[:port]")->required();
    drain->add_option("--timeout", timeout, "seconds to wait for active connections (300)")
        ->check(CLI::NonNegativeNumber);
    drain->add_option("--interval", interval, "seconds between polls (1)")
        ->check(CLI::PositiveNumber);
    for (auto* sub : {apply, diff, drain}) sub->add_option("--netns", netns, "network namespace");

    bool json = false;
    std::string vrrp_socket = kVrrpdSocket;
    auto* vrrp = app.add_subcommand("vrrp", "query vrrpd over its control socket");
    vrrp->require_subcommand(1);
    auto* vrrp_status_cmd = vrrp->add_subcommand("status", "VRRP instances and their state");
    vrrp_status_cmd->add_flag("--json", json, "print the daemon's reply as JSON");
    vrrp_status_cmd->add_option("--socket", vrrp_socket, "vrrpd control socket")
        ->capture_default_str();

    std::string check_socket = kHealthcheckdSocket;
    std::string check_service, check_server;
    std::optional<unsigned> drain_timeout;
    bool wait = false;
    auto* check = app.add_subcommand("check", "query and steer healthcheckd");
    check->require_subcommand(1);
    check->add_option("--socket", check_socket, "healthcheckd control socket")
        ->capture_default_str();
    auto* check_status_cmd = check->add_subcommand("status", "virtual and real servers' health");
    check_status_cmd->add_flag("--json", json, "print the daemon's reply as JSON");
    auto* check_drain_cmd =
        check->add_subcommand("drain", "weight 0 until connections end, then remove");
    auto* check_undrain_cmd = check->add_subcommand("undrain", "end a drain: weight restored");
    for (auto* sub : {check_status_cmd, check_drain_cmd, check_undrain_cmd})
        sub->add_option("--socket", check_socket, "healthcheckd control socket")
            ->capture_default_str();
    for (auto* sub : {check_drain_cmd, check_undrain_cmd}) {
        sub->add_option("SERVICE", check_service,
                        "tcp:ADDR:PORT, udp:ADDR:PORT, sctp:ADDR:PORT or fwmark:N")
            ->required();
        sub->add_option("SERVER", check_server, "real server ADDR:PORT or [ADDR]:PORT")->required();
    }
    check_drain_cmd->add_option("--timeout", drain_timeout,
                                "seconds until the daemon removes the server regardless");
    check_drain_cmd->add_flag("--wait", wait, "poll status until the server is gone");

    std::string mode;
    std::vector<std::string> vip_texts;
    std::string interface = "lo";
    std::string state_file = kRealServerState;
    bool rs_dry_run = false;
    auto* realserver =
        app.add_subcommand("realserver", "configure this host as a DR/TUN real server");
    realserver->require_subcommand(1);
    auto* rs_setup = realserver->add_subcommand("setup", "VIPs, tunnel devices and sysctls");
    rs_setup->add_option("--mode", mode, "dr or tun")
        ->required()
        ->check(CLI::IsMember({"dr", "tun"}));
    rs_setup->add_option("--vip", vip_texts, "virtual IP address (repeatable)")
        ->required()
        ->expected(1, -1);
    auto* interface_option =
        rs_setup->add_option("--interface", interface, "DR: interface for the VIPs")
            ->capture_default_str();
    auto* rs_teardown = realserver->add_subcommand("teardown", "undo what setup recorded");
    for (auto* sub : {rs_setup, rs_teardown}) {
        sub->add_flag("--dry-run", rs_dry_run, "print each change, make none");
        sub->add_option("--state", state_file, "state file")->capture_default_str();
        sub->add_option("--netns", netns, "network namespace");
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int status = app.exit(e);
        return status == 0 ? 0 : kExitUsage;
    }
    if (realserver->parsed()) {
        const RealServerIo io{state_file, netns, rs_dry_run, std::cout, std::cerr};
        if (rs_teardown->parsed()) return realserver_teardown(io);
        RealServerRequest request;
        request.mode = mode == "tun" ? RealServerMode::Tunnel : RealServerMode::DirectRouting;
        if (request.mode == RealServerMode::Tunnel && interface_option->count() > 0) {
            write(stderr, "realserver setup: --interface applies to --mode dr only\n");
            return kExitUsage;
        }
        request.interface = interface;
        for (const auto& text : vip_texts) {
            auto address = Address::parse(text);
            if (!address) {
                write(stderr, "realserver setup: --vip '" + text + "' is not an IP address\n");
                return kExitUsage;
            }
            request.vips.push_back(*address);
        }
        return realserver_setup(request, io);
    }
    if (apply->parsed()) return run_apply(file, dry_run, prune, false, netns, reader);
    if (diff->parsed()) return run_apply(file, true, prune, true, netns, reader);
    if (vrrp->parsed()) return vrrp_status(ControlIo{vrrp_socket, json, std::cout, std::cerr});
    if (check->parsed()) {
        const ControlIo io{check_socket, json, std::cout, std::cerr};
        if (check_status_cmd->parsed()) return check_status(io);
        if (check_undrain_cmd->parsed()) return check_undrain(io, check_service, check_server);
        return check_drain(io, check_service, check_server,
                           DrainOptions{.timeout_seconds = drain_timeout, .wait = wait});
    }
    if (tcp.empty() && udp.empty() && mark.empty()) {
        write(stderr, "drain: one of -t, -u or -f is required\n");
        return kExitUsage;
    }
    const std::string flag = !tcp.empty() ? "-t" : !udp.empty() ? "-u" : "-f";
    const std::string service = !tcp.empty() ? tcp : !udp.empty() ? udp : mark;
    return run_drain(flag, service, server, timeout, interval, netns);
}

/// The value of the last --netns option among the arguments, "" without one.
std::string netns_in_arguments(const std::vector<std::string>& args) {
    std::string netns;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--netns" && i + 1 < args.size())
            netns = args[++i];
        else if (args[i].rfind("--netns=", 0) == 0)
            netns = args[i].substr(8);
    }
    return netns;
}

bool is_extended_command(const std::string& word) {
    return word == "apply" || word == "diff" || word == "drain" || word == "vrrp" ||
           word == "check" || word == "realserver";
}

/// ipvsctl runs for a moment and exits, so memory it frees is better kept
/// for its next allocation than handed back: every fresh page costs a fault
/// and a zeroing (a quarter of the samples of `apply` in the emulated
/// guest), and glibc's defaults return large blocks with munmap, trim the
/// heap top, and grow a second thread's arena a few pages per mprotect.
/// One arena growing in large steps keeps that to a few hundred faults.
void tune_allocator_for_a_short_run() {
    constexpr int kPad = 64 << 20;
    ::mallopt(M_ARENA_MAX, 1);
    ::mallopt(M_MMAP_THRESHOLD, 256 << 20);
    ::mallopt(M_TRIM_THRESHOLD, 2 * kPad);
    ::mallopt(M_TOP_PAD, kPad);
}

}  // namespace
}  // namespace ipvsctl::cli

int main(int argc, char** argv) {
    using namespace ipvsctl::cli;
    main_entered = std::chrono::steady_clock::now();
    tune_allocator_for_a_short_run();
    try {
        std::vector<std::string> args(argv + 1, argv + argc);
        std::size_t first_word = 0;
        // "--netns NAME apply ..." is the extended grammar too.
        while (first_word < args.size() && args[first_word].rfind("--netns", 0) == 0)
            first_word += args[first_word] == "--netns" ? 2U : 1U;
        if (first_word < args.size() && is_extended_command(args[first_word])) {
            // apply and diff start reading the kernel before the options are
            // parsed (a noticeable time in an emulated guest), in the
            // namespace the arguments seem to name; run_apply() checks it.
            std::optional<TableReader> reader;
            if (args[first_word] == "apply" || args[first_word] == "diff")
                reader.emplace(netns_in_arguments(args));
            const int status = run_extended(argc, argv, reader);
            // A usage error need not wait for the read to finish.
            if (reader) exit_without_teardown(status);
            return status;
        }
        return run_compat(args, argc > 0 ? argv[0] : "ipvsctl");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipvsctl: %s\n", e.what());
        return 1;
    }
}
