// SPDX-License-Identifier: GPL-2.0-or-later
// Captures the real kernel's replies to a known IPVS table as hex files, the
// golden bytes that unit tests decode without a kernel. Run in the guest:
//   tests/vm/vmrun -- build/bin/capture_golden tests/unit/golden
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "ipvsctl/ipvsctl.hpp"

using namespace ipvsctl;

namespace {

std::vector<std::vector<std::uint8_t>> received;

void save(const std::string& dir, const std::string& name) {
    std::ofstream out(dir + "/" + name + ".hex");
    for (const auto& datagram : received) {
        for (std::size_t i = 0; i < datagram.size(); ++i) {
            char hex[4];
            std::snprintf(hex, sizeof(hex), "%02x", datagram[i]);
            out << hex << ((i % 32 == 31) ? "\n" : "");
        }
        out << "\n.\n";  // datagram separator
    }
    received.clear();
}

void check(const Result<void>& r) {
    if (!r) {
        std::cerr << r.error().message() << "\n";
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: capture_golden DIR\n";
        return 2;
    }
    const std::string dir = argv[1];
    ClientOptions options;
    options.trace = [](bool outgoing, std::span<const std::uint8_t> bytes) {
        if (!outgoing) received.emplace_back(bytes.begin(), bytes.end());
    };
    auto client = Client::open(options);
    if (!client) {
        std::cerr << client.error().message() << "\n";
        return 1;
    }
    check(client->flush());
    Service web;
    web.key = ServiceKey::tcp(*Address::parse("192.0.2.80"), 80);
    web.scheduler = "wrr";
    web.flags = service_flags::persistent;
    web.timeout = 300;
    web.netmask = 0xffffff00;
    check(client->add_service(web));
    Service dns;
    dns.key = ServiceKey::udp(*Address::parse("2001:db8::53"), 53);
    dns.scheduler = "sh";
    dns.flags = service_flags::one_packet | service_flags::sh_port;
    dns.netmask = 128;
    check(client->add_service(dns));
    Service mark;
    mark.key = ServiceKey::mark(42);
    mark.scheduler = "rr";
    check(client->add_service(mark));

    Destination nat;
    nat.address = *Address::parse("198.51.100.1");
    nat.port = 8080;
    nat.method = ForwardMethod::Masquerade;
    nat.weight = 3;
    nat.upper_threshold = 200;
    nat.lower_threshold = 20;
    check(client->add_destination(web.key, nat));
    Destination gue;
    gue.address = *Address::parse("198.51.100.2");
    gue.port = 80;
    gue.method = ForwardMethod::Tunnel;
    gue.tunnel_type = TunnelType::GUE;
    gue.tunnel_port = 6080;
    gue.tunnel_flags = tunnel_flags::csum;
    check(client->add_destination(web.key, gue));
    Destination v6;
    v6.address = *Address::parse("2001:db8:1::1");
    v6.port = 53;
    v6.method = ForwardMethod::Route;
    v6.weight = 0;
    check(client->add_destination(dns.key, v6));
    SyncDaemon daemon;
    daemon.interface = "lo";
    daemon.sync_id = 7;
    check(client->start_daemon(daemon));
    received.clear();

    (void)client->services();
    save(dir, "services_dump");
    (void)client->destinations(web.key);
    save(dir, "dests_web_dump");
    (void)client->destinations(dns.key);
    save(dir, "dests_dns_dump");
    (void)client->daemons();
    save(dir, "daemons_dump");
    (void)client->info();
    save(dir, "info_reply");
    (void)client->timeouts();
    save(dir, "timeouts_reply");
    (void)client->add_service(web);
    save(dir, "add_duplicate_ack");
    check(client->stop_daemon(SyncState::Master));
    check(client->flush());
    std::cout << "captured into " << dir << "\n";
    return 0;
}
