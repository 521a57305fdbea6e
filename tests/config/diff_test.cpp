// SPDX-License-Identifier: GPL-2.0-or-later
// Reload diffs: what changed per instance and per virtual/real server.
#include <catch2/catch.hpp>

#include "config/diff.hpp"
#include "helpers.hpp"

using namespace config_test;
using ipvsctl::config::Change;
using ipvsctl::config::ChangeKind;

namespace {

const std::string kBase = R"(vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        10.0.0.100/24
    }
}
vrrp_instance VI_2 {
    interface eth1
    virtual_router_id 52
    virtual_ipaddress {
        10.0.1.100/24
    }
}
virtual_server 10.0.0.100 80 {
    lb_algo wrr
    real_server 10.0.2.1 80 {
        weight 1
    }
    real_server 10.0.2.2 80 {
        weight 1
    }
}
virtual_server 10.0.0.100 443 {
    real_server 10.0.2.1 443 {
    }
}
)";

ipvsctl::config::ConfigDiff diff_of(const std::string& before, const std::string& after) {
    const auto a = parse(before);
    const auto b = parse(after);
    INFO(joined(a) << joined(b));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    return ipvsctl::config::diff(*a.config, *b.config);
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("identical configs have an empty diff, wherever the objects sit", "[diff]") {
    CHECK(diff_of(kBase, kBase).empty());
    // Moving text around (other lines, other columns) is not a change.
    CHECK(diff_of(kBase, "\n\n" + replace(kBase, "    priority 100", "  priority   100")).empty());
}

TEST_CASE("instance changes name the changed keywords", "[diff]") {
    const auto d = diff_of(kBase, replace(kBase, "priority 100", "priority 150\n    advert_int 2"));
    CHECK(d.vrrp_instances ==
          std::vector<Change>{{ChangeKind::changed, "VI_1", {"advert_int", "priority"}}});
    CHECK(d.touches_vrrp());
    CHECK_FALSE(d.touches_virtual_servers());
}

TEST_CASE("instances added and removed", "[diff]") {
    const auto without_vi2 = replace(kBase, R"(vrrp_instance VI_2 {
    interface eth1
    virtual_router_id 52
    virtual_ipaddress {
        10.0.1.100/24
    }
}
)",
                                     "");
    CHECK(diff_of(kBase, without_vi2).vrrp_instances ==
          std::vector<Change>{{ChangeKind::removed, "VI_2", {}}});
    CHECK(diff_of(without_vi2, kBase).vrrp_instances ==
          std::vector<Change>{{ChangeKind::added, "VI_2", {}}});
}

TEST_CASE("real server changes are listed under their virtual server", "[diff]") {
    auto after = replace(kBase, "real_server 10.0.2.2 80 {\n        weight 1",
                         "real_server 10.0.2.2 80 {\n        weight 5");
    after =
        replace(after, "real_server 10.0.2.1 443 {\n    }", "real_server 10.0.2.3 443 {\n    }");
    const auto d = diff_of(kBase, after);
    CHECK(d.virtual_servers.empty());
    CHECK(d.real_servers ==
          std::vector<Change>{
              {ChangeKind::changed, "10.0.0.100:80/tcp -> 10.0.2.2:80", {"weight"}},
              {ChangeKind::added, "10.0.0.100:443/tcp -> 10.0.2.3:443", {}},
              {ChangeKind::removed, "10.0.0.100:443/tcp -> 10.0.2.1:443", {}},
          });
    CHECK(d.touches_virtual_servers());
    CHECK_FALSE(d.touches_vrrp());
}

TEST_CASE("virtual server attribute changes exclude its real servers", "[diff]") {
    const auto d = diff_of(kBase, replace(kBase, "lb_algo wrr", "lb_algo mh"));
    CHECK(d.virtual_servers ==
          std::vector<Change>{{ChangeKind::changed, "10.0.0.100:80/tcp", {"lvs_sched"}}});
    CHECK(d.real_servers.empty());
}

TEST_CASE("a virtual server whose protocol changes is a different one", "[diff]") {
    const auto d = diff_of(kBase, replace(kBase, "lb_algo wrr", "lb_algo wrr\n    protocol UDP"));
    CHECK(d.virtual_servers == std::vector<Change>{{ChangeKind::added, "10.0.0.100:80/udp", {}},
                                                   {ChangeKind::removed, "10.0.0.100:80/tcp", {}}});
}

TEST_CASE("the diff has a JSON form", "[diff]") {
    const auto d = diff_of(kBase, replace(kBase, "priority 100", "priority 90"));
    const auto json = ipvsctl::config::to_json(d);
    CHECK(json["vrrp_instances"] ==
          nlohmann::json::parse(R"([{"change":"changed","name":"VI_1","fields":["priority"]}])"));
    CHECK(json["global_defs"].empty());
}

TEST_CASE("a real server's notify scripts copy and compare by value", "[diff]") {
    const auto with_up =
        replace(kBase, "        weight 1\n", "        weight 1\n        notify_up /bin/up\n");
    const auto loaded = parse(with_up);
    REQUIRE(loaded.ok());
    const auto& rs = loaded.config->virtual_servers[0].real_servers[0];
    REQUIRE(rs.notify_up);
    CHECK(rs.notify_up->command == "/bin/up");
    CHECK_FALSE(rs.notify_down);
    // A copy owns its script: changing it leaves the original as it was.
    auto copy = rs;
    CHECK(copy == rs);
    copy.notify_up->command = "/bin/other";
    CHECK(rs.notify_up->command == "/bin/up");
    CHECK_FALSE(copy == rs);
    copy.notify_up.reset();
    CHECK_FALSE(copy == rs);
    copy.notify_up = *rs.notify_up;
    CHECK(copy == rs);
    CHECK_FALSE(diff_of(kBase, with_up).empty());
    CHECK_FALSE(diff_of(with_up, replace(with_up, "/bin/up", "/bin/other")).empty());
    CHECK(diff_of(with_up, with_up).empty());
}
