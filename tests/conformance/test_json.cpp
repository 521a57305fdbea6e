// SPDX-License-Identifier: GPL-2.0-or-later
// The JSON schema: everything -S drops survives a round trip; bad documents
// are refused with the path of the offending field.
#include <catch2/catch.hpp>

#include "json_document.hpp"

using namespace ipvsctl;
using namespace ipvsctl::cli;
using nlohmann::json;

namespace {

Table sample() {
    Table table;
    ServiceEntry web;
    web.service.key = ServiceKey::tcp(*Address::parse("10.0.0.1"), 80);
    web.service.scheduler = "sh";
    web.service.flags = service_flags::persistent | service_flags::sh_port;
    web.service.timeout = 60;
    web.service.netmask = 0xffffff00;
    Destination masq;
    masq.address = *Address::parse("10.1.0.1");
    masq.port = 8080;
    masq.method = ForwardMethod::Masquerade;
    masq.weight = 3;
    masq.upper_threshold = 100;
    masq.lower_threshold = 10;
    Destination gue;
    gue.address = *Address::parse("2001:db8:1::2");
    gue.port = 80;
    gue.method = ForwardMethod::Tunnel;
    gue.tunnel_type = TunnelType::GUE;
    gue.tunnel_port = 6080;
    gue.tunnel_flags = tunnel_flags::remcsum;
    web.destinations = {masq, gue};

    ServiceEntry dns;
    dns.service.key = ServiceKey::udp(*Address::parse("2001:db8::1"), 53);
    dns.service.scheduler = "rr";
    dns.service.flags = service_flags::persistent | service_flags::one_packet;
    dns.service.timeout = 30;
    dns.service.netmask = 100;
    dns.service.pe_name = "sip";

    ServiceEntry mark;
    mark.service.key = ServiceKey::mark(7, Family::Inet6);
    mark.service.scheduler = "mh";
    mark.service.netmask = 128;
    mark.service.flags = service_flags::mh_fallback;
    table.services = {web, dns, mark};
    return table;
}

}  // namespace

TEST_CASE("JSON round trip keeps every setting", "[json]") {
    const Table table = sample();
    const json document = table_to_json(table, JsonOptions{.counters = false});
    auto back = table_from_json(json::parse(document.dump()));
    REQUIRE(std::holds_alternative<Table>(back));
    const Table& read = std::get<Table>(back);
    REQUIRE(read.services.size() == table.services.size());
    for (std::size_t i = 0; i < table.services.size(); ++i) {
        INFO(table.services[i].service.key.to_string());
        CHECK(read.services[i].service.same_settings(table.services[i].service));
        REQUIRE(read.services[i].destinations.size() == table.services[i].destinations.size());
        for (std::size_t j = 0; j < table.services[i].destinations.size(); ++j)
            CHECK(
                read.services[i].destinations[j].same_settings(table.services[i].destinations[j]));
    }
    CHECK(document["services"][0]["persistence"]["netmask"] == "255.255.255.0");
    CHECK(document["services"][0]["destinations"][1]["tunnel"]["checksum"] == "remcsum");
}

TEST_CASE("counters are printed and ignored on input", "[json]") {
    Table table = sample();
    table.services[0].service.stats.conns = 42;
    const json document = table_to_json(table, JsonOptions{});
    CHECK(document["services"][0]["stats"]["conns"] == 42);
    CHECK(document["services"][0]["destinations"][0].contains("active_conns"));
    CHECK(std::holds_alternative<Table>(table_from_json(document)));
}

TEST_CASE("bad documents name the offending field", "[json]") {
    const auto problem = [](const std::string& text) {
        auto result = table_from_json(json::parse(text));
        REQUIRE(std::holds_alternative<JsonProblem>(result));
        return std::get<JsonProblem>(result).message();
    };
    CHECK(problem("[]") == "document: must be a JSON object");
    CHECK(problem("{}") == "document: has no \"services\"");
    CHECK(problem(R"({"services": [{"protocol": "icmp", "address": "10.0.0.1", "port": 1}]})") ==
          "services[0].protocol: 'icmp' is not tcp, udp or sctp");
    CHECK(problem(R"({"services": [{"protocol": "tcp", "address": "10.0.0.x", "port": 1}]})") ==
          "services[0].address: '10.0.0.x' is not an IPv4 or IPv6 address");
    CHECK(problem(R"({"services": [{"protocol": "tcp", "address": "10.0.0.1", "port": 1,
        "destinations": [{"address": "10.1.0.1", "weight": -4}]}]})") ==
          "services[0].destinations[0].weight: must be a non-negative integer");
    CHECK(problem(R"({"services": [{"fwmark": 1, "destinations": [{"address": "10.1.0.1",
        "forward": "tunnel", "tunnel": {"type": "gue"}}]}]})") ==
          "services[0].destinations[0].tunnel.port: is required for a gue tunnel");
    CHECK(problem(R"({"services": [{"fwmark": 1}, {"fwmark": 1}]})") ==
          "services[1]: duplicate service FWM 1");
}
