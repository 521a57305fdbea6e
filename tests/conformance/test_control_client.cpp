// SPDX-License-Identifier: GPL-2.0-or-later
// ipvsctl vrrp/check against a fake daemon: a thread on a real Unix socket
// answering canned JSON lines, recording what the client asked.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "control_client.hpp"

using namespace ipvsctl::cli;

namespace {

/// Listens on a fresh socket path; answers each request line with
/// `answer(request_line)` (an empty answer closes without replying).
class FakeDaemon {
  public:
    explicit FakeDaemon(std::function<std::string(const std::string&)> answer)
        : answer_(std::move(answer)) {
        char dir_template[] = "/tmp/ipvsctl-control-test.XXXXXX";
        dir_ = ::mkdtemp(dir_template);
        path_ = dir_ + "/daemon.sock";
        listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, path_.c_str());
        REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(listener_, 8) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeDaemon() {
        ::shutdown(listener_, SHUT_RDWR);
        thread_.join();
        ::close(listener_);
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }
    FakeDaemon(const FakeDaemon&) = delete;
    FakeDaemon& operator=(const FakeDaemon&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }
    std::vector<nlohmann::json> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

  private:
    void serve() {
        while (true) {
            const int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0) return;
            std::string line;
            char c = 0;
            while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(nlohmann::json::parse(line));
            }
            std::string reply = answer_(line);
            // Canned replies are written across lines for reading; a daemon sends one line.
            if (auto parsed = nlohmann::json::parse(reply, nullptr, false); !parsed.is_discarded())
                reply = parsed.dump();
            if (!reply.empty()) {
                const std::string out = reply + "\n";
                REQUIRE(::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size()));
            }
            ::close(fd);
        }
    }

    std::function<std::string(const std::string&)> answer_;
    std::string dir_;
    std::string path_;
    int listener_ = -1;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<nlohmann::json> requests_;
};

const char* const kVrrpReply = R"({"ok":true,"instances":[{"instance":"VI_1","interface":"eth0",
"vrid":51,"family":"inet","version":3,"state":"MASTER","priority":200,"effective_priority":190,
"source":"192.0.2.2","virtual_addresses":["192.0.2.100/24","192.0.2.101/32 dev eth1"],
"master_address":"192.0.2.2","advert_interval_cs":100,"master_adver_interval_cs":100,
"master_down_interval_cs":322,"counters":{"adverts_received":3,"adverts_sent":17,
"priority_zero_received":0,"priority_zero_sent":0,"transitions":2,"became_master":1,
"send_errors":0,"address_errors":0,"rejected":{"bad_ttl":2,"bad_auth":0},"rejected_total":2},
"last_transition":{"from":"BACKUP","to":"MASTER","why":"master down timer expired",
"seconds_ago":12.34}}]})";

const char* const kCheckReply = R"({"ok":true,"counters":{"probes":40,"transitions":1,
"reconciles":2,"operations_applied":3,"apply_failures":0},"probe_targets":2,
"virtual_servers":[{"service":"192.0.2.1:80/tcp","quorum":true,"real_servers":[
{"server":"10.0.0.1:80","state":"UP","weight":5,"backup":false,"down":false,"checkers":[
{"type":"TCP_CHECK","state":"UP","consecutive_failures":0,"consecutive_successes":9,
"last":"connected"}]},{"server":"10.0.0.2:80","state":"DOWN","weight":0,"backup":false,
"down":false,"checkers":[{"type":"HTTP_GET","state":"DOWN","consecutive_failures":3,
"consecutive_successes":0,"last":"status 503"}]}]},
{"service":"fwmark 7/inet","quorum":false,"real_servers":[]}]})";

struct Captured {
    std::ostringstream out;
    std::ostringstream err;
    ControlIo io(const std::string& socket, bool json = false) {
        return ControlIo{socket, json, out, err};
    }
};

}  // namespace

TEST_CASE("vrrp status prints a table per instance", "[control]") {
    FakeDaemon daemon([](const std::string&) { return std::string(kVrrpReply); });
    Captured c;
    REQUIRE(vrrp_status(c.io(daemon.path())) == 0);
    CHECK(daemon.requests().at(0) == nlohmann::json{{"command", "status"}});
    const std::string out = c.out.str();
    CHECK(out.find("Instance VI_1 (vrid 51, eth0, inet, VRRPv3)\n") == 0);
    CHECK(out.find("  state               MASTER\n") != std::string::npos);
    CHECK(out.find("  priority            200\n") != std::string::npos);
    CHECK(out.find("  effective priority  190\n") != std::string::npos);
    CHECK(out.find("  master address      192.0.2.2\n") != std::string::npos);
    CHECK(out.find("  virtual addresses   192.0.2.100/24 192.0.2.101/32 dev eth1\n") !=
          std::string::npos);
    CHECK(out.find("  adverts             received 3, sent 17\n") != std::string::npos);
    CHECK(out.find("  rejected adverts    2 (bad_ttl 2)\n") != std::string::npos);
    CHECK(out.find("  last transition     BACKUP -> MASTER, 12.3 s ago (master down timer "
                   "expired)\n") != std::string::npos);
    CHECK(c.err.str().empty());
}

TEST_CASE("vrrp status --json prints the daemon's reply", "[control]") {
    FakeDaemon daemon([](const std::string&) { return std::string(kVrrpReply); });
    Captured c;
    REQUIRE(vrrp_status(c.io(daemon.path(), true)) == 0);
    CHECK(nlohmann::json::parse(c.out.str()) == nlohmann::json::parse(kVrrpReply));
}

TEST_CASE("vrrp status: no instances", "[control]") {
    FakeDaemon daemon([](const std::string&) { return R"({"ok":true,"instances":[]})"; });
    Captured c;
    REQUIRE(vrrp_status(c.io(daemon.path())) == 0);
    CHECK(c.out.str() == "no VRRP instances\n");
}

TEST_CASE("a refusal or an unreachable daemon exits 1 naming the socket", "[control]") {
    SECTION("refused") {
        FakeDaemon daemon(
            [](const std::string&) { return R"({"ok":false,"error":"unknown command"})"; });
        Captured c;
        CHECK(vrrp_status(c.io(daemon.path())) == 1);
        CHECK(c.err.str() ==
              "ipvsctl vrrp status: " + daemon.path() + " refused: unknown command\n");
        CHECK(c.out.str().empty());
    }
    SECTION("not running") {
        Captured c;
        CHECK(check_status(c.io("/nonexistent/healthcheckd.sock")) == 1);
        CHECK(c.err.str().find("cannot connect to /nonexistent/healthcheckd.sock") !=
              std::string::npos);
    }
    SECTION("closes without a reply") {
        FakeDaemon daemon([](const std::string&) { return std::string(); });
        Captured c;
        CHECK(vrrp_status(c.io(daemon.path())) == 1);
        CHECK(c.err.str().find("closed the connection without a reply") != std::string::npos);
    }
    SECTION("answers garbage") {
        FakeDaemon daemon([](const std::string&) { return std::string("hello"); });
        Captured c;
        CHECK(vrrp_status(c.io(daemon.path())) == 1);
        CHECK(c.err.str().find("is not JSON") != std::string::npos);
    }
}

TEST_CASE("check status prints each virtual server's real servers", "[control]") {
    FakeDaemon daemon([](const std::string&) { return std::string(kCheckReply); });
    Captured c;
    REQUIRE(check_status(c.io(daemon.path())) == 0);
    CHECK(c.out.str() ==
          "probes 40, transitions 1, reconciles 2, operations applied 3, apply failures 0, "
          "probe targets 2\n"
          "\n"
          "Virtual server 192.0.2.1:80/tcp\n"
          "  SERVER       STATE  WEIGHT  CHECKERS\n"
          "  10.0.0.1:80  UP     5       TCP_CHECK UP: connected\n"
          "  10.0.0.2:80  DOWN   0       HTTP_GET DOWN (3 failed): status 503\n"
          "\n"
          "Virtual server fwmark 7/inet  (quorum lost: sorry server in use)\n"
          "  SERVER  STATE  WEIGHT  CHECKERS\n");
}

TEST_CASE("service and server arguments", "[control]") {
    auto service = [](const char* text) {
        auto parsed = parse_check_service(text);
        return std::holds_alternative<CheckService>(parsed)
                   ? std::get<CheckService>(parsed).canonical + " | " +
                         std::get<CheckService>(parsed).status_key
                   : "error: " + std::get<std::string>(parsed);
    };
    CHECK(service("tcp:192.0.2.1:80") == "tcp:192.0.2.1:80 | 192.0.2.1:80/tcp");
    CHECK(service("udp:192.0.2.1:53") == "udp:192.0.2.1:53 | 192.0.2.1:53/udp");
    CHECK(service("sctp:[2001:DB8::1]:80") == "sctp:[2001:db8::1]:80 | [2001:db8::1]:80/sctp");
    CHECK(service("fwmark:7") == "fwmark:7 | fwmark 7/");
    CHECK(service("fwmark:0") == "error: fwmark '0' is not a number 1-4294967295");
    CHECK(service("fwmark:x") == "error: fwmark 'x' is not a number 1-4294967295");
    CHECK(service("icmp:1.2.3.4:1") == "error: protocol 'icmp' is not tcp, udp, sctp or fwmark");
    CHECK(service("192.0.2.1:80").rfind("error: protocol '192.0.2.1'", 0) == 0);
    CHECK(service("tcp") ==
          "error: expected tcp:ADDR:PORT, udp:ADDR:PORT, sctp:ADDR:PORT or fwmark:N");
    CHECK(service("tcp:192.0.2.1:65536") == "error: port '65536' is not 0-65535");
    CHECK(service("tcp:192.0.2.1") == "error: expected ADDR:PORT");
    CHECK(service("tcp:2001:db8::1:80") == "error: an IPv6 address needs brackets: [ADDR]:PORT");
    CHECK(service("tcp:[192.0.2.1]:80") == "error: '192.0.2.1' is not an IPv6 address");
    CHECK(service("tcp:[2001:db8::1]80") == "error: expected [IPV6]:PORT");
    CHECK(service("tcp:host.example:80") == "error: 'host.example' is not an IPv4 address");

    auto server = [](const char* text) {
        auto parsed = parse_check_server(text);
        return std::holds_alternative<CheckServer>(parsed)
                   ? std::get<CheckServer>(parsed).canonical
                   : "error: " + std::get<std::string>(parsed);
    };
    CHECK(server("10.0.0.1:80") == "10.0.0.1:80");
    CHECK(server("[2001:db8:0::0002]:8080") == "[2001:db8::2]:8080");
    CHECK(server("10.0.0.1") == "error: expected ADDR:PORT");
    CHECK(server("10.0.0.1:") == "error: port '' is not 0-65535");
}

TEST_CASE("check drain sends the protocol's request", "[control]") {
    FakeDaemon daemon([](const std::string&) { return R"({"ok":true,"state":"draining"})"; });
    Captured c;
    REQUIRE(check_drain(c.io(daemon.path()), "tcp:192.0.2.1:80", "10.0.0.1:80",
                        DrainOptions{.timeout_seconds = 300}) == 0);
    CHECK(daemon.requests().at(0) == nlohmann::json{{"command", "drain"},
                                                    {"service", "tcp:192.0.2.1:80"},
                                                    {"server", "10.0.0.1:80"},
                                                    {"timeout", 300}});
    CHECK(c.out.str() == "10.0.0.1:80 in tcp:192.0.2.1:80: draining\n");

    Captured no_timeout;
    REQUIRE(check_drain(no_timeout.io(daemon.path()), "tcp:[2001:db8::1]:80", "[2001:db8::5]:80",
                        DrainOptions{}) == 0);
    CHECK(daemon.requests().at(1) == nlohmann::json{{"command", "drain"},
                                                    {"service", "tcp:[2001:db8::1]:80"},
                                                    {"server", "[2001:db8::5]:80"}});
}

TEST_CASE("check drain/undrain: bad arguments exit 2 and send nothing", "[control]") {
    FakeDaemon daemon([](const std::string&) { return R"({"ok":true,"state":"draining"})"; });
    Captured c;
    CHECK(check_drain(c.io(daemon.path()), "tcp:192.0.2.1", "10.0.0.1:80", DrainOptions{}) == 2);
    CHECK(c.err.str() == "ipvsctl check drain: bad SERVICE 'tcp:192.0.2.1': expected ADDR:PORT\n");
    Captured u;
    CHECK(check_undrain(u.io(daemon.path()), "fwmark:3", "10.0.0.1") == 2);
    CHECK(u.err.str() == "ipvsctl check undrain: bad SERVER '10.0.0.1': expected ADDR:PORT\n");
    CHECK(daemon.requests().empty());
}

TEST_CASE("check undrain and a refused drain", "[control]") {
    FakeDaemon daemon([](const std::string& line) {
        const auto request = nlohmann::json::parse(line);
        if (request["command"] == "undrain") return std::string(R"({"ok":true,"state":"up"})");
        return std::string(R"({"ok":false,"error":"no real server 10.0.0.9:80 in that service"})");
    });
    Captured u;
    REQUIRE(check_undrain(u.io(daemon.path()), "fwmark:3", "10.0.0.1:80") == 0);
    CHECK(daemon.requests().at(0) == nlohmann::json{{"command", "undrain"},
                                                    {"service", "fwmark:3"},
                                                    {"server", "10.0.0.1:80"}});
    CHECK(u.out.str() == "10.0.0.1:80 in fwmark:3: up\n");
    Captured d;
    CHECK(check_drain(d.io(daemon.path()), "tcp:192.0.2.1:80", "10.0.0.9:80", DrainOptions{}) == 1);
    CHECK(d.err.str() == "ipvsctl check drain: " + daemon.path() +
                             " refused: no real server 10.0.0.9:80 in that service\n");
}

TEST_CASE("check drain --wait polls status until the server is gone", "[control]") {
    int statuses = 0;
    FakeDaemon daemon([&statuses](const std::string& line) {
        const auto request = nlohmann::json::parse(line);
        if (request["command"] == "drain") return std::string(R"({"ok":true,"state":"draining"})");
        // Listed as draining twice, then gone from the service.
        ++statuses;
        if (statuses <= 2)
            return std::string(
                R"({"ok":true,"virtual_servers":[{"service":"fwmark 3/inet","real_servers":[
                {"server":"10.0.0.1:80","state":"draining"}]}]})");
        return std::string(
            R"({"ok":true,"virtual_servers":[{"service":"fwmark 3/inet","real_servers":[]}]})");
    });
    Captured c;
    REQUIRE(check_drain(c.io(daemon.path()), "fwmark:3", "10.0.0.1:80",
                        DrainOptions{.timeout_seconds = 5,
                                     .wait = true,
                                     .poll_interval = std::chrono::milliseconds(1)}) == 0);
    CHECK(statuses == 3);
    CHECK(c.out.str() == "10.0.0.1:80 in fwmark:3: draining\n10.0.0.1:80 in fwmark:3: gone\n");
}
