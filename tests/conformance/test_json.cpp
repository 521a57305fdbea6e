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

namespace {

using Read = std::variant<Table, JsonProblem, JsonSyntaxError>;

std::string outcome(const Read& read) {
    if (const auto* table = std::get_if<Table>(&read))
        return "table " + table_to_json(*table, JsonOptions{.counters = false}).dump();
    if (const auto* problem = std::get_if<JsonProblem>(&read))
        return "problem " + problem->message();
    return "syntax " + std::get<JsonSyntaxError>(read).what;
}

/// What the streaming reader makes of `text`, checked against nlohmann's
/// lexer driving the same handler.
std::string read(const std::string& text) {
    const std::string fast = outcome(read_table_json(text));
    CHECK(fast == outcome(read_table_json_nlohmann(text)));
    return fast;
}

std::string problem_of(const std::string& text) {
    const std::string result = read(text);
    return result.rfind("problem ", 0) == 0 ? result.substr(8) : "not a problem: " + result;
}

}  // namespace

TEST_CASE("the streaming reader reads what -L --json prints", "[json]") {
    const Table table = sample();
    const std::string text = table_to_json(table, JsonOptions{}).dump(2);
    const Read back = read_table_json(text);
    REQUIRE(std::holds_alternative<Table>(back));
    CHECK(outcome(back) == outcome(Read{table}));
    CHECK(read(text) == outcome(Read{table}));
}

TEST_CASE("syntax errors are nlohmann's words, with line and column", "[json]") {
    const std::string text = "{\"services\": [\n  {\"fwmark\": 1,}\n]}";
    const Read result = read_table_json(text);
    REQUIRE(std::holds_alternative<JsonSyntaxError>(result));
    try {
        const json parsed = json::parse(text);
        CHECK(parsed.is_null());
        FAIL("nlohmann accepted it");
    } catch (const json::parse_error& e) {
        CHECK(std::get<JsonSyntaxError>(result).what == e.what());
    }
    CHECK(std::get<JsonSyntaxError>(result).what.find("line 2, column 16") != std::string::npos);
    // A syntax error after a schema problem is still the one reported.
    CHECK(read(R"({"services": [{"protocol": "icmp"}], )").rfind("syntax ", 0) == 0);
    for (const std::string bad :
         {"", " ", "{", "{\"services\": []} {}", "{\"services\": [01]}", "{\"services\": [1.]}",
          "{\"services\": [-]}", "{\"services\": [tru]}", "{\"services\": [\"\\x\"]}",
          "{\"services\": [\"\\ud800\"]}", "{\"services\": [\"\\udc00\"]}",
          "{\"services\": [\"\xc0\xaf\"]}", "{\"services\": [\"\xed\xa0\x80\"]}",
          "{\"services\": [\"a\tb\"]}", "{\"services\": [1e999]}", "\xef\xbb{}",
          "{\"services\": [],}", "{'services': []}", "[1 2]"})
        CHECK(read(bad).rfind("syntax ", 0) == 0);
}

TEST_CASE("the streaming reader: values, escapes and repeated keys", "[json]") {
    CHECK(read("\xef\xbb\xbf{\"services\": []}") == "table {\"services\":[]}");
    CHECK(read(R"({"services": [{"protocol": "\u0074cp", "address": "10.0.0.1", "port": -0,
        "scheduler": "w\u00e9", "x": [[[[{"y": "\ud83d\ude00"}]]]], "destinations": []}]})") ==
          "table {\"services\":[{\"address\":\"10.0.0.1\",\"destinations\":[],\"one_packet\":"
          "false,\"port\":0,\"protocol\":\"tcp\",\"scheduler\":\"w\xc3\xa9\"}]}");
    // A repeated key means its last value, as in a DOM.
    CHECK(problem_of(R"({"services": [{"fwmark": 1}, {"fwmark": 1}], "services": 5})") ==
          "services: must be an array");
    CHECK(read(R"({"services": [{"fwmark": 1}, {"fwmark": 1}], "services": [{"fwmark": 0,
        "fwmark": 2, "destinations": [{"address": "x"}], "destinations": []}]})")
              .rfind("table ", 0) == 0);
    CHECK(problem_of(R"({"services": [{"fwmark": 1, "one_packet": 1}]})") ==
          "services[0].one_packet: must be true or false");
    CHECK(problem_of(R"({"services": [{"fwmark": 1.0}]})") ==
          "services[0].fwmark: must be a non-negative integer");
    CHECK(problem_of(R"({"services": [{"fwmark": 18446744073709551616}]})") ==
          "services[0].fwmark: must be a non-negative integer");
    CHECK(problem_of(R"({"services": [{"fwmark": 4294967296}]})") ==
          "services[0].fwmark: must be at most 4294967295");
    CHECK(problem_of(R"({"services": [{"fwmark": 1, "scheduler_flags": ["sh-port", 3]}]})") ==
          "services[0].scheduler_flags: unknown flag ''");
    CHECK(problem_of(R"({"services": [{"fwmark": 1, "scheduler_flags": {}}]})") ==
          "services[0].scheduler_flags: must be an array");
    CHECK(problem_of(R"({"services": [{"fwmark": 1}, 7]})") == "services[1]: must be an object");
    CHECK(problem_of(R"({"services": [{"fwmark": 1, "destinations": [{"address": "10.1.0.1"},
        []]}]})") == "services[0].destinations[1]: must be an object");
    CHECK(problem_of(R"({"services": [{"fwmark": 1, "destinations": [{"address": "10.1.0.1"},
        {"address": "10.1.0.1"}]}]})") ==
          "services[0].destinations[1]: duplicate destination 10.1.0.1:0");
    CHECK(problem_of(R"({"services": [{"fwmark": 1, "persistence": {"timeout": 0}}]})") ==
          "services[0].persistence.timeout: must be at least 1");
    CHECK(problem_of(R"({"services": [{"fwmark": 1, "persistence": {"netmask": 24}}]})") ==
          "services[0].persistence.netmask: must be a string");
    CHECK(problem_of(R"({"services": [{"fwmark": 1, "destinations": [{"address": "10.1.0.1",
        "tunnel": {"type": "vxlan"}}]}]})") ==
          "services[0].destinations[0].tunnel.type: 'vxlan' is not ipip, gue or gre");
    CHECK(problem_of(R"({"services": [{"fwmark": 1, "destinations": [{"address": "10.1.0.1",
        "tunnel": []}]}]})") == "services[0].destinations[0].tunnel: must be an object");
}

TEST_CASE("which problem is reported does not depend on the order of the keys", "[json]") {
    // The service's own fields are checked before its destinations, the
    // first bad destination before later ones, whatever order the text has.
    const std::string expected = "services[0].protocol: 'icmp' is not tcp, udp or sctp";
    CHECK(problem_of(R"({"services": [{"protocol": "icmp", "address": "10.0.0.1",
        "destinations": [{"address": "x"}]}]})") == expected);
    CHECK(problem_of(R"({"services": [{"destinations": [{"address": "x"}],
        "address": "10.0.0.1", "protocol": "icmp"}]})") == expected);
    CHECK(problem_of(R"({"services": [{"destinations": [{"weight": -1, "address": "x"},
        {"address": 5}], "fwmark": 3}]})") ==
          "services[0].destinations[0].address: 'x' is not an IPv4 or IPv6 address");
    CHECK(problem_of(R"({"services": [{"fwmark": 1}, {"fwmark": "1"}, {"protocol": 1}]})") ==
          "services[1].fwmark: must be a non-negative integer");
    CHECK(problem_of(R"({"x": 1})") == "document: has no \"services\"");
    CHECK(problem_of(R"([{"services": []}])") == "document: must be a JSON object");
    std::string deep(20000, '[');
    deep += std::string(20000, ']');
    CHECK(read("{\"ignored\": " + deep + ", \"services\": []}") == "table {\"services\":[]}");
}
