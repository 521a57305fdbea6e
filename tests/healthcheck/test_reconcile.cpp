// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "healthcheck/probe_spec.hpp"
#include "healthcheck/reconcile.hpp"
#include "ipvsctl/plan.hpp"

#include "config_fixture.hpp"

using namespace ipvsctl;
using namespace ipvsctl::healthcheck;

using test_support::parse_ok;

namespace {

const char* kWeb = R"(
virtual_server 192.0.2.10 80 {
    delay_loop 2
    lb_algo rr
    lb_kind NAT
    protocol TCP
    sorry_server 192.0.2.200 8080
    real_server 192.0.2.101 80 {
        weight 10
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server 192.0.2.102 80 {
        weight 20
        inhibit_on_failure
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server 192.0.2.109 80 {
        weight 1
        backup
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server 192.0.2.110 80 {
        weight 5
        down
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
)";

struct Fixture {
    std::shared_ptr<const config::Config> config = parse_ok(kWeb);
    HealthMap health;
    std::map<std::string, bool> quorum;
    Table current;

    const config::VirtualServer& vs() const { return config->virtual_servers.at(0); }
    void set(const char* rs, ServerVerdict verdict, std::optional<int> weight = std::nullopt) {
        health[ServerRef{vs().key(), rs}] = ServerHealth{verdict, weight};
    }
    Table desired() const {
        ReconcileInput input;
        input.virtual_servers = &config->virtual_servers;
        input.groups = &config->virtual_server_groups;
        input.health = &health;
        input.current = &current;
        input.quorum = &quorum;
        return desired_table(input);
    }
    /// "endpoint=weight" for each destination of the only service.
    std::vector<std::string> destinations() const {
        const Table table = desired();
        REQUIRE(table.services.size() == 1);
        std::vector<std::string> out;
        for (const auto& d : table.services[0].destinations)
            out.push_back(d.endpoint() + "=" + std::to_string(d.weight));
        std::sort(out.begin(), out.end());
        return out;
    }
};

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("service settings come from the virtual server", "[reconcile]") {
    Fixture f;
    f.set("192.0.2.101:80", ServerVerdict::up);
    const Table table = f.desired();
    REQUIRE(table.services.size() == 1);
    const Service& service = table.services[0].service;
    CHECK(service.key == ServiceKey::tcp(*Address::parse("192.0.2.10"), 80));
    CHECK(service.scheduler == "rr");
    CHECK(table.services[0].destinations.at(0).method == ForwardMethod::Masquerade);
}

TEST_CASE("healthy primaries serve; failed ones leave or are inhibited", "[reconcile]") {
    Fixture f;
    f.set("192.0.2.101:80", ServerVerdict::up);
    f.set("192.0.2.102:80", ServerVerdict::up);
    f.set("192.0.2.109:80", ServerVerdict::up);
    CHECK(f.destinations() == Strings{"192.0.2.101:80=10", "192.0.2.102:80=20"});

    f.set("192.0.2.102:80", ServerVerdict::down);
    CHECK(f.destinations() == Strings{"192.0.2.101:80=10", "192.0.2.102:80=0"});
}

TEST_CASE("backups serve only when every primary is down", "[reconcile]") {
    Fixture f;
    f.set("192.0.2.101:80", ServerVerdict::down);
    f.set("192.0.2.102:80", ServerVerdict::down);
    f.set("192.0.2.109:80", ServerVerdict::up);
    CHECK(f.destinations() == Strings{"192.0.2.102:80=0", "192.0.2.109:80=1"});
}

TEST_CASE("sorry server when nothing is healthy", "[reconcile]") {
    Fixture f;
    f.set("192.0.2.101:80", ServerVerdict::down);
    f.set("192.0.2.102:80", ServerVerdict::down);
    f.set("192.0.2.109:80", ServerVerdict::down);
    f.quorum[f.vs().key()] = false;
    CHECK(f.destinations() == Strings{"192.0.2.102:80=0", "192.0.2.200:8080=1"});
}

TEST_CASE("administratively down servers never serve", "[reconcile]") {
    Fixture f;
    f.set("192.0.2.110:80", ServerVerdict::up);
    f.set("192.0.2.101:80", ServerVerdict::up);
    f.set("192.0.2.102:80", ServerVerdict::up);
    CHECK(f.destinations() == Strings{"192.0.2.101:80=10", "192.0.2.102:80=20"});
}

TEST_CASE("dynamic weight from misc_dynamic replaces the configured one", "[reconcile]") {
    Fixture f;
    f.set("192.0.2.101:80", ServerVerdict::up, 3);
    f.set("192.0.2.102:80", ServerVerdict::down);
    CHECK(f.destinations() == Strings{"192.0.2.101:80=3", "192.0.2.102:80=0"});
}

TEST_CASE("adoption: servers without a verdict stay if the kernel has them", "[reconcile]") {
    Fixture f;
    // Nothing decided yet; the kernel already has .101.
    ServiceEntry entry;
    entry.service = service_settings(f.vs());
    entry.service.key = ServiceKey::tcp(*Address::parse("192.0.2.10"), 80);
    entry.destinations.push_back(destination_for(f.vs(), f.vs().real_servers[0]));
    f.current.services.push_back(entry);
    CHECK(f.destinations() == Strings{"192.0.2.101:80=10", "192.0.2.102:80=0"});

    // A plan from the kernel's table to the desired one removes nothing.
    const Plan plan = make_plan(f.current, f.desired(), PlanOptions{true});
    for (const auto& op : plan.operations) CHECK(op.kind != OpKind::DeleteDestination);

    // Once a check says down, it goes.
    f.set("192.0.2.101:80", ServerVerdict::down);
    CHECK(f.destinations() == Strings{"192.0.2.102:80=0"});
}

TEST_CASE("alive weight for quorum counts primaries, else backups", "[reconcile][quorum]") {
    Fixture f;
    const auto none_in_kernel = [](const config::RealServer&) { return false; };
    f.set("192.0.2.101:80", ServerVerdict::up);
    f.set("192.0.2.102:80", ServerVerdict::up);
    f.set("192.0.2.109:80", ServerVerdict::up);
    CHECK(alive_weight(f.vs(), f.health, none_in_kernel) == 30);
    f.set("192.0.2.101:80", ServerVerdict::down);
    f.set("192.0.2.102:80", ServerVerdict::down);
    CHECK(alive_weight(f.vs(), f.health, none_in_kernel) == 1);
}

TEST_CASE("virtual server groups expand to several services", "[reconcile]") {
    const auto config = parse_ok(R"(
virtual_server_group web {
    192.0.2.10-12 80
    fwmark 7
}
virtual_server group web {
    lb_algo wlc
    lb_kind DR
    protocol TCP
    real_server 192.0.2.101 80 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
)");
    HealthMap health;
    ReconcileInput input;
    input.virtual_servers = &config->virtual_servers;
    input.groups = &config->virtual_server_groups;
    input.health = &health;
    const Table table = desired_table(input);
    REQUIRE(table.services.size() == 4);
    CHECK(table.services[2].service.key.address == *Address::parse("192.0.2.12"));
    CHECK(table.services[3].service.key.fwmark == 7);
}

TEST_CASE("a real server in two virtual servers shares one probe", "[reconcile][probe]") {
    const auto config = parse_ok(R"(
virtual_server 192.0.2.10 80 {
    delay_loop 3
    protocol TCP
    real_server 192.0.2.101 80 {
        TCP_CHECK {
            connect_timeout 2
        }
    }
}
virtual_server 192.0.2.11 80 {
    delay_loop 3
    protocol TCP
    real_server 192.0.2.101 80 {
        TCP_CHECK {
            connect_timeout 2
        }
    }
    real_server 192.0.2.102 80 {
        TCP_CHECK {
            connect_timeout 2
            connect_port 81
        }
    }
}
)");
    const auto& a = config->virtual_servers[0];
    const auto& b = config->virtual_servers[1];
    const auto spec_a = probe_spec(a, a.real_servers[0], a.real_servers[0].checkers[0]);
    const auto spec_b = probe_spec(b, b.real_servers[0], b.real_servers[0].checkers[0]);
    const auto spec_c = probe_spec(b, b.real_servers[1], b.real_servers[1].checkers[0]);
    CHECK(spec_a.identity == spec_b.identity);
    CHECK(spec_a.identity != spec_c.identity);
    CHECK(spec_c.port == 81);
    CHECK(spec_a.delay_loop == std::chrono::seconds(3));
    CHECK(spec_a.connect_timeout == std::chrono::seconds(2));
}

TEST_CASE("draining keeps a server at weight 0; drained takes it out", "[reconcile][drain]") {
    Fixture f;
    f.set("192.0.2.101:80", ServerVerdict::up);
    f.set("192.0.2.102:80", ServerVerdict::up);
    f.health[ServerRef{f.vs().key(), "192.0.2.101:80"}].drain = DrainPhase::draining;
    CHECK(f.destinations() == Strings{"192.0.2.101:80=0", "192.0.2.102:80=20"});
    f.health[ServerRef{f.vs().key(), "192.0.2.101:80"}].drain = DrainPhase::drained;
    CHECK(f.destinations() == Strings{"192.0.2.102:80=20"});
    // A drained server is not alive for quorum, and backups step in when
    // every primary is drained.
    const auto none_in_kernel = [](const config::RealServer&) { return false; };
    CHECK(alive_weight(f.vs(), f.health, none_in_kernel) == 20);
    f.set("192.0.2.109:80", ServerVerdict::up);
    f.health[ServerRef{f.vs().key(), "192.0.2.102:80"}].drain = DrainPhase::draining;
    CHECK(f.destinations() == Strings{"192.0.2.102:80=0", "192.0.2.109:80=1"});
    // Undrained: back to the configured weight.
    f.health[ServerRef{f.vs().key(), "192.0.2.101:80"}].drain = DrainPhase::none;
    f.health[ServerRef{f.vs().key(), "192.0.2.102:80"}].drain = DrainPhase::none;
    CHECK(f.destinations() == Strings{"192.0.2.101:80=10", "192.0.2.102:80=20"});
}

TEST_CASE("a draining server that fails its checks is not re-added", "[reconcile][drain]") {
    Fixture f;
    f.set("192.0.2.101:80", ServerVerdict::down);
    f.set("192.0.2.102:80", ServerVerdict::down);
    f.health[ServerRef{f.vs().key(), "192.0.2.101:80"}].drain = DrainPhase::draining;
    f.health[ServerRef{f.vs().key(), "192.0.2.102:80"}].drain = DrainPhase::draining;
    // .102 is inhibit_on_failure: it stays at weight 0.
    CHECK(f.destinations() == Strings{"192.0.2.102:80=0"});
}
