// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "config/config.hpp"
#include "healthcheck/reconcile.hpp"
#include "nft/from_config.hpp"

#include "config_fixture.hpp"

using namespace ipvsctl;
using namespace ipvsctl::nft;

using test_support::parse_ok;

namespace {

const char* kGroupAndFnat = R"(
virtual_server_group web {
    192.0.2.10-12 80
    192.0.2.20 8080
    fwmark 9
}
virtual_server group web {
    lb_algo rr
    lb_kind NAT
    real_server 10.1.0.1 {
        TCP_CHECK {
            connect_port 80
        }
    }
    real_server 10.1.0.2 {
        lb_kind FNAT
        TCP_CHECK {
            connect_port 80
        }
    }
}
virtual_server 192.0.2.30 443 {
    lb_kind FNAT
    real_server 10.1.0.1 8443 {
        lb_kind FNAT source 10.1.0.254
        TCP_CHECK {
        }
    }
    real_server 10.1.0.4 8443 {
        lb_kind NAT
        TCP_CHECK {
        }
    }
}
virtual_server 192.0.2.40 53 {
    protocol UDP
    lb_kind DR
    real_server 10.1.0.3 53 {
        TCP_CHECK {
        }
    }
}
)";

IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}

}  // namespace

TEST_CASE("a group with address lines gets a stable mark outside the configured ones") {
    const auto config = parse_ok(kGroupAndFnat);
    const auto marks = group_marks(*config);
    REQUIRE(marks.size() == 1);
    const std::uint32_t mark = marks.at("group web/tcp");
    CHECK((mark & 0xffff0000u) == kGroupMarkBase);
    CHECK(group_marks(*parse_ok(kGroupAndFnat)) == marks);
}

TEST_CASE("marks of two users of one group differ and skip configured marks") {
    const auto config = parse_ok(R"(
virtual_server_group dns {
    192.0.2.53 53
}
virtual_server group dns {
    protocol TCP
    real_server 10.1.0.1 53 {
    }
}
virtual_server group dns {
    protocol UDP
    real_server 10.1.0.1 53 {
    }
}
)");
    const auto marks = group_marks(*config);
    REQUIRE(marks.size() == 2);
    CHECK(marks.at("group dns/tcp") != marks.at("group dns/udp"));

    const config::Config collapsed = collapse_groups(*config, marks);
    REQUIRE(collapsed.find_vs_group("dns@TCP") != nullptr);
    REQUIRE(collapsed.find_vs_group("dns@UDP") != nullptr);
    CHECK(collapsed.find_vs_group("dns@UDP")->fwmarks.front().fwmark == marks.at("group dns/udp"));
}

TEST_CASE("the collapsed group becomes one fwmark service in the reconciler's table") {
    const auto config = parse_ok(kGroupAndFnat);
    const auto marks = group_marks(*config);
    const std::uint32_t mark = marks.at("group web/tcp");
    const config::Config collapsed = collapse_groups(*config, marks);

    const auto& vs = collapsed.virtual_servers.front();
    CHECK(vs.key() == "group web/tcp");  // health and status keep their names
    const auto keys = healthcheck::service_keys(vs, collapsed.virtual_server_groups);
    REQUIRE(keys.size() == 2);
    CHECK(keys[0] == ServiceKey::mark(mark, Family::Inet));
    CHECK(keys[1] == ServiceKey::mark(9, Family::Inet));

    // Without the collapse the reconciler makes one service per address.
    CHECK(healthcheck::service_keys(config->virtual_servers.front(), config->virtual_server_groups)
              .size() == 5);

    healthcheck::ReconcileInput input;
    input.virtual_servers = &collapsed.virtual_servers;
    input.groups = &collapsed.virtual_server_groups;
    healthcheck::HealthMap health;
    health[{"group web/tcp", "10.1.0.1"}].verdict = healthcheck::ServerVerdict::up;
    health[{"group web/tcp", "10.1.0.2"}].verdict = healthcheck::ServerVerdict::up;
    input.health = &health;
    const Table table = desired_table(input);
    const ServiceEntry* service = table.find(ServiceKey::mark(mark, Family::Inet));
    REQUIRE(service != nullptr);
    CHECK(service->destinations.size() == 2);
    CHECK(service->destinations[1].method == ForwardMethod::Masquerade);
}

TEST_CASE("mark rules cover the group's address lines with the virtual server's protocol") {
    const auto config = parse_ok(kGroupAndFnat);
    const auto marks = group_marks(*config);
    const std::uint32_t mark = marks.at("group web/tcp");
    const Ruleset ruleset = desired_ruleset(*config, marks);
    REQUIRE(ruleset.marks.size() == 2);
    CHECK(ruleset.marks[0] ==
          MarkRule{ip("192.0.2.10"), ip("192.0.2.12"), L4Protocol::tcp, 80, mark});
    CHECK(ruleset.marks[1] ==
          MarkRule{ip("192.0.2.20"), ip("192.0.2.20"), L4Protocol::tcp, 8080, mark});
    CHECK(check(ruleset).empty());
}

TEST_CASE("FNAT real servers get SNAT rules for each service of their virtual server") {
    const auto config = parse_ok(kGroupAndFnat);
    const auto marks = group_marks(*config);
    const std::uint32_t mark = marks.at("group web/tcp");
    const Ruleset ruleset = desired_ruleset(*config, marks);
    // group web: only 10.1.0.2 is FNAT, for the collapsed mark and fwmark 9;
    // 192.0.2.30:443: the FNAT server only, not the NAT one.
    REQUIRE(ruleset.snats.size() == 3);
    CHECK(ruleset.snats[0].service == std::variant<ServiceAddress, ServiceMark>(ServiceMark{mark}));
    CHECK(ruleset.snats[0].real_server == ip("10.1.0.2"));
    CHECK(ruleset.snats[0].real_port == 0);
    CHECK(ruleset.snats[1].service == std::variant<ServiceAddress, ServiceMark>(ServiceMark{9}));
    CHECK(ruleset.snats[2].service ==
          std::variant<ServiceAddress, ServiceMark>(ServiceAddress{ip("192.0.2.30"), 443}));
    CHECK(ruleset.snats[2].real_server == ip("10.1.0.1"));
    CHECK(ruleset.snats[2].real_port == 8443);
    CHECK_FALSE(ruleset.snats[0].source.has_value());  // masquerade
    CHECK(ruleset.snats[2].source == ip("10.1.0.254"));
    CHECK(needs_ipvs_conntrack(ruleset));
    CHECK(check(ruleset).empty());
}

TEST_CASE("a configuration without groups or FNAT needs no rules and is not changed") {
    const auto config = parse_ok(R"(
virtual_server 192.0.2.40 80 {
    real_server 10.1.0.3 80 {
    }
}
)");
    const auto marks = group_marks(*config);
    CHECK(marks.empty());
    CHECK(desired_ruleset(*config, marks).empty());
    CHECK_FALSE(needs_ipvs_conntrack(desired_ruleset(*config, marks)));
    CHECK(collapse_groups(*config, marks) == *config);
}
