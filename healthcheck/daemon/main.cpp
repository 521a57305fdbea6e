// SPDX-License-Identifier: GPL-2.0-or-later
// healthcheckd: health checks that keep IPVS real servers in step with
// reality. Thin main: options, wiring, signals.
#include <malloc.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/json.hpp"
#include "control/server.hpp"
#include "log.hpp"
#include "metrics/metrics.hpp"
#include "monitor.hpp"
#include "nft_sync.hpp"

namespace {

using namespace ipvsctl;
using namespace ipvsctl::healthcheck;

struct Options {
    std::string config_file{config::defaults::kConfigFile};
    bool check = false;
    bool dump = false;
    bool prepare = false;
    bool dry_run = false;
    std::optional<std::string> control_socket;
    bool tls_verify = false;
    std::string ca_file;
    /// `-i ID`: the name `@ID` conditional lines match (keepalived's --config-id).
    std::string config_id;
};

constexpr const char* kUsage =
    "usage: healthcheckd [-f FILE] [-i ID] [--check | --dump | --prepare] [--dry-run]\n"
    "                    [--control-socket PATH] [--tls-verify] [--ca-file FILE]\n";

std::optional<Options> parse_options(int argc, char** argv) {
    Options options;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        const auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size()) return std::nullopt;
            return args[++i];
        };
        if (arg == "-f" || arg == "--config") {
            auto v = value();
            if (!v) return std::nullopt;
            options.config_file = *v;
        } else if (arg == "-i" || arg == "--config-id") {
            auto v = value();
            if (!v) return std::nullopt;
            options.config_id = *v;
        } else if (arg == "--check") {
            options.check = true;
        } else if (arg == "--prepare") {
            options.prepare = true;
        } else if (arg == "--dump") {
            options.dump = true;
        } else if (arg == "--dry-run") {
            options.dry_run = true;
        } else if (arg == "--control-socket") {
            options.control_socket = value();
            if (!options.control_socket) return std::nullopt;
        } else if (arg == "--tls-verify") {
            options.tls_verify = true;
        } else if (arg == "--ca-file") {
            auto v = value();
            if (!v) return std::nullopt;
            options.ca_file = *v;
        } else {
            return std::nullopt;
        }
    }
    return options;
}

config::LoadResult load(const std::string& path, const std::string& config_id,
                        config::ReloadCache& cache, bool lean = false) {
    config::LoadOptions load_options;
    load_options.config_id = config_id;
    load_options.lean_unchanged = lean;
    // A reload parses again only the blocks whose text changed (ReloadCache).
    auto result = config::load_config(path, load_options, cache);
    for (const auto& diagnostic : result.diagnostics)
        log(result.ok() ? Priority::warning : Priority::err, diagnostic.to_string());
    return result;
}

/// Resident set size from /proc/self/statm; 0 when it cannot be read.
std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    if (!(statm >> pages >> resident)) return 0;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

int run(const Options& options) {
    // Blocks of 1 MiB and more (metrics texts, table reads) are mapped and
    // unmapped on their own. Left to glibc, the threshold rises to the
    // largest block freed, and such buffers then stay in the heap for
    // malloc_trim() to walk and give back over and over.
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    config::ReloadCache reload_cache;
    auto loaded = load(options.config_file, options.config_id, reload_cache);
    if (!loaded.ok()) {
        log(Priority::err, "refusing to start: " + options.config_file + " has errors");
        return 1;
    }

    std::unique_ptr<Kernel> kernel;
    if (options.dry_run) {
        kernel = std::make_unique<ModelKernel>();
        log(Priority::notice, "dry run: changes go to an in-memory IPVS table");
    } else {
        auto client = Client::open();
        if (!client) {
            log(Priority::err, "refusing to start: " + client.error().message());
            return 1;
        }
        kernel = std::make_unique<IpvsKernel>(std::move(*client));
    }

    boost::asio::io_context io;
    SteadyClock clock;
    SessionOptions session_options;
    session_options.tls_verify = options.tls_verify;
    session_options.ca_file = options.ca_file;
    if (loaded.config->global_defs.script_user)
        session_options.script_user = loaded.config->global_defs.script_user->command;
    // Before the first probe, which would open the raw socket just the same.
    log(Priority::info, "TCP_CHECK: " + tcp_check_mode(io));
    Monitor monitor(io, clock, *kernel, session_options);
    NftSync nft_sync(options.dry_run);  // fwmark groups, FULLNAT SNAT
    // The monitor's configuration is the reload cache's kept() (nftables
    // did not rewrite it): a reload may then be lean (see below).
    bool monitor_shares_cache = false;
    {
        // The monitor shares the checker-less copy the reload cache keeps.
        const auto applied = nft_sync.apply(loaded.config);
        monitor_shares_cache = applied == loaded.config;
        monitor.load(applied, nullptr, monitor_shares_cache ? reload_cache.kept() : nullptr);
    }
    // Only the monitor and the reload cache keep the configuration, one
    // shared copy without checkers (the cache's checkers are one pool of
    // distinct settings); the whole one is freed here.
    config::GlobalDefs current = loaded.config->global_defs;
    loaded = {};
    // Parsing a large file leaves much of the heap free but resident: give it back.
    malloc_trim(0);

    std::string socket_path = options.control_socket.value_or("");
    if (socket_path.empty()) {
        const auto& sockets = current.control_socket;
        const auto found = sockets.find(config::Daemon::healthcheckd);
        socket_path = found != sockets.end()
                          ? found->second
                          : std::string(config::defaults::kHealthcheckdControlSocket);
    }
    std::unique_ptr<control::Server> control;
    try {
        control = std::make_unique<
            control::Server>(io, socket_path, [&](const nlohmann::json& request) {
            const std::string command = request.value("command", "");
            const auto started = std::chrono::steady_clock::now();
            struct Noted {
                Monitor& monitor;
                std::chrono::steady_clock::time_point started;
                ~Noted() {
                    monitor.note_stall(LoopWork::status,
                                       std::chrono::duration_cast<Duration>(
                                           std::chrono::steady_clock::now() - started));
                }
            } noted{monitor, started};
            if (command == "status") {
                nlohmann::json reply = monitor.status();
                reply["ok"] = true;
                return reply;
            }
            if (command == "drain") return monitor.drain(request);
            if (command == "undrain") return monitor.undrain(request);
            return nlohmann::json{{"ok", false}, {"error", "unknown command '" + command + "'"}};
        });
    } catch (const std::exception& e) {
        log(Priority::warning, e.what());
    }

    // Metrics: opt-in (metrics_listen healthcheckd ADDR:PORT); a reload may move them.
    std::unique_ptr<metrics::HttpExporter> exporter;
    std::optional<config::Endpoint> metrics_at;
    const auto listen_metrics = [&](const config::GlobalDefs& defs) {
        const auto found = defs.metrics_listen.find(config::Daemon::healthcheckd);
        const std::optional<config::Endpoint> wanted =
            found == defs.metrics_listen.end() ? std::nullopt
                                               : std::optional<config::Endpoint>(found->second);
        if (wanted == metrics_at && (exporter || !wanted)) return;
        exporter.reset();
        metrics_at = wanted;
        if (!wanted) return;
        try {
            const boost::asio::ip::tcp::endpoint endpoint(
                boost::asio::ip::make_address(wanted->address.to_string()), wanted->port);
            // In slices: a scrape of 10,000 servers does not hold the loop.
            exporter = std::make_unique<metrics::HttpExporter>(
                io, endpoint,
                metrics::HttpExporter::AsyncRender(
                    [&monitor](std::function<void(std::string)> done) {
                        monitor.metrics_async(std::move(done));
                    }));
            log(Priority::info, "metrics on http://" + wanted->to_string() + "/metrics");
        } catch (const std::exception& e) {
            log(Priority::warning, "metrics on " + wanted->to_string() + ": " + e.what());
        }
    };
    listen_metrics(current);

    // Probe rounds and reloads free memory in the middle of the heap, which
    // glibc keeps resident (about 18 MiB of 84 at 10,000 targets): return it.
    // Only once the process grew by kTrimAfter since the lowest it was after
    // the last trim: a trim walks the whole heap, tens of milliseconds of
    // loop time at 10,000 targets, mostly for nothing in a steady state.
    constexpr std::size_t kTrimAfter = 4 << 20;
    std::size_t trimmed_at = resident_bytes();
    boost::asio::steady_timer trim_timer(io);
    std::function<void()> arm_trim = [&] {
        trim_timer.expires_after(std::chrono::seconds(30));
        trim_timer.async_wait([&](const boost::system::error_code& error) {
            if (error) return;
            const std::size_t now = resident_bytes();
            trimmed_at = std::min(trimmed_at, now);
            if (now >= trimmed_at + kTrimAfter) {
                const auto started = std::chrono::steady_clock::now();
                malloc_trim(0);
                monitor.note_stall(LoopWork::trim, std::chrono::duration_cast<Duration>(
                                                       std::chrono::steady_clock::now() - started));
                trimmed_at = resident_bytes();
            }
            arm_trim();
        });
    };
    arm_trim();

    boost::asio::signal_set signals(io, SIGHUP, SIGTERM, SIGINT);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            if (signal == SIGHUP) {
                sd_notify(0, "RELOADING=1");
                const auto started = std::chrono::steady_clock::now();
                log(Priority::info, "reload: reading " + options.config_file);
                // Lean: unchanged virtual servers come without their real
                // servers and checkers (copies that were half of a reload's
                // page faults); the monitor carries its own state of them.
                auto reloaded = load(options.config_file, options.config_id, reload_cache,
                                     monitor_shares_cache);
                const auto parsed = std::chrono::steady_clock::now();
                bool lean_loaded = false;
                if (reloaded.ok() && reloaded.lean) {
                    // nftables' rules from the whole configuration: the
                    // cache's copy without checkers.
                    const auto kept = reload_cache.kept();
                    const auto applied = nft_sync.apply(kept);
                    if (applied == kept)
                        lean_loaded = monitor.load(reloaded.config, &reloaded.unchanged, kept,
                                                   reloaded.unchanged_from, true);
                    if (!lean_loaded) {
                        log(Priority::info, "reload: reading " + options.config_file +
                                                " again in full (the lean result cannot be used)");
                        // The cache now holds this read: no block may count
                        // as unchanged against the monitor's older state.
                        reload_cache.clear();
                        reloaded = load(options.config_file, options.config_id, reload_cache);
                    }
                }
                if (!reloaded.ok()) {
                    log(Priority::err,
                        "reload: " + options.config_file + " has errors; nothing changed");
                } else {
                    // No config::diff first: at tens of thousands of real
                    // servers it cost more than the reload itself; load()
                    // keeps what is unchanged and applies only the difference.
                    const auto reused = reloaded.reused_servers;
                    const auto parsed_servers = reloaded.parsed_servers;
                    if (!lean_loaded) {
                        // Unchanged virtual servers (same block text as the
                        // previous load) keep their state without being looked
                        // at again, unless nftables rewrote the configuration.
                        const auto applied = nft_sync.apply(reloaded.config);
                        monitor_shares_cache = applied == reloaded.config;
                        monitor.load(applied, monitor_shares_cache ? &reloaded.unchanged : nullptr,
                                     monitor_shares_cache ? reload_cache.kept() : nullptr);
                    }
                    const auto loaded_at = std::chrono::steady_clock::now();
                    current = reloaded.config->global_defs;
                    reloaded = {};
                    malloc_trim(0);
                    listen_metrics(current);
                    const auto ms = [](auto from, auto to) {
                        return std::to_string(
                            std::chrono::duration_cast<std::chrono::milliseconds>(to - from)
                                .count());
                    };
                    log(Priority::info,
                        "reload: done in " + ms(started, std::chrono::steady_clock::now()) +
                            " ms (configuration read in " + ms(started, parsed) + " ms, " +
                            std::to_string(reused) + " virtual servers reused, " +
                            std::to_string(parsed_servers) + " parsed; monitor and kernel in " +
                            ms(parsed, loaded_at) + " ms; memory trim " +
                            ms(loaded_at, std::chrono::steady_clock::now()) + " ms)");
                }
                monitor.note_stall(LoopWork::reload,
                                   std::chrono::duration_cast<Duration>(
                                       std::chrono::steady_clock::now() - started));
                sd_notify(0, "READY=1");
                signals.async_wait(on_signal);
                return;
            }
            log(Priority::notice, "stopping; the IPVS table is left as it is");
            sd_notify(0, "STOPPING=1");
            monitor.stop();
            trim_timer.cancel();
            nft_sync.remove();
            control.reset();
            exporter.reset();
            io.stop();
        };
    signals.async_wait(on_signal);

    sd_notify(0, "READY=1");
    log(Priority::notice, "healthcheckd ready");
    io.run();
    return 0;
}

/// Raises the soft limit on open files to the hard one: a probe in flight
/// holds a socket, and with reuse_connection every HTTP_GET target keeps
/// one; 10,000 targets need more than the usual soft limit of 1,024.
void raise_open_file_limit() {
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur >= files.rlim_max) return;
    files.rlim_cur = files.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &files) != 0)
        log(Priority::warning,
            std::string("cannot raise the open file limit: ") + std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = parse_options(argc, argv);
    if (!options) {
        std::cerr << kUsage;
        return 2;
    }
    if (options->check || options->dump || options->prepare) {
        config::LoadOptions load_options;
        load_options.config_id = options->config_id;
        auto loaded = config::load_config(options->config_file, load_options);
        for (const auto& diagnostic : loaded.diagnostics)
            std::cerr << diagnostic.to_string() << '\n';
        if (!loaded.ok()) return 1;
        if (options->dump) std::cout << config::json_text(config::to_json(*loaded.config)) << '\n';
        if (options->prepare) return prepare_ipvs_conntrack(*loaded.config);
        return 0;
    }
    raise_open_file_limit();
    try {
        return run(*options);
    } catch (const std::exception& e) {
        log(Priority::err, std::string("fatal: ") + e.what());
        return 1;
    }
}
