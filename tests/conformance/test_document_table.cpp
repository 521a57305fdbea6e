// SPDX-License-Identifier: GPL-2.0-or-later
// apply's compact path: read_document_json keeps every setting of generated
// tables (IPv4/IPv6, fwmark, persistence, thresholds, tunnels), agrees with
// read_table_json on them, and plan_document makes exactly make_plan's
// operations.
#include <catch2/catch.hpp>
#include <random>

#include "document_table.hpp"
#include "json_document.hpp"

using namespace ipvsctl;
using namespace ipvsctl::cli;

namespace {

Address random_address(std::mt19937& rng, bool v6, std::uint32_t n) {
    if (!v6) return Address::v4(0x0a000000u + n);
    Address a = *Address::parse("2001:db8::");
    a.bytes[12] = static_cast<std::uint8_t>(n >> 24);
    a.bytes[13] = static_cast<std::uint8_t>(n >> 16);
    a.bytes[14] = static_cast<std::uint8_t>(n >> 8);
    a.bytes[15] = static_cast<std::uint8_t>(n);
    a.bytes[2] = static_cast<std::uint8_t>(rng() % 4);
    return a;
}

/// A table with every kind of service and real server that the schema holds.
Table random_table(std::mt19937& rng, std::uint32_t services) {
    static const char* const schedulers[] = {"wlc", "rr", "wrr", "sh", "mh", "lc", "sed"};
    Table table;
    std::uint32_t next = 1;
    for (std::uint32_t i = 0; i < services; ++i) {
        ServiceEntry entry;
        Service& s = entry.service;
        const bool v6 = rng() % 3 == 0;
        const Family family = v6 ? Family::Inet6 : Family::Inet;
        switch (rng() % 4) {
            case 0:
                s.key = ServiceKey::mark(next++, family);
                break;
            case 1:
                s.key = ServiceKey::udp(random_address(rng, v6, next++),
                                        static_cast<std::uint16_t>(rng() % 65536));
                break;
            case 2:
                s.key = ServiceKey::sctp(random_address(rng, v6, next++),
                                         static_cast<std::uint16_t>(rng() % 65536));
                break;
            default:
                s.key = ServiceKey::tcp(random_address(rng, v6, next++),
                                        static_cast<std::uint16_t>(rng() % 65536));
        }
        s.scheduler = schedulers[rng() % std::size(schedulers)];
        s.netmask = Service::default_netmask(family);
        if (rng() % 3 == 0) {
            s.flags |= service_flags::persistent;
            s.timeout = 1 + static_cast<std::uint32_t>(rng() % 86400);
            s.netmask = v6 ? static_cast<std::uint32_t>(rng() % 129) : 0xffffff00u;
        }
        if (rng() % 5 == 0) s.flags |= service_flags::one_packet;
        if (rng() % 4 == 0) s.flags |= service_flags::sched1;
        if (rng() % 4 == 0) s.flags |= service_flags::sched2;
        if (rng() % 8 == 0) s.flags |= service_flags::sched3;
        if (rng() % 10 == 0) s.pe_name = "sip";
        const std::uint32_t dests = static_cast<std::uint32_t>(rng() % 6);
        for (std::uint32_t j = 0; j < dests; ++j) {
            Destination d;
            d.address = random_address(rng, rng() % 3 == 0, 0x100000u + next++);
            d.port = static_cast<std::uint16_t>(rng() % 65536);
            d.method = static_cast<ForwardMethod>(rng() % 4);
            d.weight = static_cast<std::int32_t>(rng() % 1000);
            if (rng() % 3 == 0) {
                d.upper_threshold = static_cast<std::uint32_t>(rng() % 100000);
                d.lower_threshold = static_cast<std::uint32_t>(rng() % 1000);
            }
            if (d.method == ForwardMethod::Tunnel) {
                d.tunnel_type = static_cast<TunnelType>(rng() % 3);
                if (d.tunnel_type == TunnelType::GUE)
                    d.tunnel_port = static_cast<std::uint16_t>(1 + rng() % 65535);
                static const std::uint16_t checksums[] = {tunnel_flags::nocsum, tunnel_flags::csum,
                                                          tunnel_flags::remcsum};
                d.tunnel_flags = checksums[rng() % 3];
            }
            entry.destinations.push_back(d);
        }
        table.services.push_back(std::move(entry));
    }
    return table;
}

bool same_tables(const Table& a, const Table& b) {
    if (a.services.size() != b.services.size()) return false;
    for (std::size_t i = 0; i < a.services.size(); ++i) {
        const ServiceEntry& x = a.services[i];
        const ServiceEntry& y = b.services[i];
        if (!x.service.same_settings(y.service) || x.service.flags != y.service.flags ||
            x.destinations.size() != y.destinations.size())
            return false;
        for (std::size_t j = 0; j < x.destinations.size(); ++j)
            if (!x.destinations[j].same_settings(y.destinations[j]) ||
                x.destinations[j].tunnel_type != y.destinations[j].tunnel_type ||
                x.destinations[j].tunnel_port != y.destinations[j].tunnel_port ||
                x.destinations[j].tunnel_flags != y.destinations[j].tunnel_flags)
                return false;
    }
    return true;
}

std::vector<std::string> described(const Plan& plan) {
    std::vector<std::string> out;
    for (const auto& op : plan.operations)
        out.push_back(std::to_string(static_cast<int>(op.kind)) + " " + op.describe());
    return out;
}

}  // namespace

TEST_CASE("read_document_json keeps every setting of generated tables", "[json][apply]") {
    std::mt19937 rng(20261203);
    for (int round = 0; round < 40; ++round) {
        const Table table = random_table(rng, 1 + static_cast<std::uint32_t>(rng() % 60));
        const bool counters = round % 2 == 0;
        const std::string text =
            table_to_json(table, JsonOptions{.counters = counters}).dump(round % 3 == 0 ? 2 : -1);
        INFO(text);
        auto compact = read_document_json(text);
        REQUIRE(std::holds_alternative<DocumentTable>(compact));
        const Table read = std::get<DocumentTable>(compact).to_table();
        CHECK(same_tables(read, table));
        auto full = read_table_json(text);
        REQUIRE(std::holds_alternative<Table>(full));
        CHECK(same_tables(std::get<Table>(full), table));
        auto reference = read_table_json_nlohmann(text);
        REQUIRE(std::holds_alternative<Table>(reference));
        CHECK(same_tables(std::get<Table>(reference), table));
        CHECK(same_tables(DocumentTable::from_table(table).to_table(), table));
    }
}

TEST_CASE("read_document_json reports what read_table_json reports", "[json][apply]") {
    const auto message = [](const std::string& text) {
        auto compact = read_document_json(text);
        auto full = read_table_json(text);
        std::string a, b;
        if (auto* p = std::get_if<JsonProblem>(&compact)) a = p->message();
        if (auto* p = std::get_if<JsonSyntaxError>(&compact)) a = p->what;
        if (auto* p = std::get_if<JsonProblem>(&full)) b = p->message();
        if (auto* p = std::get_if<JsonSyntaxError>(&full)) b = p->what;
        CHECK(a == b);
        return a;
    };
    CHECK(message(R"({"services": [{"fwmark": 1}, {"fwmark": 1}]})") ==
          "services[1]: duplicate service FWM 1");
    CHECK(message(R"({"services": [{"fwmark": 1, "destinations": [{"address": "10.1.0.1"},
        {"address": "10.1.0.1"}]}]})") ==
          "services[0].destinations[1]: duplicate destination 10.1.0.1:0");
    CHECK(message(R"({"services": [{"protocol": "tcp", "address": "10.0.0.1", "port": 1,
        "destinations": [{"address": "10.1.0.1", "weight": -4}]}]})") ==
          "services[0].destinations[0].weight: must be a non-negative integer");
    CHECK(message("{\"services\": [\n  {\"fwmark\": 1,}\n]}").find("line 2, column 16") !=
          std::string::npos);
}

TEST_CASE("documents the fast reader leaves to the general one read the same", "[json][apply]") {
    // Escapes, non-ASCII text, a byte order mark, repeated keys, negative
    // and fractional counters, unknown nested values: each makes the fast
    // reader give up; the result must be what nlohmann's lexer gives.
    const std::string cases[] = {
        R"({"services": [{"fwmark": 1, "scheduler": "w\u006cc"}]})",
        R"({"services": [{"fwmark": 1, "note": "caf\u00e9 \"x\""}]})",
        "{\"services\": [{\"fwmark\": 1, \"note\": \"caf\xc3\xa9\"}]}",
        "\xef\xbb\xbf{\"services\": [{\"fwmark\": 2}]}",
        R"({"services": [{"fwmark": 1, "fwmark": 2}]})",
        R"({"services": [], "services": [{"fwmark": 3}]})",
        R"({"services": [{"fwmark": 1, "destinations": [{"address": "10.0.0.1", "weight": 1.0}]}]})",
        R"({"services": [{"fwmark": 1, "destinations": [{"address": "10.0.0.1", "weight": -0}]}]})",
        R"({"services": [{"fwmark": 1, "stats": {"a": [1, -2, 3.5e3, true, null, {"b": []}]}}]})",
        R"({"services": [{"fwmark": 18446744073709551615}]})",
        R"({"services": [{"fwmark": 1, "destinations": [{"address": "10.0.0.1", "port": 08}]}]})",
        R"({"services": [{"fwmark": 1, "scheduler_flags": ["flag-1", 2]}]})",
        R"({"services": [{"fwmark": 1, "persistence": {"timeout": 5, "timeout": 6}}]})",
        R"({"services": [{"fwmark": 1, "destinations": [{"address": "10.0.0.1", "forward": "tunnel",
            "tunnel": {"type": "gue", "port": 6080, "checksum": "csum", "x": {}}}]}]})",
        R"({"services": [{"protocol": "tcp", "address": "2001:db8::1", "port": 80,
            "persistence": {"timeout": 60, "netmask": 64}, "pe": "sip"}]})",
    };
    for (const auto& text : cases) {
        INFO(text);
        const auto show = [](const std::variant<Table, JsonProblem, JsonSyntaxError>& read) {
            if (const auto* table = std::get_if<Table>(&read))
                return "table " + table_to_json(*table, JsonOptions{.counters = false}).dump();
            if (const auto* problem = std::get_if<JsonProblem>(&read))
                return "problem " + problem->message();
            return "syntax " + std::get<JsonSyntaxError>(read).what;
        };
        CHECK(show(read_table_json(text)) == show(read_table_json_nlohmann(text)));
    }
    auto read = read_document_json(R"({"services": [{"fwmark": 1, "scheduler": "w\u006cc"}]})");
    REQUIRE(std::holds_alternative<DocumentTable>(read));
    CHECK(std::get<DocumentTable>(read).to_table().services.at(0).service.scheduler == "wlc");
}

TEST_CASE("plan_document makes make_plan's operations, in make_plan's order", "[plan][apply]") {
    std::mt19937 rng(7);
    for (int round = 0; round < 60; ++round) {
        const Table current = random_table(rng, static_cast<std::uint32_t>(rng() % 40));
        // The desired table: some of current's services kept (some edited,
        // some real servers changed, added or dropped), some new ones.
        Table desired;
        const Table fresh = random_table(rng, static_cast<std::uint32_t>(rng() % 10));
        for (const auto& entry : current.services) {
            if (rng() % 5 == 0) continue;
            ServiceEntry e = entry;
            if (rng() % 4 == 0) e.service.scheduler = e.service.scheduler == "rr" ? "wrr" : "rr";
            if (rng() % 6 == 0) e.service.flags ^= service_flags::one_packet;
            for (auto& d : e.destinations)
                if (rng() % 3 == 0) d.weight += 1;
            if (!e.destinations.empty() && rng() % 4 == 0) e.destinations.pop_back();
            if (rng() % 4 == 0 && !fresh.services.empty() &&
                !fresh.services[0].destinations.empty())
                e.destinations.push_back(fresh.services[0].destinations[0]);
            desired.services.push_back(std::move(e));
        }
        for (const auto& entry : fresh.services) {
            if (current.find(entry.service.key) != nullptr) continue;
            desired.services.push_back(entry);
        }
        std::shuffle(desired.services.begin(), desired.services.end(), rng);
        const DocumentTable document = DocumentTable::from_table(desired);
        for (const bool prune : {false, true}) {
            INFO("round " << round << ", prune " << prune);
            const PlanOptions options{.prune = prune};
            CHECK(described(plan_document(current, document, options)) ==
                  described(make_plan(current, desired, options)));
        }
    }
}

TEST_CASE("plan_document of a 1% change to 2000 x 4", "[plan][apply]") {
    std::mt19937 rng(1);
    Table current;
    for (std::uint32_t i = 0; i < 2000; ++i) {
        ServiceEntry e;
        e.service.key = ServiceKey::tcp(Address::v4(0x0a000001u + i), 80);
        e.service.scheduler = "wrr";
        for (std::uint32_t j = 0; j < 4; ++j) {
            Destination d;
            d.address = Address::v4(0xac100000u + i * 16 + j + 1);
            d.port = 8080;
            d.method = ForwardMethod::Masquerade;
            d.weight = static_cast<std::int32_t>(j + 1);
            e.destinations.push_back(d);
        }
        current.services.push_back(std::move(e));
    }
    Table desired = current;
    for (std::size_t i = 0; i < desired.services.size(); ++i) {
        if (i % 100 == 0)
            for (auto& d : desired.services[i].destinations) d.weight += 10;
        if (i % 100 == 1)
            desired.services[i].service.key =
                ServiceKey::tcp(Address::v4(0x0aff0000u + static_cast<std::uint32_t>(i)), 80);
    }
    const Plan plan =
        plan_document(current, DocumentTable::from_table(desired), PlanOptions{.prune = true});
    // 20 x 4 weight edits, 20 new services with 4 real servers, 20 deleted.
    CHECK(plan.operations.size() == 80 + 100 + 20);
    CHECK(described(plan) == described(make_plan(current, desired, PlanOptions{.prune = true})));
}
