// SPDX-License-Identifier: GPL-2.0-or-later
// Programs SERVICES x DESTS (services x real servers) through libipvsctl's
// batch API, or prints the same table as an `ipvsadm -R` file, so that
// bench/batch.sh can time both on one kernel.
//   bench_batch gen SERVICES DESTS      > table.restore
//   bench_batch apply SERVICES DESTS [REQUESTS_PER_SEND]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "ipvsctl/ipvsctl.hpp"

using namespace ipvsctl;

namespace {

/// Service i is 10.0.0.1 + i, port 80 (TCP, wrr); its real servers are
/// 172.16.0.0 + 16*i + 1..15, port 8080: both inside ranges the guest routes.
/// Consecutive VIPs spread over the kernel's 256 service-hash buckets (the
/// hash mixes in the address's last octet) the way a real table's do; VIPs
/// 256 apart would all share one bucket and make every add quadratic.
Address service_address(std::uint32_t i) {
    return Address::v4(0x0a000001u + i);
}
Address server_address(std::uint32_t i, std::uint32_t j) {
    return Address::v4(0xac100000u + i * 16 + j + 1);
}

std::vector<Operation> build(std::uint32_t services, std::uint32_t dests) {
    std::vector<Operation> ops;
    ops.reserve(services * (dests + 1));
    for (std::uint32_t i = 0; i < services; ++i) {
        Service s;
        s.key = ServiceKey::tcp(service_address(i), 80);
        s.scheduler = "wrr";
        ops.push_back(Operation::add_service(s));
        for (std::uint32_t j = 0; j < dests; ++j) {
            Destination d;
            d.address = server_address(i, j);
            d.port = 8080;
            d.method = ForwardMethod::Masquerade;
            d.weight = static_cast<std::int32_t>(1 + j);
            ops.push_back(Operation::add_destination(s.key, d));
        }
    }
    return ops;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: bench_batch gen|apply SERVICES DESTS [REQUESTS_PER_SEND]\n";
        return 2;
    }
    const std::string mode = argv[1];
    const auto services = static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10));
    const auto dests = static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10));
    if (services > 65535 || dests > 15) {
        std::cerr << "bench_batch: at most 65535 services and 15 destinations each\n";
        return 2;
    }
    const auto ops = build(services, dests);
    if (mode == "gen") {
        for (const auto& op : ops) {
            if (op.kind == OpKind::AddService)
                std::printf("-A -t %s:80 -s wrr\n", op.service.key.address.to_string().c_str());
            else
                std::printf("-a -t %s:80 -r %s -m -w %d\n",
                            op.service.key.address.to_string().c_str(),
                            op.destination.endpoint().c_str(), op.destination.weight);
        }
        return 0;
    }
    if (mode != "apply") {
        std::cerr << "bench_batch: unknown mode " << mode << "\n";
        return 2;
    }
    BatchOptions options;
    if (argc > 4) options.requests_per_send = std::strtoul(argv[4], nullptr, 10);
    auto client = Client::open();
    if (!client) {
        std::cerr << client.error().message() << "\n";
        return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    auto report = client->execute_batch(ops, options);
    const auto elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!report) {
        std::cerr << report.error().message() << "\n";
        return 1;
    }
    if (!report->ok()) {
        std::cerr << batch_error(ops, *report).message() << "\n";
        return 1;
    }
    std::cerr << "bench_batch: " << ops.size() << " requests in " << elapsed << " s\n";
    return 0;
}
