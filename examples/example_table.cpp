// SPDX-License-Identifier: GPL-2.0-or-later
// Programs a small IPVS table through libipvsctl -- a NAT web service, a DR
// service with persistence and an IPv6 service -- in one batch, reads it
// back and prints it. Run as root on a kernel with IPVS.
#include <cstdio>
#include <iostream>

#include "ipvsctl/ipvsctl.hpp"

using namespace ipvsctl;

namespace {

Destination server(const char* address, std::uint16_t port, ForwardMethod method, int weight) {
    Destination d;
    d.address = *Address::parse(address);
    d.port = port;
    d.method = method;
    d.weight = weight;
    return d;
}

}  // namespace

int main() {
    auto client = Client::open();
    if (!client) {
        std::cerr << "ipvsctl-example: " << client.error().message() << "\n";
        return 1;
    }
    Table desired;
    Service web;
    web.key = ServiceKey::tcp(*Address::parse("192.0.2.10"), 80);
    web.scheduler = "wrr";
    desired.services.push_back({web,
                                {server("10.10.0.11", 8080, ForwardMethod::Masquerade, 3),
                                 server("10.10.0.12", 8080, ForwardMethod::Masquerade, 2),
                                 server("10.10.0.13", 8080, ForwardMethod::Masquerade, 1)}});
    Service tls;
    tls.key = ServiceKey::tcp(*Address::parse("192.0.2.10"), 443);
    tls.scheduler = "sh";
    tls.flags = service_flags::persistent;
    tls.timeout = 300;
    desired.services.push_back({tls,
                                {server("10.10.0.11", 443, ForwardMethod::Route, 1),
                                 server("10.10.0.12", 443, ForwardMethod::Route, 1)}});
    Service v6;
    v6.key = ServiceKey::tcp(*Address::parse("2001:db8::10"), 80);
    v6.scheduler = "rr";
    v6.netmask = 128;
    desired.services.push_back({v6, {server("2001:db8:10::11", 80, ForwardMethod::Masquerade, 1)}});

    auto current = client->table();
    if (!current) {
        std::cerr << "ipvsctl-example: " << current.error().message() << "\n";
        return 1;
    }
    const Plan plan = make_plan(*current, desired);
    for (const auto& op : plan.operations) std::cout << "plan: " << op.describe() << "\n";
    auto applied = apply_plan(*client, plan, *current);
    if (!applied) {
        std::cerr << "ipvsctl-example: " << applied.error().message() << "\n";
        return 1;
    }
    std::cout << "applied " << applied->applied << " operations in one batch\n";

    auto info = client->info();
    auto table = client->table();
    if (!info || !table) {
        std::cerr << "ipvsctl-example: cannot read the table back\n";
        return 1;
    }
    std::cout << "IPVS " << info->version_string() << ", connection table size "
              << info->conn_table_size << "\n";
    for (const auto& entry : table->services) {
        const Service& s = entry.service;
        std::cout << s.key.to_string() << " " << s.scheduler;
        if (s.persistent()) std::cout << " persistent " << s.timeout;
        std::cout << "\n";
        for (const auto& d : entry.destinations)
            std::cout << "  -> " << d.endpoint() << " " << to_string(d.method) << " weight "
                      << d.weight << " active " << d.active_conns << " inactive "
                      << d.inactive_conns << "\n";
    }
    // Idempotent: a second plan against what is there now is empty.
    const Plan again = make_plan(*table, desired);
    std::cout << "second plan: " << again.operations.size() << " operations\n";
    return again.empty() ? 0 : 1;
}
