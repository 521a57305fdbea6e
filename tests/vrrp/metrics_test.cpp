// SPDX-License-Identifier: GPL-2.0-or-later
// vrrpd's Prometheus exposition over instances on the fake LAN.
#include <catch2/catch.hpp>

#include "fakes.hpp"
#include "vrrpd/metrics.hpp"
#include "vrrpd/packet.hpp"

using namespace ipvsctl::vrrp;
using namespace ipvsctl::vrrp::testing;
using namespace std::chrono_literals;

namespace {

struct NoControl : SyncDaemonControl {
    Status start(SyncRole, const LvsSyncSettings&) override { return std::nullopt; }
    Status stop(SyncRole) override { return std::nullopt; }
};

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("metrics render the instance figures", "[vrrp][metrics]") {
    FakeClock clock;
    Lan lan(clock);
    RecordingLog log;
    FakeAddresses addresses;
    InstanceSettings s;
    s.name = "VI_1";
    s.interface = "eth0";
    s.vrid = 51;
    s.protocol.priority = 150;
    s.protocol.primary_address = Address::v4(192, 0, 2, 1);
    s.addresses = {{Address::v4(192, 0, 2, 100), 24, ""}};
    auto& port = lan.port(s.protocol.primary_address);
    Instance i(s, clock, clock, port, addresses, log);
    i.start();
    clock.advance(10s);
    REQUIRE(i.state() == State::master);
    i.set_priority(120);
    // One advert with a bad TTL reaches it.
    Advert bad;
    bad.vrid = 51;
    bad.priority = 100;
    bad.addresses = {Address::v4(192, 0, 2, 100)};
    const auto from = Address::v4(192, 0, 2, 9);
    const auto bytes = encode(bad, from, vrrp_group_v4());
    i.receive(bytes, IpContext{Family::inet, from, vrrp_group_v4(), 64});

    SyncGroup group(SyncGroupSettings{"G1", {"VI_1"}, {}}, log);
    group.set_members({&i});
    NoControl control;
    LvsSyncSettings ls;
    ls.interface = "eth1";
    ls.instance = "VI_1";
    LvsSyncBinding sync(ls, control, log);
    sync.begin(i.state());

    const auto text = render_metrics({{&i}, {&group}, &sync});
    INFO(text);
    CHECK(has_line(text, "# TYPE vrrpd_instance_state gauge"));
    CHECK(has_line(text, R"(vrrpd_instance_state{vrrp_instance="VI_1",state="MASTER"} 1)"));
    CHECK(has_line(text, R"(vrrpd_instance_state{vrrp_instance="VI_1",state="BACKUP"} 0)"));
    CHECK(has_line(text, R"(vrrpd_instance_priority{vrrp_instance="VI_1"} 150)"));
    CHECK(has_line(text, R"(vrrpd_instance_effective_priority{vrrp_instance="VI_1"} 120)"));
    CHECK(has_line(text, R"(vrrpd_transitions_total{vrrp_instance="VI_1"} 2)"));
    CHECK(has_line(text, "# TYPE vrrpd_adverts_sent_total counter"));
    CHECK(has_line(text, R"(vrrpd_adverts_sent_total{vrrp_instance="VI_1"} )" +
                             std::to_string(i.counters().adverts_sent)));
    CHECK(i.counters().adverts_sent > 5);
    CHECK(has_line(text, R"(vrrpd_adverts_received_total{vrrp_instance="VI_1"} 0)"));
    CHECK(
        has_line(text, R"(vrrpd_adverts_rejected_total{vrrp_instance="VI_1",reason="bad_ttl"} 1)"));
    CHECK(has_line(
        text, R"(vrrpd_adverts_rejected_total{vrrp_instance="VI_1",reason="bad_checksum"} 0)"));
    CHECK(has_line(text, R"(vrrpd_sync_group_state{group="G1",state="MASTER"} 1)"));
    CHECK(has_line(text, R"(vrrpd_lvs_sync_daemon_running{role="master"} 1)"));
    CHECK(has_line(text, R"(vrrpd_lvs_sync_daemon_running{role="backup"} 0)"));
    CHECK(has_line(
        text,
        R"(vrrpd_instance_info{vrrp_instance="VI_1",vrid="51",family="inet",version="3",interface="eth0"} 1)"));
}
