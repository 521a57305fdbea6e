// SPDX-License-Identifier: GPL-2.0-or-later
// The formatters against output of the real ipvsadm 1.31, captured in the
// guest (golden/*.txt) for the table built here.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "listing.hpp"

using namespace ipvsctl;
using namespace ipvsctl::cli;

namespace {

std::string golden(const std::string& name) {
    std::ifstream in(std::string(IPVSCTL_CLI_GOLDEN_DIR) + "/" + name);
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

Destination dest(const char* address, std::uint16_t port, ForwardMethod method, int weight) {
    Destination d;
    d.address = *Address::parse(address);
    d.port = port;
    d.method = method;
    d.weight = weight;
    return d;
}

/// The table that tests/vm probed with ipvsadm (see golden/).
Table probed_table() {
    Table table;
    ServiceEntry tcp;
    tcp.service.key = ServiceKey::tcp(*Address::parse("10.0.0.1"), 80);
    tcp.service.scheduler = "wlc";
    auto masq = dest("10.1.0.1", 8080, ForwardMethod::Masquerade, 3);
    masq.upper_threshold = 100;
    masq.lower_threshold = 10;
    auto gue = dest("10.1.0.3", 80, ForwardMethod::Tunnel, 1);
    gue.tunnel_type = TunnelType::GUE;
    gue.tunnel_port = 6080;
    gue.tunnel_flags = tunnel_flags::csum;
    // Kernel order differs from listing order: the formatter sorts.
    tcp.destinations = {gue, masq, dest("10.1.0.2", 80, ForwardMethod::Route, 0)};

    ServiceEntry udp6;
    udp6.service.key = ServiceKey::udp(*Address::parse("2001:db8::1"), 53);
    udp6.service.scheduler = "rr";
    udp6.service.flags = service_flags::persistent;
    udp6.service.timeout = 60;
    udp6.service.netmask = 64;
    udp6.destinations = {dest("2001:db8:1::5", 53, ForwardMethod::Masquerade, 1)};

    ServiceEntry mark7;
    mark7.service.key = ServiceKey::mark(7);
    mark7.service.scheduler = "mh";
    mark7.service.flags = service_flags::mh_port;
    mark7.destinations = {dest("10.1.0.9", 0, ForwardMethod::Route, 1)};

    ServiceEntry mark8;
    mark8.service.key = ServiceKey::mark(8, Family::Inet6);
    mark8.service.scheduler = "wrr";
    mark8.service.netmask = 128;

    ServiceEntry sctp;
    sctp.service.key = ServiceKey::sctp(*Address::parse("10.0.0.3"), 3868);
    sctp.service.scheduler = "lc";

    table.services = {mark8, udp6, tcp, mark7, sctp};
    return table;
}

Info probed_info() {
    Info info;
    info.version = 0x010201;
    info.conn_table_size = 4096;
    return info;
}

/// Services known to /etc/services in the guest; no host names.
NameLookup guest_names() {
    NameLookup names = numeric_names();
    names.port_to_service = [](std::uint16_t port,
                               Protocol protocol) -> std::optional<std::string> {
        if (port == 80 && protocol != Protocol::SCTP) return "http";
        if (port == 8080 && protocol == Protocol::TCP) return "http-alt";
        if (port == 53 && protocol != Protocol::SCTP) return "domain";
        return std::nullopt;
    };
    return names;
}

ListFormat numeric() {
    ListFormat format;
    format.numeric = true;
    return format;
}

}  // namespace

TEST_CASE("listings match ipvsadm 1.31 byte for byte", "[listing]") {
    const Table table = probed_table();
    const Info info = probed_info();
    const NameLookup names = numeric_names();

    CHECK(format_table(info, table, numeric(), names) == golden("list_n.txt"));
    ListFormat format = numeric();
    format.rule = true;
    CHECK(format_table(info, table, format, names) == golden("save_n.txt"));
    format = numeric();
    format.stats = true;
    CHECK(format_table(info, table, format, names) == golden("list_stats.txt"));
    format.exact = true;
    CHECK(format_table(info, table, format, names) == golden("list_stats.txt"));
    format = numeric();
    format.rate = true;
    CHECK(format_table(info, table, format, names) == golden("list_rate.txt"));
    format = numeric();
    format.thresholds = true;
    CHECK(format_table(info, table, format, names) == golden("list_thresholds.txt"));
    format = numeric();
    format.persistent_conn = true;
    CHECK(format_table(info, table, format, names) == golden("list_persistent_conn.txt"));
    format = numeric();
    format.tun_info = true;
    CHECK(format_table(info, table, format, names) == golden("list_tun_info.txt"));
    CHECK(format_table(info, table, ListFormat{}, guest_names()) == golden("list_names.txt"));
}

TEST_CASE("one service, timeouts, daemons and connections", "[listing]") {
    const Table table = sorted_like_ipvsadm(probed_table(), ListFormat{});
    const ServiceEntry* tcp = table.find(ServiceKey::tcp(*Address::parse("10.0.0.1"), 80));
    REQUIRE(tcp != nullptr);
    CHECK(format_one_service(*tcp, numeric(), numeric_names()) == golden("list_one_service.txt"));
    CHECK(format_timeouts(Timeouts{900, 120, 300}) == golden("timeouts.txt"));

    SyncDaemon master;
    master.state = SyncState::Master;
    master.interface = "lo";
    master.sync_id = 5;
    master.max_len = 1472;
    master.group = Address::parse("224.0.0.81");
    master.port = 8848;
    master.ttl = 1;
    CHECK(format_daemons({master}) == golden("daemons.txt"));
    CHECK(format_daemons({}).empty());

    CHECK(format_connections(golden("connections_proc.txt"), numeric(), numeric_names()) ==
          golden("connections_n.txt"));
}

TEST_CASE("large numbers are abbreviated unless exact", "[listing]") {
    Table table;
    ServiceEntry entry;
    entry.service.key = ServiceKey::tcp(*Address::parse("10.0.0.1"), 80);
    entry.service.stats.conns = 123456789;
    entry.service.stats.in_packets = 1234567890123ULL;
    entry.service.stats.out_bytes = 99999999;
    table.services = {entry};
    ListFormat format = numeric();
    format.stats = true;
    const std::string text = format_table(Info{}, table, format, numeric_names());
    CHECK(text.find(
              "TCP  10.0.0.1:80                   123456K    1234G        0        0 99999999\n") !=
          std::string::npos);
    format.exact = true;
    CHECK(format_table(Info{}, table, format, numeric_names())
              .find("TCP  10.0.0.1:80                  123456789 1234567890123        0        0 "
                    "99999999\n") != std::string::npos);
}

TEST_CASE("sorting keeps ipvsadm's 32-bit wrap-around", "[listing]") {
    Table table;
    for (const char* address : {"192.168.0.1", "10.0.0.1", "172.16.0.1"}) {
        ServiceEntry entry;
        entry.service.key = ServiceKey::tcp(*Address::parse(address), 80);
        table.services.push_back(entry);
    }
    const Table sorted = sorted_like_ipvsadm(table, ListFormat{});
    // 10.x - 172.x and 10.x - 192.x wrap to positive ints, 192.x - 10.x to a
    // negative one: under glibc's merge sort 10.x ends up last.
    std::vector<std::string> order;
    for (const auto& entry : sorted.services)
        order.push_back(entry.service.key.address.to_string());
    CHECK(order == std::vector<std::string>{"172.16.0.1", "192.168.0.1", "10.0.0.1"});
}
