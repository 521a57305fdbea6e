// SPDX-License-Identifier: GPL-2.0-or-later
// libipvsctl against the real kernel (runs inside the QEMU guest). Every
// operation is read back twice: through the library's own dump and through
// Debian's ipvsadm on the same kernel.
#include <arpa/inet.h>

#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "guest_util.hpp"
#include "ipvsadm_parse.hpp"

#include "ipvsctl/ipvsctl.hpp"

using namespace ipvsctl;
using guest::run;

namespace {

Client& client() {
    static Client instance = [] {
        auto opened = Client::open();
        if (!opened) throw std::runtime_error(opened.error().message());
        return std::move(*opened);
    }();
    return instance;
}

void require_ok(const Result<void>& result) {
    INFO((result.ok() ? std::string("ok") : result.error().message()));
    REQUIRE(result.ok());
}

void reset() {
    require_ok(client().flush());
    REQUIRE(run("ipvsadm -S -n").output.empty());
}

Address addr(const char* text) {
    return *Address::parse(text);
}

Service make_service(ServiceKey key, const char* sched = "wlc") {
    Service s;
    s.key = key;
    s.scheduler = sched;
    s.netmask = Service::default_netmask(key.family);
    return s;
}

Destination make_dest(const char* address, std::uint16_t port, ForwardMethod method,
                      int weight = 1) {
    Destination d;
    d.address = addr(address);
    d.port = port;
    d.method = method;
    d.weight = weight;
    return d;
}

std::map<std::string, guest::SavedService> ipvsadm_save() {
    const auto saved = run("ipvsadm -S -n");
    REQUIRE(saved.status == 0);
    return guest::parse_save(saved.output);
}

std::string method_flag(ForwardMethod m) {
    switch (m) {
        case ForwardMethod::Masquerade:
            return "-m";
        case ForwardMethod::Tunnel:
            return "-i";
        default:
            return "-g";  // ipvsadm prints local-node servers as -g too
    }
}

/// The library's table and ipvsadm's save must describe the same services.
void check_agrees_with_ipvsadm() {
    auto table = client().table();
    REQUIRE(table.ok());
    const auto saved = ipvsadm_save();
    REQUIRE(saved.size() == table->services.size());
    for (const auto& entry : table->services) {
        const Service& s = entry.service;
        const std::string key = guest::save_key(s.key);
        INFO("service " << key);
        REQUIRE(saved.contains(key));
        const auto& theirs = saved.at(key);
        CHECK(theirs.scheduler == s.scheduler);
        CHECK(theirs.persistence == (s.persistent() ? static_cast<int>(s.timeout) : -1));
        CHECK(theirs.one_packet == ((s.flags & service_flags::one_packet) != 0));
        CHECK(theirs.pe == s.pe_name);
        REQUIRE(theirs.destinations.size() == entry.destinations.size());
        for (const auto& d : entry.destinations) {
            INFO("destination " << d.endpoint());
            REQUIRE(theirs.destinations.contains(d.endpoint()));
            const auto& td = theirs.destinations.at(d.endpoint());
            CHECK(td.method == method_flag(d.method));
            CHECK(td.weight == d.weight);
            if (d.method == ForwardMethod::Tunnel && d.tunnel_type != TunnelType::IPIP) {
                CHECK(td.tunnel_type == to_string(d.tunnel_type));
            }
        }
    }
}

}  // namespace

TEST_CASE("info and timeouts agree with ipvsadm") {
    reset();
    auto info = client().info();
    REQUIRE(info.ok());
    CHECK(info->version_string() == "1.2.1");
    const auto header = run("ipvsadm -L -n").output;
    CHECK(header.rfind("IP Virtual Server version " + info->version_string() +
                           " (size=" + std::to_string(info->conn_table_size) + ")",
                       0) == 0);

    auto before = client().timeouts();
    REQUIRE(before.ok());
    CHECK(run("ipvsadm -L --timeout").output ==
          "Timeout (tcp tcpfin udp): " + std::to_string(before->tcp) + " " +
              std::to_string(before->tcp_fin) + " " + std::to_string(before->udp) + "\n");
    require_ok(client().set_timeouts({1000, 100, 200}));
    CHECK(run("ipvsadm -L --timeout").output == "Timeout (tcp tcpfin udp): 1000 100 200\n");
    // Zero leaves a value unchanged.
    require_ok(client().set_timeouts({0, 0, 250}));
    auto after = client().timeouts();
    REQUIRE(after.ok());
    CHECK(*after == Timeouts{1000, 100, 250});
    require_ok(client().set_timeouts(*before));
}

TEST_CASE("every scheduler the kernel has; a clear error for those it lacks") {
    reset();
    const char* schedulers[] = {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
                                "sh", "sed", "nq", "fo",  "ovf",  "mh",    "twos"};
    std::uint16_t port = 1000;
    int available = 0;
    for (const char* sched : schedulers) {
        INFO("scheduler " << sched);
        const Service s = make_service(ServiceKey::tcp(addr("10.0.0.1"), port++), sched);
        const auto added = client().add_service(s);
        if (guest::kernel_has_scheduler(sched)) {
            require_ok(added);
            ++available;
            auto back = client().service(s.key);
            REQUIRE(back.ok());
            CHECK(back->scheduler == sched);
        } else {
            REQUIRE_FALSE(added.ok());
            CHECK(added.error().errnum == ENOENT);
            CHECK(added.error().message() == "add service " + s.key.to_string() + ": scheduler '" +
                                                 sched + "' is not available in this kernel");
            // ipvsadm fails the same way on the same kernel.
            CHECK(run("ipvsadm -A -t 10.0.0.1:1 -s " + std::string(sched)).status == 255);
        }
    }
    CHECK(available >= 13);
    check_agrees_with_ipvsadm();

    // Scheduler flags, as ipvsadm -S shows them.
    Service sh = make_service(ServiceKey::tcp(addr("10.0.0.2"), 80), "sh");
    sh.flags = service_flags::sh_fallback | service_flags::sh_port;
    require_ok(client().add_service(sh));
    Service mh = make_service(ServiceKey::mark(77), "mh");
    mh.flags = service_flags::mh_port;
    require_ok(client().add_service(mh));
    const auto saved = ipvsadm_save();
    CHECK(saved.at("-t 10.0.0.2:80").sched_flags == "sh-fallback,sh-port");
    CHECK(saved.at("-f 77").sched_flags == "mh-port");
    CHECK(client().service(sh.key)->flags == (service_flags::sh_fallback | service_flags::sh_port));
}

TEST_CASE("services of every kind: add, get, edit, delete") {
    reset();
    Service tcp = make_service(ServiceKey::tcp(addr("10.0.0.1"), 80), "wrr");
    tcp.flags = service_flags::persistent;
    tcp.timeout = 300;
    tcp.netmask = 0xffffff00;
    Service udp6 = make_service(ServiceKey::udp(addr("2001:db8::1"), 53), "rr");
    udp6.flags = service_flags::persistent | service_flags::one_packet;
    udp6.timeout = 60;
    udp6.netmask = 64;
    Service sctp = make_service(ServiceKey::sctp(addr("10.0.0.3"), 3868), "lc");
    Service mark4 = make_service(ServiceKey::mark(7), "sh");
    Service mark6 = make_service(ServiceKey::mark(8, Family::Inet6), "wlc");
    Service sip = make_service(ServiceKey::udp(addr("10.0.0.4"), 5060), "rr");
    sip.flags = service_flags::persistent;
    sip.timeout = 120;
    sip.pe_name = "sip";
    for (const auto* s : {&tcp, &udp6, &sctp, &mark4, &mark6, &sip})
        require_ok(client().add_service(*s));

    auto listed = client().services();
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 6);
    for (const auto* s : {&tcp, &udp6, &sctp, &mark4, &mark6, &sip}) {
        auto back = client().service(s->key);
        REQUIRE(back.ok());
        INFO(s->key.to_string());
        CHECK(back->same_settings(*s));
    }
    check_agrees_with_ipvsadm();
    const auto saved = ipvsadm_save();
    CHECK(saved.at("-t 10.0.0.1:80").netmask == "255.255.255.0");
    CHECK(saved.at("-u [2001:db8::1]:53").netmask == "64");
    CHECK(saved.contains("-f 8 -6"));

    // Edit in place: scheduler, persistence and flags.
    tcp.scheduler = "lc";
    tcp.timeout = 900;
    require_ok(client().edit_service(tcp));
    CHECK(client().service(tcp.key)->same_settings(tcp));
    tcp.flags = 0;
    tcp.timeout = 0;
    tcp.netmask = 0xffffffff;
    require_ok(client().edit_service(tcp));
    CHECK(ipvsadm_save().at("-t 10.0.0.1:80").persistence == -1);
    check_agrees_with_ipvsadm();

    require_ok(client().delete_service(sctp.key));
    require_ok(client().delete_service(mark6.key));
    CHECK(client().services()->size() == 4);
    check_agrees_with_ipvsadm();

    // What ipvsadm programs, the library reads.
    REQUIRE(run("ipvsadm -A -t 10.0.0.9:8080 -s sed -p 30").status == 0);
    auto theirs = client().service(ServiceKey::tcp(addr("10.0.0.9"), 8080));
    REQUIRE(theirs.ok());
    CHECK(theirs->scheduler == "sed");
    CHECK(theirs->persistent());
    CHECK(theirs->timeout == 30);
}

TEST_CASE("destinations: every forwarding method, tunnel type and threshold") {
    reset();
    const ServiceKey key = ServiceKey::tcp(addr("10.0.0.1"), 80);
    require_ok(client().add_service(make_service(key)));
    Destination nat = make_dest("10.1.0.1", 8080, ForwardMethod::Masquerade, 3);
    nat.upper_threshold = 100;
    nat.lower_threshold = 10;
    Destination dr = make_dest("10.1.0.2", 80, ForwardMethod::Route, 0);
    Destination ipip = make_dest("10.1.0.3", 80, ForwardMethod::Tunnel, 2);
    Destination gue = make_dest("10.1.0.4", 80, ForwardMethod::Tunnel, 1);
    gue.tunnel_type = TunnelType::GUE;
    gue.tunnel_port = 6080;
    gue.tunnel_flags = tunnel_flags::csum;
    Destination gue_rem = gue;
    gue_rem.address = addr("10.1.0.5");
    gue_rem.tunnel_flags = tunnel_flags::remcsum;
    Destination gre = make_dest("10.1.0.6", 80, ForwardMethod::Tunnel, 1);
    gre.tunnel_type = TunnelType::GRE;
    gre.tunnel_flags = tunnel_flags::csum;
    const std::vector<Destination> all = {nat, dr, ipip, gue, gue_rem, gre};
    for (const auto& d : all) require_ok(client().add_destination(key, d));

    auto dests = client().destinations(key);
    REQUIRE(dests.ok());
    REQUIRE(dests->size() == all.size());
    for (const auto& want : all) {
        bool found = false;
        for (const auto& got : *dests)
            if (got.same_endpoint(want)) {
                found = true;
                INFO(want.endpoint());
                CHECK(got.same_settings(want));
            }
        CHECK(found);
    }
    check_agrees_with_ipvsadm();

    // Thresholds and tunnel details, through ipvsadm's listings.
    auto thresholds = guest::destination_rows(run("ipvsadm -L -n --thresholds").output);
    CHECK(thresholds.at("10.1.0.1:8080").at(0) == "100");
    CHECK(thresholds.at("10.1.0.1:8080").at(1) == "10");
    auto tunnels = guest::destination_rows(run("ipvsadm -L -n --tun-info").output);
    CHECK(tunnels.at("10.1.0.4:80").at(1) == "gue:6080:+c");
    CHECK(tunnels.at("10.1.0.5:80").at(1) == "gue:6080:r+c");
    CHECK(tunnels.at("10.1.0.6:80").at(1) == "gre:+c");
    CHECK(tunnels.at("10.1.0.3:80").at(1) == "ipip");

    // Edit: weight, thresholds and forwarding method change in place.
    nat.weight = 7;
    nat.upper_threshold = 0;
    nat.lower_threshold = 0;
    require_ok(client().edit_destination(key, nat));
    // A lower threshold above the upper one is refused with a reason.
    Destination inverted = nat;
    inverted.upper_threshold = 5;
    inverted.lower_threshold = 50;
    auto refused = client().edit_destination(key, inverted);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().detail == "lower threshold is above the upper threshold");
    dr.method = ForwardMethod::Masquerade;
    require_ok(client().edit_destination(key, dr));
    check_agrees_with_ipvsadm();
    thresholds = guest::destination_rows(run("ipvsadm -L -n --thresholds").output);
    CHECK(thresholds.at("10.1.0.1:8080").at(0) == "0");

    require_ok(client().delete_destination(key, gre));
    CHECK(client().destinations(key)->size() == all.size() - 1);
    check_agrees_with_ipvsadm();

    // IPv6 real servers behind an IPv6 service, and a fwmark service.
    const ServiceKey v6 = ServiceKey::tcp(addr("2001:db8::1"), 443);
    require_ok(client().add_service(make_service(v6, "rr")));
    require_ok(
        client().add_destination(v6, make_dest("2001:db8:1::5", 443, ForwardMethod::Masquerade)));
    require_ok(client().add_destination(v6, make_dest("2001:db8:1::6", 443, ForwardMethod::Route)));
    const ServiceKey mark = ServiceKey::mark(9);
    require_ok(client().add_service(make_service(mark, "wrr")));
    require_ok(client().add_destination(mark, make_dest("10.1.0.9", 0, ForwardMethod::Route, 4)));
    check_agrees_with_ipvsadm();

    // The local-node forwarding method (the director itself serves).
    require_ok(client().add_destination(key, make_dest("127.0.0.1", 80, ForwardMethod::Local)));
    bool saw_local = false;
    const auto with_local = client().destinations(key);
    REQUIRE(with_local.ok());
    for (const auto& d : *with_local)
        if (d.address == addr("127.0.0.1")) saw_local = d.method == ForwardMethod::Local;
    CHECK(saw_local);
    CHECK(guest::destination_rows(run("ipvsadm -L -n").output).at("127.0.0.1:80").at(0) == "Local");
    check_agrees_with_ipvsadm();
    require_ok(client().delete_destination(key, make_dest("127.0.0.1", 80, ForwardMethod::Local)));

    // And what ipvsadm adds, the library reads, connection counts included.
    REQUIRE(run("ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.20:80 -m -w 9 -x 50 -y 5").status == 0);
    const auto after_ipvsadm = client().destinations(key);
    REQUIRE(after_ipvsadm.ok());
    for (const auto& d : *after_ipvsadm)
        if (d.address == addr("10.1.0.20")) {
            CHECK(d.weight == 9);
            CHECK(d.method == ForwardMethod::Masquerade);
            CHECK(d.upper_threshold == 50);
            CHECK(d.lower_threshold == 5);
            CHECK(d.active_conns == 0);
        }
}

TEST_CASE("the connection-sync daemon: start, list, stop") {
    reset();
    REQUIRE(client().daemons()->empty());
    SyncDaemon master;
    master.state = SyncState::Master;
    master.interface = "lo";
    master.sync_id = 5;
    require_ok(client().start_daemon(master));
    auto daemons = client().daemons();
    REQUIRE(daemons.ok());
    REQUIRE(daemons->size() == 1);
    CHECK(daemons->at(0).state == SyncState::Master);
    CHECK(daemons->at(0).interface == "lo");
    CHECK(daemons->at(0).sync_id == 5);
    const auto& d = daemons->at(0);
    CHECK(run("ipvsadm -L --daemon").output ==
          "master sync daemon (mcast=lo, syncid=5, maxlen=" + std::to_string(d.max_len) +
              ", group=" + d.group->to_string() + ", port=" + std::to_string(d.port) +
              ", ttl=" + std::to_string(d.ttl) + ")\n");

    SyncDaemon backup;
    backup.state = SyncState::Backup;
    backup.interface = "ipvs0";
    backup.sync_id = 6;
    backup.group = addr("239.1.2.3");
    backup.port = 8850;
    backup.ttl = 3;
    backup.max_len = 1400;
    require_ok(client().start_daemon(backup));
    daemons = client().daemons();
    REQUIRE(daemons->size() == 2);
    bool seen_backup = false;
    for (const auto& each : *daemons)
        if (each.state == SyncState::Backup) {
            seen_backup = true;
            CHECK(each.interface == "ipvs0");
            CHECK(each.sync_id == 6);
            CHECK(each.group == addr("239.1.2.3"));
            CHECK(each.port == 8850);
            CHECK(each.max_len == 1400);
        }
    CHECK(seen_backup);
    CHECK(run("ipvsadm -L --daemon").output.find("backup sync daemon (mcast=ipvs0, syncid=6") !=
          std::string::npos);

    // Starting a second master is refused.
    auto again = client().start_daemon(master);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().errnum == EEXIST);

    require_ok(client().stop_daemon(SyncState::Master));
    require_ok(client().stop_daemon(SyncState::Backup));
    CHECK(client().daemons()->empty());
    CHECK(run("ipvsadm -L --daemon").output.empty());
}

TEST_CASE("errors name what was wrong") {
    reset();
    const ServiceKey key = ServiceKey::tcp(addr("10.0.0.1"), 80);
    require_ok(client().add_service(make_service(key)));

    auto dup = client().add_service(make_service(key));
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().errnum == EEXIST);
    CHECK(dup.error().message() == "add service TCP 10.0.0.1:80: service already exists");

    auto unknown =
        client().add_service(make_service(ServiceKey::tcp(addr("10.0.0.2"), 80), "nosuch"));
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message() ==
          "add service TCP 10.0.0.2:80: scheduler 'nosuch' is not available in this kernel");

    const ServiceKey missing = ServiceKey::tcp(addr("10.9.9.9"), 80);
    auto gone = client().delete_service(missing);
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.error().errnum == ESRCH);
    CHECK(gone.error().message() == "delete service TCP 10.9.9.9:80: service does not exist");
    CHECK(client().service(missing).error().errnum == ESRCH);
    CHECK(client().destinations(missing).error().errnum == ESRCH);
    CHECK(client()
              .add_destination(missing, make_dest("10.1.0.1", 80, ForwardMethod::Route))
              .error()
              .errnum == ESRCH);
    CHECK(client().edit_service(make_service(missing)).error().errnum == ESRCH);

    require_ok(client().add_destination(key, make_dest("10.1.0.1", 80, ForwardMethod::Route)));
    auto dup_dest = client().add_destination(key, make_dest("10.1.0.1", 80, ForwardMethod::Route));
    CHECK(dup_dest.error().message() ==
          "add destination 10.1.0.1:80 in TCP 10.0.0.1:80: destination already exists");
    auto no_dest =
        client().delete_destination(key, make_dest("10.1.0.2", 80, ForwardMethod::Route));
    CHECK(no_dest.error().message() ==
          "delete destination 10.1.0.2:80 in TCP 10.0.0.1:80: destination does not exist");

    // Bad address family: caught before the kernel, and by the kernel.
    ServiceKey mixed = ServiceKey::tcp(addr("10.0.0.5"), 80);
    mixed.family = Family::Inet6;
    auto bad = client().add_service(make_service(mixed));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message().find("family") != std::string::npos);
    auto v6_into_v4 =
        client().add_destination(key, make_dest("2001:db8::9", 80, ForwardMethod::Masquerade));
    REQUIRE_FALSE(v6_into_v4.ok());
    CHECK(v6_into_v4.error().errnum != 0);

    // Nothing of the failed requests reached the table.
    check_agrees_with_ipvsadm();
    CHECK(client().services()->size() == 1);
}

TEST_CASE("batches: thousands of requests, every ack matched, first failure named") {
    reset();
    std::vector<Operation> ops;
    for (std::uint32_t i = 0; i < 500; ++i) {
        const ServiceKey key = ServiceKey::tcp(Address::v4(0x0a000000 + i), 80);
        ops.push_back(Operation::add_service(make_service(key, "rr")));
        for (std::uint32_t j = 0; j < 4; ++j) {
            Destination d;
            d.address = Address::v4(0x0a010000 + i * 4 + j);
            d.port = 80;
            d.method = ForwardMethod::Masquerade;
            ops.push_back(Operation::add_destination(key, d));
        }
    }
    auto report = client().execute_batch(ops);
    REQUIRE(report.ok());
    CHECK(report->ok());
    CHECK(report->succeeded() == ops.size());
    auto table = client().table();
    REQUIRE(table.ok());
    CHECK(table->services.size() == 500);
    CHECK(guest::split_lines(run("ipvsadm -S -n").output).size() == 2500);

    // A failure in the middle: the report names it; with stop_on_error the
    // chunks after it are not sent.
    std::vector<Operation> mixed;
    for (std::uint32_t i = 0; i < 100; ++i)
        mixed.push_back(
            Operation::add_service(make_service(ServiceKey::tcp(Address::v4(0x0b000000 + i), 80))));
    mixed[40] = Operation::add_service(
        make_service(ServiceKey::tcp(Address::v4(0x0a000000), 80)));  // exists
    auto partial =
        client().execute_batch(mixed, BatchOptions{.requests_per_send = 16, .stop_on_error = true});
    REQUIRE(partial.ok());
    CHECK_FALSE(partial->ok());
    CHECK(partial->first_failure() == 40);
    CHECK(partial->status[40] == EEXIST);
    CHECK(partial->not_sent == 100 - 48);
    CHECK(partial->succeeded() == 47);
    const Error err = batch_error(mixed, *partial);
    CHECK(err.message() ==
          "add service TCP 10.0.0.0:80: service already exists (request 41 of the batch)");
    check_agrees_with_ipvsadm();
}

TEST_CASE("plan and apply: edits in place, idempotent, rolled back on refusal") {
    reset();
    Table current;
    for (std::uint32_t i = 0; i < 20; ++i) {
        ServiceEntry e{make_service(ServiceKey::tcp(Address::v4(0x0a000000 + i), 80), "wlc"), {}};
        for (std::uint32_t j = 0; j < 3; ++j) {
            Destination d;
            d.address = Address::v4(0x0a010000 + i * 4 + j);
            d.port = 80;
            e.destinations.push_back(d);
        }
        current.services.push_back(e);
    }
    auto first = apply_plan(client(), make_plan(*client().table(), current), *client().table());
    REQUIRE(first.ok());
    CHECK(first->applied == 20 * 4);

    Table desired = current;
    desired.services[0].service.scheduler = "rr";
    desired.services[1].destinations[0].weight = 9;
    desired.services[2].destinations.pop_back();
    desired.services.pop_back();
    desired.services.push_back({make_service(ServiceKey::udp(addr("10.0.0.200"), 53), "sh"), {}});
    auto before = client().table();
    REQUIRE(before.ok());
    const Plan plan = make_plan(*before, desired, {.prune = true});
    CHECK(plan.operations.size() == 5);
    for (const auto& op : plan.operations) {
        INFO(op.describe());
        CHECK(op.kind != OpKind::AddDestination);  // nothing is re-added
    }
    auto applied = apply_plan(client(), plan, *before);
    REQUIRE(applied.ok());
    CHECK(make_plan(*client().table(), desired, {.prune = true}).empty());
    check_agrees_with_ipvsadm();

    // A refused operation midway: everything applied before it is undone.
    const std::string saved_before = run("ipvsadm -S -n").output;
    Table broken = desired;
    broken.services[0].service.scheduler = "nosuch";  // refused by the kernel
    broken.services[5].destinations[0].weight = 42;
    broken.services.push_back({make_service(ServiceKey::tcp(addr("10.0.0.201"), 80)), {}});
    auto now = client().table();
    const Plan bad_plan = make_plan(*now, broken, {.prune = true});
    auto refused = apply_plan(client(), bad_plan, *now);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message().find("scheduler 'nosuch' is not available") !=
          std::string::npos);
    CHECK(refused.error().message().find("rolled back") != std::string::npos);
    CHECK(run("ipvsadm -S -n").output == saved_before);
}

TEST_CASE("zero and flush") {
    reset();
    const ServiceKey key = ServiceKey::tcp(addr("10.0.0.1"), 80);
    require_ok(client().add_service(make_service(key)));
    require_ok(client().zero(key));
    require_ok(client().zero_all());
    CHECK(client().zero(ServiceKey::tcp(addr("10.0.0.2"), 80)).error().errnum == ESRCH);
    auto stats = guest::service_rows(run("ipvsadm -L -n --stats --exact").output);
    CHECK(stats.at("TCP 10.0.0.1:80").at(0) == "0");
    require_ok(client().flush());
    CHECK(client().services()->empty());
    CHECK(run("ipvsadm -S -n").output.empty());
}

TEST_CASE("a handle inside a named network namespace sees only that namespace") {
    reset();
    REQUIRE(run("ip netns add ipvsctl-t1").status == 0);
    {
        ClientOptions options;
        options.netns = "ipvsctl-t1";
        auto inside = Client::open(options);
        REQUIRE(inside.ok());
        require_ok(inside->add_service(make_service(ServiceKey::tcp(addr("10.5.0.1"), 80))));
        CHECK(inside->services()->size() == 1);
        CHECK(client().services()->empty());
        CHECK(run("ip netns exec ipvsctl-t1 ipvsadm -S -n").output == "-A -t 10.5.0.1:80 -s wlc\n");
    }
    ClientOptions missing_ns;
    missing_ns.netns = "no-such-ns";
    auto nowhere = Client::open(missing_ns);
    REQUIRE_FALSE(nowhere.ok());
    CHECK(nowhere.error().message().find("no-such-ns") != std::string::npos);
    // Flushed first: a deleted namespace frees its services only later, and
    // until then ip_vs's module references count them (later tests count
    // the netlink requests of reads that rely on those references).
    run("ip netns exec ipvsctl-t1 ipvsadm -C; ip netns del ipvsctl-t1");
}

namespace {

/// A client and a real server in their own namespaces, the guest's root
/// namespace as a NAT director between them:
///   client 198.18.0.2 -- 198.18.0.1 director 198.18.1.1 -- 198.18.1.2 server
struct NatLab {
    NatLab() {
        const char* setup = R"SH(set -e
            ip netns add lab-c; ip netns add lab-s
            ip link add lab-vc type veth peer name eth0 netns lab-c
            ip link add lab-vs type veth peer name eth0 netns lab-s
            ip addr add 198.18.0.1/24 dev lab-vc; ip link set lab-vc up
            ip addr add 198.18.1.1/24 dev lab-vs; ip link set lab-vs up
            for ns in lab-c lab-s; do ip -n $ns link set lo up; ip -n $ns link set eth0 up; done
            ip -n lab-c addr add 198.18.0.2/24 dev eth0; ip -n lab-c route add default via 198.18.0.1
            ip -n lab-s addr add 198.18.1.2/24 dev eth0; ip -n lab-s route add default via 198.18.1.1
            sysctl -qw net.ipv4.ip_forward=1
            mkdir -p /tmp/lab-www && echo hello > /tmp/lab-www/index.html
            cd /tmp/lab-www && ip netns exec lab-s python3 -m http.server 8080 --bind 198.18.1.2 >/dev/null 2>&1 &
            for i in $(seq 100); do ip netns exec lab-s python3 -c "import socket; socket.create_connection(('198.18.1.2', 8080), 1)" 2>/dev/null && exit 0; sleep 0.2; done
            exit 1)SH";
        const auto result = run(setup);
        INFO(result.output);
        REQUIRE(result.status == 0);
    }
    ~NatLab() {
        run("pkill -f 'http.server 8080'; ip netns del lab-c; ip netns del lab-s; ip link del "
            "lab-vc; ip link del lab-vs");
    }

    /// Makes `count` HTTP requests from the client to the VIP; returns how many succeeded.
    static int requests(int count) {
        const auto r =
            run("ip netns exec lab-c python3 -c \"import urllib.request\nok = 0\nfor _ in range(" +
                std::to_string(count) +
                "):\n    ok += urllib.request.urlopen('http://198.18.0.1/', timeout=5).read() == "
                "b'hello\\n'\nprint(ok)\"");
        return r.status == 0 ? std::stoi(r.output) : -1;
    }
};

}  // namespace

TEST_CASE("statistics and connection counts agree with ipvsadm under real traffic") {
    reset();
    NatLab lab;
    const ServiceKey vip = ServiceKey::tcp(addr("198.18.0.1"), 80);
    require_ok(client().add_service(make_service(vip, "rr")));
    require_ok(
        client().add_destination(vip, make_dest("198.18.1.2", 8080, ForwardMethod::Masquerade)));
    REQUIRE(NatLab::requests(20) == 20);

    // The kernel folds per-CPU counters into what it reports every two
    // seconds; wait until the reported counters have settled.
    Stats last;
    for (int i = 0; i < 20; ++i) {
        ::usleep(2500 * 1000);
        const Stats now = client().service(vip)->stats;
        if (now.conns == 20 && now == last) break;
        last = now;
    }
    auto service = client().service(vip);
    REQUIRE(service.ok());
    CHECK(service->stats.conns == 20);
    CHECK(service->stats.in_packets >= 20 * 5);
    CHECK(service->stats.out_bytes > service->stats.in_bytes);  // responses are larger
    auto dests = client().destinations(vip);
    REQUIRE(dests.ok());
    REQUIRE(dests->size() == 1);
    CHECK(dests->at(0).stats.conns == 20);
    CHECK(dests->at(0).active_conns + dests->at(0).inactive_conns == 20);

    // Counters, through ipvsadm --stats --exact, service and destination rows.
    const auto services = guest::service_rows(run("ipvsadm -L -n --stats --exact").output);
    const auto& row = services.at("TCP 198.18.0.1:80");
    CHECK(row.at(0) == std::to_string(service->stats.conns));
    CHECK(row.at(1) == std::to_string(service->stats.in_packets));
    CHECK(row.at(2) == std::to_string(service->stats.out_packets));
    CHECK(row.at(3) == std::to_string(service->stats.in_bytes));
    CHECK(row.at(4) == std::to_string(service->stats.out_bytes));
    const auto dest_rows = guest::destination_rows(run("ipvsadm -L -n --stats --exact").output);
    CHECK(dest_rows.at("198.18.1.2:8080").at(0) == "20");
    const auto conn_rows = guest::destination_rows(run("ipvsadm -L -n").output);
    CHECK(conn_rows.at("198.18.1.2:8080").at(2) == std::to_string(dests->at(0).active_conns));
    CHECK(conn_rows.at("198.18.1.2:8080").at(3) == std::to_string(dests->at(0).inactive_conns));

    // Rates are estimated every two seconds: ipvsadm's reading must equal
    // ours from just before or just after it.
    const auto ours_before = client().service(vip)->stats;
    const auto rates =
        guest::service_rows(run("ipvsadm -L -n --rate").output).at("TCP 198.18.0.1:80");
    const auto ours_after = client().service(vip)->stats;
    const auto matches = [&](std::size_t column, std::uint64_t a, std::uint64_t b) {
        return rates.at(column) == std::to_string(a) || rates.at(column) == std::to_string(b);
    };
    CHECK(matches(0, ours_before.cps, ours_after.cps));
    CHECK(matches(1, ours_before.in_pps, ours_after.in_pps));
    CHECK(matches(4, ours_before.out_bps, ours_after.out_bps));

    // Zeroing one service clears its counters.
    require_ok(client().zero(vip));
    CHECK(client().service(vip)->stats.conns == 0);
    CHECK(guest::service_rows(run("ipvsadm -L -n --stats --exact").output)
              .at("TCP 198.18.0.1:80")
              .at(0) == "0");
}

TEST_CASE("basic table detail from /proc/net/ip_vs matches the full netlink read") {
    reset();
    const ServiceKey web = ServiceKey::tcp(addr("10.0.0.1"), 80);
    const ServiceKey dns6 = ServiceKey::udp(addr("2001:db8::1"), 53);
    const ServiceKey mark = ServiceKey::mark(5);
    const ServiceKey tunnelled = ServiceKey::tcp(addr("10.0.0.2"), 443);
    for (const auto& key : {web, dns6, mark, tunnelled})
        require_ok(client().add_service(make_service(key, "rr")));
    Destination thresholds = make_dest("10.1.0.1", 8080, ForwardMethod::Masquerade, 3);
    thresholds.upper_threshold = 10;  // not in the text: Basic reads 0
    require_ok(client().add_destination(web, thresholds));
    require_ok(client().add_destination(web, make_dest("10.1.0.2", 80, ForwardMethod::Route, 0)));
    require_ok(client().add_destination(
        dns6, make_dest("2001:db8:1::5", 53, ForwardMethod::Masquerade, 2)));
    require_ok(client().add_destination(mark, make_dest("10.1.0.9", 0, ForwardMethod::Route, 1)));
    Destination gue = make_dest("10.1.0.7", 443, ForwardMethod::Tunnel, 1);
    gue.tunnel_type = TunnelType::GUE;
    gue.tunnel_port = 6080;
    require_ok(client().add_destination(tunnelled, gue));

    auto full = client().table(TableDetail::Full);
    auto basic = client().table(TableDetail::Basic);
    REQUIRE(full.ok());
    REQUIRE(basic.ok());
    REQUIRE(full->services.size() == basic->services.size());
    for (std::size_t i = 0; i < full->services.size(); ++i) {
        const auto& f = full->services[i];
        const auto& b = basic->services[i];
        INFO(f.service.key.to_string());
        CHECK(f.service.same_settings(b.service));
        REQUIRE(f.destinations.size() == b.destinations.size());
        for (std::size_t j = 0; j < f.destinations.size(); ++j) {
            const auto& fd = f.destinations[j];
            const auto& bd = b.destinations[j];
            CHECK(fd.same_endpoint(bd));
            CHECK(fd.method == bd.method);
            CHECK(fd.weight == bd.weight);
            CHECK(fd.active_conns == bd.active_conns);
            CHECK(fd.inactive_conns == bd.inactive_conns);
            // Tunnel parameters survive: such services are read in full.
            if (fd.method == ForwardMethod::Tunnel) CHECK(fd.same_settings(bd));
        }
    }

    // Basic sends one services dump plus one dump for the tunnelled service;
    // Full sends one dump per service more.
    int sent = 0;
    ClientOptions counting;
    counting.trace = [&](bool outgoing, std::span<const std::uint8_t>) { sent += outgoing; };
    auto counted = Client::open(counting);
    REQUIRE(counted.ok());
    sent = 0;
    REQUIRE(counted->table(TableDetail::Basic).ok());
    CHECK(sent == 2);
    sent = 0;
    REQUIRE(counted->table(TableDetail::Full).ok());
    CHECK(sent == 5);
}

TEST_CASE("settings table detail through getsockopt matches the full netlink read") {
    reset();
    const ServiceKey web = ServiceKey::tcp(addr("10.0.0.1"), 80);
    const ServiceKey dns6 = ServiceKey::udp(addr("2001:db8::1"), 53);
    const ServiceKey mark = ServiceKey::mark(5);
    const ServiceKey tunnelled = ServiceKey::tcp(addr("10.0.0.2"), 443);
    const ServiceKey mixed = ServiceKey::tcp(addr("10.0.0.3"), 80);
    const ServiceKey empty = ServiceKey::sctp(addr("10.0.0.4"), 9);
    for (const auto& key : {web, dns6, mark, tunnelled, mixed, empty})
        require_ok(client().add_service(make_service(key, "wrr")));
    Destination thresholds = make_dest("10.1.0.1", 8080, ForwardMethod::Masquerade, 3);
    thresholds.upper_threshold = 10;  // not in the text: only netlink and getsockopt give these
    thresholds.lower_threshold = 4;
    require_ok(client().add_destination(web, thresholds));
    require_ok(client().add_destination(web, make_dest("10.1.0.2", 80, ForwardMethod::Route, 0)));
    require_ok(client().add_destination(
        dns6, make_dest("2001:db8:1::5", 53, ForwardMethod::Masquerade, 2)));
    Destination marked = make_dest("10.1.0.9", 0, ForwardMethod::Route, 1);
    marked.upper_threshold = 20;
    marked.lower_threshold = 7;
    require_ok(client().add_destination(mark, marked));
    Destination gue = make_dest("10.1.0.7", 443, ForwardMethod::Tunnel, 1);
    gue.tunnel_type = TunnelType::GUE;
    gue.tunnel_port = 6080;
    require_ok(client().add_destination(tunnelled, gue));
    // An IPv6 real server of an IPv4 service (tunnel only): getsockopt()
    // skips it, so the count check must send this service to netlink.
    require_ok(
        client().add_destination(mixed, make_dest("10.1.0.11", 80, ForwardMethod::Masquerade, 1)));
    require_ok(
        client().add_destination(mixed, make_dest("2001:db8:1::9", 80, ForwardMethod::Tunnel, 1)));

    auto full = client().table(TableDetail::Full);
    auto settings = client().table(TableDetail::Settings);
    REQUIRE(full.ok());
    REQUIRE(settings.ok());
    REQUIRE(full->services.size() == settings->services.size());
    for (std::size_t i = 0; i < full->services.size(); ++i) {
        const auto& f = full->services[i];
        const auto& s = settings->services[i];
        INFO(f.service.key.to_string());
        CHECK(f.service.same_settings(s.service));
        REQUIRE(f.destinations.size() == s.destinations.size());
        for (std::size_t j = 0; j < f.destinations.size(); ++j) {
            const auto& fd = f.destinations[j];
            const auto& sd = s.destinations[j];
            CHECK(fd.same_endpoint(sd));
            CHECK(fd.same_settings(sd));
            CHECK(fd.active_conns == sd.active_conns);
            CHECK(fd.inactive_conns == sd.inactive_conns);
            CHECK(fd.persistent_conns == sd.persistent_conns);
        }
    }

    // Netlink: the services dump that finds the IPv6 service (so the
    // getsockopt() services list, IPv4 only, is not enough), the services
    // dump again, one dump each for the IPv6, the tunnelled and the mixed
    // service; web, mark and empty go by getsockopt.
    int sent = 0;
    ClientOptions counting;
    counting.trace = [&](bool outgoing, std::span<const std::uint8_t>) { sent += outgoing; };
    auto counted = Client::open(counting);
    REQUIRE(counted.ok());
    sent = 0;
    REQUIRE(counted->table(TableDetail::Settings).ok());
    CHECK(sent == 5);
    sent = 0;
    REQUIRE(counted->table(TableDetail::Full).ok());
    CHECK(sent == 7);
}

namespace {
/// Settings and Full list the same services in the same order, with the
/// same settings and connection counts.
void check_settings_match_full(const Table& full, const Table& settings) {
    REQUIRE(full.services.size() == settings.services.size());
    for (std::size_t i = 0; i < full.services.size(); ++i) {
        const auto& f = full.services[i];
        const auto& s = settings.services[i];
        INFO(f.service.key.to_string());
        CHECK(f.service.key == s.service.key);
        CHECK(f.service.same_settings(s.service));
        CHECK(f.service.scheduler == s.service.scheduler);
        CHECK(f.service.flags == s.service.flags);
        CHECK(f.service.timeout == s.service.timeout);
        CHECK(f.service.netmask == s.service.netmask);
        CHECK(f.service.pe_name == s.service.pe_name);
        REQUIRE(f.destinations.size() == s.destinations.size());
        for (std::size_t j = 0; j < f.destinations.size(); ++j) {
            const auto& fd = f.destinations[j];
            const auto& sd = s.destinations[j];
            CHECK(fd.same_endpoint(sd));
            CHECK(fd.same_settings(sd));
            CHECK(fd.active_conns == sd.active_conns);
            CHECK(fd.inactive_conns == sd.inactive_conns);
            CHECK(fd.persistent_conns == sd.persistent_conns);
        }
    }
}
}  // namespace

TEST_CASE("settings table detail of IPv4 services through getsockopt alone matches netlink") {
    reset();
    // Every scheduler, service flag, persistence timeout and netmask the
    // getsockopt() service entry carries, and fwmark services.
    const char* schedulers[] = {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
                                "sh", "sed", "nq", "fo",  "ovf",  "mh"};
    std::vector<Service> services;
    std::uint16_t port = 1000;
    for (const char* sched : schedulers) {
        Service s = make_service(ServiceKey::tcp(addr("10.0.0.1"), port++), sched);
        services.push_back(s);
    }
    Service persistent = make_service(ServiceKey::udp(addr("10.0.0.2"), 53), "wrr");
    persistent.flags = service_flags::persistent | service_flags::one_packet;
    persistent.timeout = 1234;
    persistent.netmask = 0xffffff00;
    services.push_back(persistent);
    Service hashed = make_service(ServiceKey::tcp(addr("10.0.0.2"), 80), "sh");
    hashed.flags = service_flags::sh_fallback | service_flags::sh_port;
    services.push_back(hashed);
    Service maglev = make_service(ServiceKey::sctp(addr("10.0.0.2"), 9), "mh");
    maglev.flags = service_flags::mh_fallback | service_flags::mh_port | service_flags::sched3;
    services.push_back(maglev);
    Service mark = make_service(ServiceKey::mark(5), "lc");
    mark.flags = service_flags::persistent;
    mark.timeout = 60;
    mark.netmask = 0xffff0000;
    services.push_back(mark);
    services.push_back(make_service(ServiceKey::mark(6), "rr"));
    const ServiceKey tunnelled = ServiceKey::tcp(addr("10.0.0.3"), 443);
    const ServiceKey mixed = ServiceKey::tcp(addr("10.0.0.3"), 80);
    services.push_back(make_service(tunnelled, "wlc"));
    services.push_back(make_service(mixed, "wlc"));
    for (const auto& s : services) require_ok(client().add_service(s));

    Destination thresholds = make_dest("10.1.0.1", 8080, ForwardMethod::Masquerade, 3);
    thresholds.upper_threshold = 10;
    thresholds.lower_threshold = 4;
    require_ok(client().add_destination(services[0].key, thresholds));
    require_ok(client().add_destination(services[0].key,
                                        make_dest("10.1.0.2", 80, ForwardMethod::Route, 0)));
    require_ok(client().add_destination(persistent.key,
                                        make_dest("10.1.0.3", 53, ForwardMethod::Local, 2)));
    require_ok(client().add_destination(mark.key, make_dest("10.1.0.9", 0, ForwardMethod::Route)));
    Destination gue = make_dest("10.1.0.7", 443, ForwardMethod::Tunnel, 1);
    gue.tunnel_type = TunnelType::GUE;
    gue.tunnel_port = 6080;
    require_ok(client().add_destination(tunnelled, gue));
    require_ok(
        client().add_destination(mixed, make_dest("10.1.0.11", 80, ForwardMethod::Masquerade)));
    require_ok(
        client().add_destination(mixed, make_dest("2001:db8:1::9", 80, ForwardMethod::Tunnel)));

    // A connection, so that a service has statistics: the netlink read
    // reports them and the getsockopt() one leaves them 0, which tells the
    // two reads apart below. The kernel folds its counters every 2 s.
    run("python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
        "s.sendto(b'x', ('10.0.0.2', 53))\"");
    const auto counted_conns = [&](const Table& table) {
        std::uint64_t conns = 0;
        for (const auto& entry : table.services)
            if (entry.service.key == persistent.key) conns = entry.service.stats.conns;
        return conns;
    };
    auto full = client().table(TableDetail::Full);
    for (int i = 0; i < 100 && full.ok() && counted_conns(*full) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        full = client().table(TableDetail::Full);
    }
    REQUIRE(full.ok());
    REQUIRE(counted_conns(*full) > 0);
    auto settings = client().table(TableDetail::Settings);
    REQUIRE(settings.ok());
    REQUIRE(full->services.size() == services.size());
    check_settings_match_full(*full, *settings);
    // Read through getsockopt(): service statistics are left 0.
    for (const auto& entry : settings->services) CHECK(entry.service.stats == Stats{});

    // Netlink: one real-server dump each for the tunnelled and the mixed
    // service. No services dump: ip_vs's module references (this guest has
    // no other IPVS namespace) count exactly the IPv4 services getsockopt()
    // listed, so there are no IPv6 services to look for.
    int sent = 0;
    ClientOptions counting;
    counting.trace = [&](bool outgoing, std::span<const std::uint8_t>) { sent += outgoing; };
    auto counted = Client::open(counting);
    REQUIRE(counted.ok());
    sent = 0;
    REQUIRE(counted->table(TableDetail::Settings).ok());
    CHECK(sent == 2);

    // A persistence engine, which getsockopt() does not report, sends the
    // whole read to netlink while any service uses one.
    Service sip = make_service(ServiceKey::udp(addr("10.0.0.4"), 5060), "rr");
    sip.flags = service_flags::persistent;
    sip.timeout = 120;
    sip.pe_name = "sip";
    require_ok(client().add_service(sip));
    full = client().table(TableDetail::Full);
    settings = client().table(TableDetail::Settings);
    REQUIRE(full.ok());
    REQUIRE(settings.ok());
    check_settings_match_full(*full, *settings);
    bool found = false;
    for (const auto& entry : settings->services)
        if (entry.service.key == sip.key) found = entry.service.pe_name == "sip";
    CHECK(found);
    CHECK(counted_conns(*settings) > 0);  // read through netlink
    require_ok(client().delete_service(sip.key));
    settings = client().table(TableDetail::Settings);
    REQUIRE(settings.ok());
    CHECK(counted_conns(*settings) == 0);  // getsockopt() again: no service holds the engine
}
