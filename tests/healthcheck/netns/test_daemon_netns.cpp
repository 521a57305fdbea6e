// SPDX-License-Identifier: GPL-2.0-or-later
// healthcheckd itself (in --dry-run: the host has no IPVS) against a real
// server it watches: failure and recovery seen through the control socket.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "netns_env.hpp"
#include "sys/unique_fd.hpp"

using namespace std::chrono_literals;
using ipvsctl::healthcheck::netns_test::env;
using ipvsctl::healthcheck::netns_test::server_counter;
using Clock = std::chrono::steady_clock;

namespace {

/// One request on the control socket; null when the daemon is not there.
nlohmann::json ask(const std::string& path, const std::string& request) {
    const ipvsctl::sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return nullptr;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
        return nullptr;
    const std::string line = request + "\n";
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return nullptr;
    std::string reply;
    char buffer[4096];
    for (int reads = 0; reads < 1000 && reply.find('\n') == std::string::npos; ++reads) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
        if (n <= 0) break;
        reply.append(buffer, static_cast<std::size_t>(n));
    }
    return nlohmann::json::parse(reply, nullptr, false);
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::freopen(log.c_str(), "a", stderr);
        std::freopen(log.c_str(), "a", stdout);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

/// healthcheckd in --dry-run (the host has no IPVS) on `conf`, answering on `socket`.
pid_t start_daemon(const std::string& conf, const std::string& socket, const std::string& log) {
    return spawn({env("HC_HEALTHCHECKD"), "-f", conf, "--dry-run", "--control-socket", socket},
                 log);
}

/// python's http.server in the server namespace, on ADDRESS:PORT.
pid_t start_http_server(const std::string& address, const std::string& port,
                        const std::string& log) {
    return spawn({"ip", "netns", "exec", env("HC_SERVER_NETNS"), "python3", "-m", "http.server",
                  "--bind", address, port},
                 log);
}

void stop(pid_t pid) {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

/// A server's state in the daemon's status, "" when absent.
std::string server_state(const nlohmann::json& status, const std::string& server) {
    if (!status.is_object() || !status.contains("virtual_servers")) return "";
    for (const auto& vs : status["virtual_servers"])
        for (const auto& rs : vs["real_servers"])
            if (rs["server"] == server) return rs["state"];
    return "";
}

/// Polls every 50 ms until the server has `state`; returns how long it took.
std::optional<std::chrono::milliseconds> wait_for(const std::string& socket,
                                                  const std::string& server,
                                                  const std::string& state,
                                                  std::chrono::seconds limit) {
    const auto start = Clock::now();
    while (Clock::now() - start < limit) {
        if (server_state(ask(socket, R"({"command":"status"})"), server) == state)
            return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        std::this_thread::sleep_for(50ms);
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("healthcheckd: a server that dies leaves, and comes back", "[netns][daemon]") {
    const std::string work = env("HC_WORK");
    const std::string server = env("HC_SERVER");
    const std::string conf = work + "/daemon.conf";
    const std::string socket = work + "/healthcheckd.sock";
    const std::string log = work + "/healthcheckd.log";
    std::ofstream(conf)
        << "virtual_server 192.0.2.10 80 {\n"
           "    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n"
           "    real_server "
        << server
        << " 8091 {\n"
           "        weight 5\n"
           "        TCP_CHECK {\n            connect_timeout 1\n            retry 1\n"
           "            delay_before_retry 1\n        }\n    }\n"
           "    real_server "
        << server
        << " 8080 {\n"
           "        HTTP_GET {\n            url {\n                path /healthz\n"
           "            }\n            connect_timeout 1\n        }\n    }\n}\n";

    // A real server the test can kill: python's http.server on 8091.
    const auto start_backend = [&] {
        return start_http_server(server, "8091", work + "/backend.log");
    };
    pid_t backend = start_backend();
    std::this_thread::sleep_for(500ms);

    const pid_t daemon = start_daemon(conf, socket, log);
    const auto up = wait_for(socket, server + ":8091", "up", 10s);
    CHECK(up.has_value());
    CHECK(wait_for(socket, server + ":8080", "up", 5s).has_value());

    // Killed: retry 1 means two failed checks, delay_before_retry 1 s apart.
    stop(backend);
    const auto down = wait_for(socket, server + ":8091", "down", 10s);
    REQUIRE(down.has_value());
    CHECK(*down <= 3500ms);  // at most one interval to notice, one retry

    backend = start_backend();
    const auto back = wait_for(socket, server + ":8091", "up", 10s);
    CHECK(back.has_value());
    CHECK(*back <= 6s);  // python's start-up (slow on a loaded host), then one interval

    const auto status = ask(socket, R"({"command":"status"})");
    CHECK(status["ok"] == true);
    CHECK(status["counters"]["transitions"] >= 2);
    CHECK(ask(socket, R"({"command":"nonsense"})")["ok"] == false);

    // Reload with one weight changed: check state is kept, only the
    // difference is applied. A broken file then changes nothing.
    const auto transitions = status["counters"]["transitions"].get<int>();
    {
        std::ifstream original(conf);
        std::string text((std::istreambuf_iterator<char>(original)),
                         std::istreambuf_iterator<char>());
        text.replace(text.find("weight 5"), 8, "weight 7");
        std::ofstream(conf) << text;
    }
    ::kill(daemon, SIGHUP);
    std::this_thread::sleep_for(1s);
    std::ofstream(conf) << "virtual_server {\n";
    ::kill(daemon, SIGHUP);
    std::this_thread::sleep_for(1s);
    const auto reloaded = ask(socket, R"({"command":"status"})");
    CHECK(reloaded["counters"]["transitions"] == transitions);
    CHECK(server_state(reloaded, server + ":8091") == "up");

    stop(daemon);
    stop(backend);
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(text);
    CHECK(text.find("<6>add destination TCP 192.0.2.10:80 -> " + server + ":8091") !=
          std::string::npos);
    CHECK(text.find("<6>delete destination TCP 192.0.2.10:80 -> " + server + ":8091") !=
          std::string::npos);
    CHECK(text.find("stopping") != std::string::npos);
    CHECK(text.find("<6>edit destination TCP 192.0.2.10:80 -> " + server + ":8091 weight 7") !=
          std::string::npos);
    CHECK(text.find("has errors; nothing changed") != std::string::npos);
}

namespace {

/// A server's entry in the daemon's status, null when absent.
nlohmann::json server_entry(const nlohmann::json& status, const std::string& server) {
    if (!status.is_object() || !status.contains("virtual_servers")) return nullptr;
    for (const auto& vs : status["virtual_servers"])
        for (const auto& rs : vs["real_servers"])
            if (rs["server"] == server) return rs;
    return nullptr;
}

}  // namespace

TEST_CASE("healthcheckd: drain and undrain over the control socket", "[netns][daemon][drain]") {
    const std::string work = env("HC_WORK");
    const std::string server = env("HC_SERVER");
    const std::string conf = work + "/drain.conf";
    const std::string socket = work + "/drain.sock";
    const std::string log = work + "/drain.log";
    std::ofstream(conf)
        << "virtual_server 192.0.2.20 80 {\n"
           "    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n"
           "    real_server "
        << server
        << " 8080 {\n        weight 4\n"
           "        TCP_CHECK {\n            connect_timeout 1\n        }\n    }\n}\n";
    const pid_t daemon = start_daemon(conf, socket, log);
    REQUIRE(wait_for(socket, server + ":8080", "up", 10s).has_value());

    const std::string target = R"("service":"tcp:192.0.2.20:80","server":")" + server + R"(:8080")";
    // The reply comes at once, before the connections have ended.
    const auto start = Clock::now();
    const auto reply = ask(socket, R"({"command":"drain",)" + target + R"(,"timeout":300})");
    CHECK(Clock::now() - start < 500ms);
    CHECK(reply == nlohmann::json{{"ok", true}, {"state", "draining"}});
    const auto draining = server_entry(ask(socket, R"({"command":"status"})"), server + ":8080");
    CHECK((draining["drain"] == "draining" || draining["drain"] == "drained"));

    // The dry-run table has no connections: the drain completes on the next poll.
    bool drained = false;
    for (int i = 0; i < 60 && !drained; ++i) {
        std::this_thread::sleep_for(100ms);
        drained = server_entry(ask(socket, R"({"command":"status"})"), server + ":8080")["drain"] ==
                  "drained";
    }
    CHECK(drained);
    // Checks continue while drained.
    const auto probes = ask(socket, R"({"command":"status"})")["counters"]["probes"].get<int>();
    std::this_thread::sleep_for(1500ms);
    const auto later = ask(socket, R"({"command":"status"})");
    CHECK(later["counters"]["probes"].get<int>() > probes);
    CHECK(server_entry(later, server + ":8080")["state"] == "up");

    CHECK(ask(socket, R"({"command":"undrain",)" + target + "}") ==
          nlohmann::json{{"ok", true}, {"state", "none"}});
    CHECK(server_entry(ask(socket, R"({"command":"status"})"), server + ":8080")["drain"] ==
          "none");

    // Errors name what was wrong and change nothing.
    CHECK(ask(socket, R"({"command":"drain","service":"tcp:192.0.2.99:80","server":")" + server +
                          R"(:8080"})") ==
          nlohmann::json{{"ok", false}, {"error", "unknown service tcp:192.0.2.99:80"}});
    CHECK(ask(socket,
              R"({"command":"drain","service":"tcp:192.0.2.20:80","server":"10.9.9.9:80"})") ==
          nlohmann::json{{"ok", false},
                         {"error", "unknown server 10.9.9.9:80 in tcp:192.0.2.20:80"}});
    CHECK(ask(socket,
              R"({"command":"drain","service":"tcp:192.0.2.20","server":"10.9.9.9:80"})")["error"]
              .get<std::string>()
              .starts_with("bad service 'tcp:192.0.2.20'"));
    CHECK(ask(socket, R"({"command":"drain",)" + target + R"(,"timeout":"soon"})")["ok"] == false);
    CHECK(server_entry(ask(socket, R"({"command":"status"})"), server + ":8080")["drain"] ==
          "none");

    stop(daemon);
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(text);
    // weight 0 first, then removal, then back with the configured weight.
    const auto zero =
        text.find("<6>edit destination TCP 192.0.2.20:80 -> " + server + ":8080 weight 0");
    const auto gone = text.find("<6>delete destination TCP 192.0.2.20:80 -> " + server + ":8080");
    const auto back =
        text.rfind("<6>add destination TCP 192.0.2.20:80 -> " + server + ":8080 weight 4");
    CHECK(zero != std::string::npos);
    CHECK(gone != std::string::npos);
    CHECK(back != std::string::npos);
    CHECK(zero < gone);
    CHECK(gone < back);
}

TEST_CASE("healthcheckd: notify and quorum scripts run as the script user",
          "[netns][daemon][notify]") {
    const std::string work = env("HC_WORK");
    const std::string server = env("HC_SERVER");
    // The script user must reach the scripts and write the markers.
    char dir_template[] = "/tmp/hc-notify.XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    const std::string dir = dir_template;
    ::chmod(dir.c_str(), 0777);
    const std::string script = dir + "/notify.sh";
    std::ofstream(script) << "#!/bin/sh\n"
                             "echo \"$1 $(id -un) $IPVSCTL_EVENT ${IPVSCTL_REAL_SERVER:-vs}\" >> "
                          << dir << "/events\n";
    ::chmod(script.c_str(), 0755);

    const std::string conf = work + "/notify.conf";
    const std::string socket = work + "/notify.sock";
    const std::string log = work + "/notify.log";
    std::ofstream(conf) << "global_defs {\n    script_user nobody\n}\n"
                           "virtual_server 192.0.2.30 80 {\n"
                           "    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n"
                           "    quorum 2\n    hysteresis 0\n"
                           "    quorum_up \""
                        << script << " quorum-up\"\n    quorum_down \"" << script
                        << " quorum-down\"\n"
                           "    real_server "
                        << server << " 8092 {\n        notify_up \"" << script
                        << " up\"\n        notify_down \"" << script
                        << " down\"\n"
                           "        TCP_CHECK {\n            connect_timeout 1\n        }\n    }\n"
                           "    real_server "
                        << server
                        << " 8080 {\n        TCP_CHECK {\n            connect_timeout 1\n"
                           "        }\n    }\n}\n";
    const auto start_backend = [&] {
        return start_http_server(server, "8092", work + "/notify-backend.log");
    };
    pid_t backend = start_backend();
    std::this_thread::sleep_for(500ms);
    const pid_t daemon = start_daemon(conf, socket, log);
    REQUIRE(wait_for(socket, server + ":8092", "up", 10s).has_value());

    const auto events = [&] {
        std::ifstream in(dir + "/events");
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        return lines;
    };
    const auto wait_events = [&](std::size_t count) {
        for (int i = 0; i < 100 && events().size() < count; ++i) std::this_thread::sleep_for(50ms);
        return events();
    };
    // Up from the start: no script yet.
    CHECK(events().empty());

    stop(backend);
    REQUIRE(wait_for(socket, server + ":8092", "down", 10s).has_value());
    auto seen = wait_events(2);
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<std::string>{"down nobody notify_down " + server + ":8092",
                                           "quorum-down nobody quorum_down vs"});

    backend = start_backend();
    REQUIRE(wait_for(socket, server + ":8092", "up", 10s).has_value());
    seen = wait_events(4);
    REQUIRE(seen.size() == 4);
    std::vector<std::string> last(seen.begin() + 2, seen.end());
    std::sort(last.begin(), last.end());
    CHECK(last == std::vector<std::string>{"quorum-up nobody quorum_up vs",
                                           "up nobody notify_up " + server + ":8092"});
    // The loop kept running while the scripts ran.
    CHECK(ask(socket, R"({"command":"status"})")["counters"]["scripts_failed"] == 0);

    // The quorum was lost once: one closed downtime interval in the availability.
    const auto status = ask(socket, R"({"command":"status"})");
    const auto availability = status["virtual_servers"][0]["availability"];
    INFO(availability.dump());
    CHECK(availability["downtime_count"] == 1);
    CHECK(availability["ratio"].get<double>() < 1.0);
    CHECK(availability["ratio"].get<double>() > 0.0);
    CHECK(availability["nines"].is_number());
    REQUIRE(availability["downtime"].size() == 1);
    CHECK(availability["downtime"][0]["end"].is_number());
    CHECK(availability["downtime"][0]["seconds"].get<double>() > 0.5);
    CHECK(availability["downtime"][0]["start"].get<double>() > 1.7e9);

    stop(daemon);
    stop(backend);
    std::filesystem::remove_all(dir);
}

TEST_CASE("healthcheckd: weights from an agent on the real server", "[netns][daemon][agent]") {
    const std::string work = env("HC_WORK");
    const std::string server = env("HC_SERVER");
    const std::string said = work + "/agent-says";
    std::ofstream(said) << "75%\n";
    // A tiny agent: each connection gets the file's current line.
    const std::string agent_code =
        "import socket,sys\n"
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind((sys.argv[1], 8093)); s.listen(16)\n"
        "while True:\n"
        "    c,_=s.accept()\n"
        "    c.sendall(open(sys.argv[2],'rb').read()); c.close()\n";
    const pid_t agent = spawn(
        {"ip", "netns", "exec", env("HC_SERVER_NETNS"), "python3", "-c", agent_code, server, said},
        work + "/agent.log");
    const std::string conf = work + "/agent.conf";
    const std::string socket = work + "/agent.sock";
    const std::string log = work + "/agent-daemon.log";
    std::ofstream(conf)
        << "virtual_server 192.0.2.40 80 {\n"
           "    delay_loop 1\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n"
           "    real_server "
        << server
        << " 8080 {\n        weight 40\n"
           "        dynamic_weight agent {\n            port 8093\n"
           "            interval 0.3\n            timeout 0.3\n        }\n"
           "        TCP_CHECK {\n            connect_timeout 1\n        }\n    }\n}\n";
    std::this_thread::sleep_for(300ms);
    const pid_t daemon = start_daemon(conf, socket, log);
    const auto weight_becomes = [&](int weight) {
        for (int i = 0; i < 100; ++i) {
            const auto entry =
                server_entry(ask(socket, R"({"command":"status"})"), server + ":8080");
            if (entry.is_object() && entry["weight"] == weight) return true;
            std::this_thread::sleep_for(50ms);
        }
        return false;
    };
    CHECK(weight_becomes(30));  // 75% of 40
    std::ofstream(said) << "up 50%\n";
    CHECK(weight_becomes(20));
    std::ofstream(said) << "drain\n";
    CHECK(weight_becomes(0));
    std::ofstream(said) << "ready\n";
    CHECK(weight_becomes(40));
    // Gibberish leaves the weight alone.
    std::ofstream(said) << "hello\n";
    std::this_thread::sleep_for(1s);
    const auto entry = server_entry(ask(socket, R"({"command":"status"})"), server + ":8080");
    CHECK(entry["weight"] == 40);
    CHECK(entry["agent"] == "agent said 'hello'");

    stop(daemon);
    stop(agent);
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(text);
    CHECK(text.find("<6>edit destination TCP 192.0.2.40:80 -> " + server + ":8080 weight 30") !=
          std::string::npos);
    CHECK(text.find("<6>edit destination TCP 192.0.2.40:80 -> " + server + ":8080 weight 20") !=
          std::string::npos);
}

TEST_CASE("healthcheckd: weights from response time", "[netns][daemon][response_time]") {
    const std::string work = env("HC_WORK");
    const std::string server = env("HC_SERVER");
    const std::string conf = work + "/rt.conf";
    const std::string socket = work + "/rt.sock";
    // A server answering after 20 ms against a 1 ms target gives min_weight
    // (a quick local answer can itself take under 1 ms); a generous target
    // gives the full weight.
    std::ofstream(conf)
        << "virtual_server 192.0.2.41 80 {\n"
           "    delay_loop 0.2\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n"
           "    real_server "
        << server
        << " 8080 {\n        weight 50\n"
           "        dynamic_weight response_time {\n"
           "            target_response_time 0.001\n            min_weight 3\n"
           "        }\n"
           "        HTTP_GET {\n            url {\n                path /pause\n"
           "            }\n            connect_timeout 2\n        }\n    }\n"
           "    real_server "
        << server
        << " 8081 {\n        weight 50\n"
           "        dynamic_weight response_time {\n"
           "            target_response_time 5\n        }\n"
           "        TCP_CHECK {\n            connect_port 8080\n"
           "            connect_timeout 1\n        }\n    }\n}\n";
    const pid_t daemon = start_daemon(conf, socket, work + "/rt.log");
    std::this_thread::sleep_for(2s);
    const auto status = ask(socket, R"({"command":"status"})");
    const auto slow = server_entry(status, server + ":8080");
    const auto fast = server_entry(status, server + ":8081");
    INFO(status.dump());
    CHECK(slow["response_time_ms"].get<double>() > 1.0);
    CHECK(slow["weight"].get<int>() < 50);
    CHECK(slow["weight"].get<int>() >= 3);
    CHECK(fast["weight"] == 50);
    stop(daemon);
}

namespace {

/// GET /metrics from ADDR:PORT over plain HTTP/1.0; "" when unreachable.
std::string fetch_metrics(const std::string& address, std::uint16_t port) {
    const ipvsctl::sys::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return "";
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, address.c_str(), &to.sin_addr);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) return "";
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n";
    if (::write(fd.get(), request.data(), request.size()) < 0) return "";
    std::string reply;
    char buffer[8192];
    for (int reads = 0; reads < 10000; ++reads) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
        if (n <= 0) break;
        reply.append(buffer, static_cast<std::size_t>(n));
    }
    return reply;
}

}  // namespace

TEST_CASE("healthcheckd: Prometheus metrics when metrics_listen is set",
          "[netns][daemon][metrics]") {
    const std::string work = env("HC_WORK");
    const std::string server = env("HC_SERVER");
    const std::string conf = work + "/metrics.conf";
    const std::string socket = work + "/metrics.sock";
    std::ofstream(conf) << "global_defs {\n    metrics_listen healthcheckd 127.0.0.1:19117\n}\n"
                           "virtual_server 192.0.2.50 80 {\n"
                           "    delay_loop 0.5\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n"
                           "    real_server "
                        << server
                        << " 8080 {\n        weight 3\n        TCP_CHECK {\n"
                           "            connect_timeout 1\n        }\n    }\n"
                           "    real_server "
                        << server
                        << " 8099 {\n        TCP_CHECK {\n            connect_timeout 1\n"
                           "        }\n    }\n}\n";
    const pid_t daemon = start_daemon(conf, socket, work + "/metrics.log");
    REQUIRE(wait_for(socket, server + ":8099", "down", 10s).has_value());
    std::this_thread::sleep_for(1500ms);  // a loop-lag sample
    const std::string text = fetch_metrics("127.0.0.1", 19117);
    INFO(text);
    CHECK(text.starts_with("HTTP/1."));
    CHECK(text.find("text/plain") != std::string::npos);
    const std::string vs = "virtual_server=\"192.0.2.50:80/tcp\"";
    const std::string up = vs + ",real_server=\"" + server + ":8080\"";
    const std::string down = vs + ",real_server=\"" + server + ":8099\"";
    CHECK(text.find("healthcheckd_real_server_up{" + up + "} 1\n") != std::string::npos);
    CHECK(text.find("healthcheckd_real_server_up{" + down + "} 0\n") != std::string::npos);
    CHECK(text.find("healthcheckd_real_server_weight{" + up + "} 3\n") != std::string::npos);
    CHECK(text.find("healthcheckd_real_server_transitions_total{" + down + "} 1\n") !=
          std::string::npos);
    CHECK(text.find("healthcheckd_check_failures_total{" + down +
                    ",checker=\"TCP_CHECK#0\",reason=\"refused\"}") != std::string::npos);
    CHECK(text.find("healthcheckd_check_latency_seconds{" + up) != std::string::npos);
    CHECK(text.find("healthcheckd_virtual_server_availability_ratio{" + vs + "} 1\n") !=
          std::string::npos);
    CHECK(text.find("# TYPE healthcheckd_loop_lag_seconds gauge") != std::string::npos);
    CHECK(text.find("healthcheckd_loop_lag_seconds ") != std::string::npos);
    stop(daemon);
}

TEST_CASE("healthcheckd: a reload changing 10% of the servers applies only that",
          "[netns][daemon][reload]") {
    const std::string work = env("HC_WORK");
    const std::string conf = work + "/reload.conf";
    const std::string socket = work + "/reload.sock";
    const std::string log = work + "/reload.log";
    // 100 real servers without checkers (always up, as in keepalived).
    const auto write = [&](int changed) {
        std::ofstream out(conf);
        out << "virtual_server 192.0.2.60 80 {\n    lb_algo wrr\n    lb_kind DR\n"
               "    protocol TCP\n";
        for (int i = 0; i < 100; ++i)
            out << "    real_server 198.18.30." << i + 1 << " 80 {\n        weight "
                << (i < changed ? 9 : 1) << "\n    }\n";
        out << "}\n";
    };
    write(0);
    const pid_t daemon = start_daemon(conf, socket, log);
    REQUIRE(wait_for(socket, "198.18.30.100:80", "up", 10s).has_value());
    write(10);
    ::kill(daemon, SIGHUP);
    bool reloaded = false;
    for (int i = 0; i < 100 && !reloaded; ++i) {
        std::this_thread::sleep_for(50ms);
        const auto status = ask(socket, R"({"command":"status"})");
        reloaded =
            status.is_object() && status["virtual_servers"][0]["real_servers"][0]["weight"] == 9;
    }
    CHECK(reloaded);
    stop(daemon);
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string after = text.substr(text.find("reload:"));
    INFO(after);
    std::size_t edits = 0, others = 0;
    for (std::size_t at = after.find("destination"); at != std::string::npos;
         at = after.find("destination", at + 1)) {
        if (after.compare(at - 5, 5, "edit ") == 0)
            ++edits;
        else
            ++others;
    }
    CHECK(edits == 10);
    CHECK(others == 0);
    CHECK(after.find("service") == std::string::npos);
}

TEST_CASE("healthcheckd: backup servers, then the sorry server", "[netns][daemon][backup]") {
    const std::string work = env("HC_WORK");
    const std::string server = env("HC_SERVER");
    const std::string conf = work + "/backup.conf";
    const std::string socket = work + "/backup.sock";
    const std::string log = work + "/backup.log";
    std::ofstream(conf) << "virtual_server 192.0.2.70 80 {\n"
                           "    delay_loop 0.5\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n"
                           "    sorry_server 192.0.2.99 80\n"
                           "    real_server "
                        << server
                        << " 8094 {\n        TCP_CHECK {\n            connect_timeout 1\n"
                           "        }\n    }\n"
                           "    real_server "
                        << server
                        << " 8095 {\n        backup\n        TCP_CHECK {\n"
                           "            connect_timeout 1\n        }\n    }\n}\n";
    const auto start_backend = [&](const char* port) {
        return start_http_server(server, port, work + "/backup-backend.log");
    };
    pid_t primary = start_backend("8094");
    pid_t backup = start_backend("8095");
    std::this_thread::sleep_for(700ms);
    const pid_t daemon = start_daemon(conf, socket, log);
    REQUIRE(wait_for(socket, server + ":8094", "up", 10s).has_value());
    stop(primary);
    REQUIRE(wait_for(socket, server + ":8094", "down", 10s).has_value());
    stop(backup);
    REQUIRE(wait_for(socket, server + ":8095", "down", 10s).has_value());
    std::this_thread::sleep_for(300ms);
    stop(daemon);

    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(text);
    const std::string prefix = "<6>add destination TCP 192.0.2.70:80 -> ";
    const auto primary_in = text.find(prefix + server + ":8094");
    const auto backup_in = text.find(prefix + server + ":8095");
    const auto sorry_in = text.find(prefix + "192.0.2.99:80");
    // The primary first, the backup only once it failed, the sorry server last.
    REQUIRE(primary_in != std::string::npos);
    REQUIRE(backup_in != std::string::npos);
    REQUIRE(sorry_in != std::string::npos);
    CHECK(primary_in < backup_in);
    CHECK(backup_in < sorry_in);
    CHECK(text.find("<6>delete destination TCP 192.0.2.70:80 -> " + server + ":8095") > backup_in);
}

TEST_CASE("healthcheckd: reuse_connection keeps one connection; the file limit is raised",
          "[netns][daemon][reuse]") {
    const std::string work = env("HC_WORK");
    const std::string server = env("HC_SERVER");
    const std::string conf = work + "/reuse.conf";
    const std::string socket = work + "/reuse.sock";
    std::ofstream(conf) << "virtual_server 192.0.2.12 80 {\n"
                           "    delay_loop 0.2\n    lb_algo rr\n    lb_kind NAT\n"
                           "    protocol TCP\n    real_server "
                        << server
                        << " 8080 {\n"
                           "        HTTP_GET {\n            url {\n                path /keep\n"
                           "            }\n            reuse_connection\n        }\n    }\n}\n";
    const auto syns_before = server_counter("http_syns");
    // A soft limit of 256 open files, which the daemon raises to the hard 4096.
    const pid_t daemon = spawn({"prlimit", "--nofile=256:4096", env("HC_HEALTHCHECKD"), "-f", conf,
                                "--dry-run", "--control-socket", socket},
                               work + "/reuse.log");
    REQUIRE(wait_for(socket, server + ":8080", "up", 10s).has_value());
    const auto probes = ask(socket, R"({"command":"status"})")["counters"]["probes"].get<int>();
    std::this_thread::sleep_for(2s);  // about 10 probes, every 0.2 s
    const auto status = ask(socket, R"({"command":"status"})");
    CHECK(server_state(status, server + ":8080") == "up");
    CHECK(status["counters"]["probes"].get<int>() - probes >= 5);
    CHECK(server_counter("http_syns") - syns_before == 1);  // one connection for all

    std::ifstream limits("/proc/" + std::to_string(daemon) + "/limits");
    std::string line;
    std::string open_files;
    while (std::getline(limits, line))
        if (line.starts_with("Max open files")) open_files = line;
    INFO(open_files);
    CHECK(open_files.find(" 4096 ") != std::string::npos);
    CHECK(open_files.find(" 256 ") == std::string::npos);
    stop(daemon);
}
