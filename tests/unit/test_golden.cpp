// SPDX-License-Identifier: GPL-2.0-or-later
// Replies captured once from a real kernel (Debian 6.1, see
// tests/vm/capture_golden.cpp) decode to the table that produced them.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "wire.hpp"

using namespace ipvsctl;

namespace {

/// Reads a .hex golden file: hex bytes, datagrams separated by "." lines.
std::vector<wire::Bytes> load(const std::string& name) {
    std::ifstream in(std::string(GOLDEN_DIR) + "/" + name + ".hex");
    REQUIRE(in.good());
    std::vector<wire::Bytes> datagrams(1);
    for (std::string line; std::getline(in, line);) {
        if (line == ".") {
            datagrams.emplace_back();
            continue;
        }
        for (std::size_t i = 0; i + 1 < line.size(); i += 2)
            datagrams.back().push_back(
                static_cast<std::uint8_t>(std::stoul(line.substr(i, 2), nullptr, 16)));
    }
    if (datagrams.back().empty()) datagrams.pop_back();
    return datagrams;
}

/// Every non-control message of every datagram.
/// Messages are views: refuse temporaries whose bytes would die first.
std::vector<wire::Message> payload_messages(std::vector<wire::Bytes>&&) = delete;
std::vector<wire::Message> payload_messages(const std::vector<wire::Bytes>& datagrams) {
    std::vector<wire::Message> result;
    for (const auto& d : datagrams) {
        bool malformed = true;
        for (const auto& m : wire::split_messages(d, &malformed))
            if (m.type >= 16) result.push_back(m);  // not NLMSG_NOOP/ERROR/DONE
        CHECK_FALSE(malformed);
    }
    return result;
}

}  // namespace

TEST_CASE("golden: service dump") {
    const auto datagrams = load("services_dump");
    const auto messages = payload_messages(datagrams);
    REQUIRE(messages.size() == 3);
    std::map<std::string, Service> services;
    for (const auto& m : messages) {
        auto s = wire::decode_service_message(m);
        REQUIRE(s.ok());
        services[s->key.to_string()] = *s;
    }
    const Service& web = services.at("TCP 192.0.2.80:80");
    CHECK(web.scheduler == "wrr");
    CHECK(web.persistent());
    CHECK(web.timeout == 300);
    CHECK(web.netmask == 0xffffff00);
    const Service& dns = services.at("UDP [2001:db8::53]:53");
    CHECK(dns.scheduler == "sh");
    CHECK(dns.flags == (service_flags::one_packet | service_flags::sh_port));
    CHECK(dns.netmask == 128);
    const Service& mark = services.at("FWM 42");
    CHECK(mark.scheduler == "rr");
    CHECK(mark.key.family == Family::Inet);
}

TEST_CASE("golden: destination dumps, IPv4 with tunnel and thresholds, IPv6") {
    const auto web_datagrams = load("dests_web_dump");
    const auto web = payload_messages(web_datagrams);
    REQUIRE(web.size() == 2);
    std::map<std::string, Destination> dests;
    for (const auto& m : web) {
        auto d = wire::decode_destination_message(m, Family::Inet);
        REQUIRE(d.ok());
        dests[d->endpoint()] = *d;
    }
    const Destination& nat = dests.at("198.51.100.1:8080");
    CHECK(nat.method == ForwardMethod::Masquerade);
    CHECK(nat.weight == 3);
    CHECK(nat.upper_threshold == 200);
    CHECK(nat.lower_threshold == 20);
    const Destination& gue = dests.at("198.51.100.2:80");
    CHECK(gue.method == ForwardMethod::Tunnel);
    CHECK(gue.tunnel_type == TunnelType::GUE);
    CHECK(gue.tunnel_port == 6080);
    CHECK(gue.tunnel_flags == tunnel_flags::csum);

    const auto dns_datagrams = load("dests_dns_dump");
    const auto dns = payload_messages(dns_datagrams);
    REQUIRE(dns.size() == 1);
    auto v6 = wire::decode_destination_message(dns[0], Family::Inet6);
    REQUIRE(v6.ok());
    CHECK(v6->endpoint() == "[2001:db8:1::1]:53");
    CHECK(v6->method == ForwardMethod::Route);
    CHECK(v6->weight == 0);
}

TEST_CASE("golden: sync daemon, info, timeouts and an error ack") {
    const auto daemons_datagrams = load("daemons_dump");
    const auto daemons = payload_messages(daemons_datagrams);
    REQUIRE(daemons.size() == 1);
    auto daemon = wire::decode_daemon_message(daemons[0]);
    REQUIRE(daemon.ok());
    CHECK(daemon->state == SyncState::Master);
    CHECK(daemon->interface == "lo");
    CHECK(daemon->sync_id == 7);
    CHECK(daemon->port == 8848);  // the kernel's default, in host order
    CHECK(daemon->ttl == 1);
    CHECK(daemon->group == Address::parse("224.0.0.81"));

    const auto info_datagrams = load("info_reply");
    const auto info = payload_messages(info_datagrams);
    REQUIRE(info.size() == 1);
    auto decoded = wire::decode_info_message(info[0]);
    REQUIRE(decoded.ok());
    CHECK(decoded->version_string() == "1.2.1");
    CHECK(decoded->conn_table_size == 4096);

    const auto timeouts_datagrams = load("timeouts_reply");
    const auto timeouts = payload_messages(timeouts_datagrams);
    REQUIRE(timeouts.size() == 1);
    CHECK(*wire::decode_timeouts_message(timeouts[0]) == Timeouts{900, 120, 300});

    const auto ack_datagrams = load("add_duplicate_ack");
    REQUIRE(ack_datagrams.size() == 1);
    const auto messages = wire::split_messages(ack_datagrams[0], nullptr);
    REQUIRE(messages.size() == 1);
    const auto ack = wire::decode_ack(messages[0]);
    REQUIRE(ack);
    CHECK(ack->errnum == EEXIST);
}

TEST_CASE("golden: our requests decode like the kernel's replies") {
    // The kernel's reply for the web service, re-encoded as a request by us
    // and decoded again, carries the same settings.
    const auto messages_datagrams = load("services_dump");
    const auto messages = payload_messages(messages_datagrams);
    for (const auto& m : messages) {
        auto s = wire::decode_service_message(m);
        REQUIRE(s.ok());
        wire::Bytes request;
        REQUIRE(wire::append_operation(request, 0x20, 1, Operation::add_service(*s)).ok());
        const auto again = wire::split_messages(request, nullptr);
        REQUIRE(again.size() == 1);
        auto back = wire::decode_service_message(again[0]);
        REQUIRE(back.ok());
        CHECK(back->same_settings(*s));
    }
}
