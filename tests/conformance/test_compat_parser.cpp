// SPDX-License-Identifier: GPL-2.0-or-later
// The ipvsadm-compatible argv parser: requests, and ipvsadm's exact messages
// and exit statuses (captured from ipvsadm 1.31 in the guest).
#include <catch2/catch.hpp>

#include "compat_parser.hpp"

using namespace ipvsctl;
using namespace ipvsctl::cli;

namespace {

NameLookup test_names() {
    NameLookup names = numeric_names();
    names.host_to_ipv4 = [](const std::string& host) -> std::optional<Address> {
        if (host == "localhost") return Address::parse("127.0.0.1");
        return std::nullopt;
    };
    names.service_to_port = [](const std::string& name, Protocol) -> std::optional<std::uint16_t> {
        if (name == "http" || name == "www") return 80;
        return std::nullopt;
    };
    return names;
}

std::vector<std::string> words(const std::string& line) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < line.size()) {
        std::size_t end = line.find(' ', start);
        if (end == std::string::npos) end = line.size();
        if (end > start) out.push_back(line.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

CompatRequest parse_ok(const std::string& line) {
    auto parsed = parse_compat(words(line), "ipvsadm", test_names());
    if (auto* exit = std::get_if<CompatExit>(&parsed)) FAIL(line << " -> " << exit->message);
    return std::get<CompatRequest>(parsed);
}

CompatExit parse_fail(const std::string& line) {
    auto parsed = parse_compat(words(line), "ipvsadm", test_names());
    REQUIRE(std::holds_alternative<CompatExit>(parsed));
    return std::get<CompatExit>(parsed);
}

}  // namespace

TEST_CASE("services, clusters and long options", "[parser]") {
    auto r = parse_ok("-A -t 10.0.0.1:80 -s rr -p 300 -M 255.255.255.0");
    CHECK(r.command == CompatCommand::AddService);
    CHECK(r.service.key == ServiceKey::tcp(*Address::parse("10.0.0.1"), 80));
    CHECK(r.service.scheduler == "rr");
    CHECK(r.service.persistent());
    CHECK(r.service.timeout == 300);
    CHECK(r.service.netmask == 0xffffff00);

    r = parse_ok("-At10.0.0.5:80 -p300");
    CHECK(r.service.key.port == 80);
    CHECK(r.service.timeout == 300);
    CHECK(r.service.scheduler == "wlc");

    r = parse_ok("-A --tcp-service=10.0.0.6:80 -p -s rr");
    CHECK(r.service.timeout == 360);
    CHECK(r.service.scheduler == "rr");

    r = parse_ok("-A -u [2001:db8::1]:53 -o -p 60 -M 64");
    CHECK(r.service.key.family == Family::Inet6);
    CHECK(r.service.key.protocol == Protocol::UDP);
    CHECK(r.service.netmask == 64);
    CHECK((r.service.flags & service_flags::one_packet) != 0);

    r = parse_ok("-A -f 7 -6 -s mh -b mh-port,mh-fallback");
    CHECK(r.service.key == ServiceKey::mark(7, Family::Inet6));
    CHECK(r.service.flags == (service_flags::mh_port | service_flags::mh_fallback));
    CHECK(r.service.netmask == 128);

    r = parse_ok("-A -t localhost:http");
    CHECK(r.service.key.address == *Address::parse("127.0.0.1"));

    r = parse_ok("-Ln");
    CHECK(r.command == CompatCommand::List);
    CHECK(r.format.numeric);

    r = parse_ok("-L --stats --exact --nosort --sort");
    CHECK((r.format.stats && r.format.exact && r.format.nosort));

    r = parse_ok("--set 10 20 30");
    CHECK(r.timeouts == Timeouts{10, 20, 30});

    r = parse_ok("-L -n --json --netns blue");
    CHECK(r.json);
    CHECK(r.netns == "blue");
}

TEST_CASE("real servers take ipvsadm's defaults", "[parser]") {
    auto r = parse_ok("-a -t 10.0.0.1:80 -r 10.1.0.1");
    CHECK(r.destination.method == ForwardMethod::Route);
    CHECK(r.destination.weight == 1);
    CHECK(r.destination.port == 80);

    r = parse_ok("-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -g");
    CHECK(r.destination.port == 80);  // direct routing keeps the service port

    r = parse_ok("-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -mw5 -x 10 -y 2");
    CHECK(r.destination.port == 8080);
    CHECK(r.destination.weight == 5);
    CHECK(r.destination.upper_threshold == 10);
    CHECK(r.destination.lower_threshold == 2);

    r = parse_ok("-a -t 10.0.0.1:80 -r 10.1.0.3 -i --tun-type gue --tun-port 6080 --tun-csum");
    CHECK(r.destination.tunnel_type == TunnelType::GUE);
    CHECK(r.destination.tunnel_port == 6080);
    CHECK(r.destination.tunnel_flags == tunnel_flags::csum);

    r = parse_ok("-a -t 10.0.0.1:80 -r [2001:db8::5]:80 -i");
    CHECK(r.destination.address.is_v6());

    r = parse_ok("-a -f 1 -r 10.1.0.3:99 -g");
    CHECK(r.destination.port == 99);
}

TEST_CASE("errors carry ipvsadm's text and status", "[parser]") {
    const auto expect = [](const std::string& line, int status, const std::string& message) {
        INFO(line);
        const CompatExit exit = parse_fail(line);
        CHECK(exit.status == status);
        CHECK(exit.message == message);
    };
    const std::string try_help = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";
    expect("--foo", 255, try_help);
    expect("-Q", 255, try_help);
    expect("-nL", 255, try_help);
    expect("--add -t 10.0.0.8:80", 255, try_help);
    expect("-A --foo", 255, "--foo: unknown option\n");
    expect("-A -t", 255, "-t: missing argument\n");
    expect("-A -t 10.0.0.1:81 -s", 255, "-s: missing argument\n");
    expect("-A -t 10.0.0.1:80 extra", 2, "unexpected argument extra\n");
    expect("-A -t 10.0.0.1:80 -- -s", 2, "unexpected argument -s\n");
    expect("-A", 2,
           "You need to supply the 'service-address' option for the 'add-service' command\n");
    expect("-a -t 10.0.0.1:80", 2,
           "You need to supply the 'real-server' option for the 'add-server' command\n");
    expect("-L -s rr", 2, "Illegal 'scheduler' option with the 'list' command\n");
    expect("-A -t 10.0.0.1", 2, "Zero port specified for non-persistent service\n");
    expect("-A -6 -f 1", 2, "-6 used before -f\n\n");
    expect("-A -f 0", 2, "invalid fwmark value `0' specified\n");
    expect("--set 1 2", 2, "--set option requires 3 timeout values\n");
    expect("--set 1 2 3 4", 2, "unexpected argument 4\n");
    expect("-Lc --stats", 2, "options conflicts in the list command\n");
    expect("-A -A", 2, "invalid option `-A'\n");
    expect("-LL", 2, "invalid option `-LL'\n");
    expect("-L -c -t 10.0.0.5:80", 2,
           "The option 'service-address' conflicts with the 'connection' option in the 'list' "
           "command\n");
    expect("-A -t nosuchhost.invalid:80", 2, "illegal virtual server address[:port] specified\n");
    expect("-A -t [2001:db8::9]:80 -p 10 -M 200", 2, "illegal ipv6 netmask specified\n");
    expect("-A -u 10.0.0.10:53 -b sh-port", 2, "incompatible scheduler flag `sh-port'\n");
    expect("-A -u 10.0.0.10:53 -b bogus", 2, "invalid scheduler flag `bogus'\n");
    expect("-a -t 10.0.0.5:80 -r 10.1.0.1 -x -1", 2, "illegal u_threshold specified\n");
    expect("-a -t 10.0.0.5:80 -r 10.1.0.1 --tun-type gue", 2,
           "Tunnel options conflict with forward method\n");
    expect("-a -t 10.0.0.5:80 -r 10.1.0.1 -i --tun-type gue", 2,
           "You need to supply the 'tun-port' option for the 'gue' tunnel type\n");
    expect("-a -t 10.0.0.5:80 -r 10.1.0.1 -i --tun-type foo", 2, "illegal tunnel type specified\n");
    expect("-a -t 10.0.0.5:80 -r 10.1.0.1 -i --tun-type gue --tun-port 1 --tun-csum --tun-nocsum",
           2,
           "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel "
           "type\n");
    expect("-a -t 10.0.0.5:80 -r [2001:db8::5] -i", 2,
           "illegal real server address[:port] specified\n");
    expect("-a -t 10.0.0.5:80 -r [2001:db8::5]:80 -m", 2,
           "Different address family is allowed only for tunneling servers\n");
    expect("--start-daemon foo", 2, "illegal start-daemon parameter specified\n");
    expect("--start-daemon master --mcast-group 10.0.0.1", 2,
           "invalid IPv4 mcast-group `10.0.0.1'\n");
    expect("-A -t 10.0.0.1:82 -s rr -s wlc", 2, "multiple 'scheduler' options specified\n");
    expect("-L -n -n", 2, "multiple 'numeric' options specified\n");
    expect("-D -t 10.0.0.1:83 -s rr", 2,
           "Illegal 'scheduler' option with the 'delete-service' command\n");
}

TEST_CASE("kernel refusals read as ipvsadm's", "[parser]") {
    CHECK(kernel_error_text(CompatCommand::AddService, EEXIST) == "Service already exists");
    CHECK(kernel_error_text(CompatCommand::AddService, ENOENT) ==
          "Scheduler or persistence engine not found");
    CHECK(kernel_error_text(CompatCommand::EditServer, ENOENT) == "No such destination");
    CHECK(kernel_error_text(CompatCommand::AddServer, ESRCH) == "Service not defined");
    CHECK(kernel_error_text(CompatCommand::StopDaemon, ESRCH) == "No daemon is running");
    CHECK(kernel_error_text(CompatCommand::AddServer, ERANGE) == "Numerical result out of range");
}
