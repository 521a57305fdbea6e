// SPDX-License-Identifier: GPL-2.0-or-later
// Build-then-parse round trips of every request kind, and decoder
// robustness, without a kernel.
#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <memory>

#include "wire.hpp"

using namespace ipvsctl;

namespace {

constexpr std::uint16_t family_id = 0x1d;

wire::Bytes encode(const Operation& op, std::uint32_t seq = 42) {
    wire::Bytes bytes;
    REQUIRE(wire::append_operation(bytes, family_id, seq, op).ok());
    return bytes;
}

/// Keeps every encoded buffer alive for the test's duration, since messages
/// are views into it.
std::vector<std::unique_ptr<wire::Bytes>>& keep_alive() {
    static std::vector<std::unique_ptr<wire::Bytes>> buffers;
    return buffers;
}

wire::Message only_message(wire::Bytes&& temporary) {
    keep_alive().push_back(std::make_unique<wire::Bytes>(std::move(temporary)));
    const wire::Bytes& bytes = *keep_alive().back();
    bool malformed = true;
    auto messages = wire::split_messages(bytes, &malformed);
    REQUIRE_FALSE(malformed);
    REQUIRE(messages.size() == 1);
    return messages.front();
}

std::uint8_t genl_command(const wire::Message& m) {
    return m.bytes[NLMSG_HDRLEN];
}

Service sample_service() {
    Service s;
    s.key = ServiceKey::tcp(*Address::parse("192.0.2.1"), 80);
    s.scheduler = "wrr";
    s.flags = service_flags::persistent | service_flags::one_packet;
    s.timeout = 300;
    s.netmask = 0xffffff00;
    s.pe_name = "sip";
    return s;
}

Destination sample_destination() {
    Destination d;
    d.address = *Address::parse("198.51.100.7");
    d.port = 8080;
    d.method = ForwardMethod::Masquerade;
    d.weight = 5;
    d.upper_threshold = 1000;
    d.lower_threshold = 10;
    return d;
}

}  // namespace

TEST_CASE("add service round trips every setting") {
    const Service s = sample_service();
    const auto bytes = encode(Operation::add_service(s), 7);
    const auto m = only_message(wire::Bytes(bytes));
    CHECK(m.type == family_id);
    CHECK(m.seq == 7);
    CHECK((m.flags & NLM_F_REQUEST) != 0);
    CHECK((m.flags & NLM_F_ACK) != 0);
    CHECK(genl_command(m) == IPVS_CMD_NEW_SERVICE);
    const auto back = wire::decode_service_message(m);
    REQUIRE(back.ok());
    CHECK(back->same_settings(s));
    CHECK(back->key == s.key);
    CHECK(back->netmask == 0xffffff00);
    CHECK(back->pe_name == "sip");
}

TEST_CASE("service variants: IPv6, fwmark, UDP, SCTP") {
    Service v6 = sample_service();
    v6.key = ServiceKey::udp(*Address::parse("2001:db8::10"), 53);
    v6.netmask = 64;
    v6.pe_name.clear();
    auto back = wire::decode_service_message(only_message(encode(Operation::edit_service(v6))));
    REQUIRE(back.ok());
    CHECK(back->same_settings(v6));
    CHECK(back->netmask == 64);

    Service mark = sample_service();
    mark.key = ServiceKey::mark(4242, Family::Inet6);
    mark.netmask = 128;
    back = wire::decode_service_message(only_message(encode(Operation::add_service(mark))));
    REQUIRE(back.ok());
    CHECK(back->key.is_fwmark());
    CHECK(back->key.fwmark == 4242);
    CHECK(back->key.family == Family::Inet6);

    Service sctp = sample_service();
    sctp.key = ServiceKey::sctp(*Address::parse("203.0.113.9"), 3868);
    back = wire::decode_service_message(only_message(encode(Operation::add_service(sctp))));
    REQUIRE(back.ok());
    CHECK(back->key.protocol == Protocol::SCTP);
}

TEST_CASE("a service's outline gives its family and whether an engine is bound") {
    // A service request carries the same nest as a GET_SERVICE reply.
    Service s = sample_service();
    auto outline = wire::service_message_outline(only_message(encode(Operation::add_service(s))));
    REQUIRE(outline);
    CHECK(outline->family == Family::Inet);
    CHECK(outline->has_engine);

    s.pe_name.clear();
    outline = wire::service_message_outline(only_message(encode(Operation::add_service(s))));
    REQUIRE(outline);
    CHECK_FALSE(outline->has_engine);

    s.key = ServiceKey::mark(7, Family::Inet6);
    s.netmask = 128;
    outline = wire::service_message_outline(only_message(encode(Operation::add_service(s))));
    REQUIRE(outline);
    CHECK(outline->family == Family::Inet6);
    CHECK_FALSE(outline->has_engine);

    // A message without a service nest has no outline.
    CHECK_FALSE(wire::service_message_outline(only_message(encode(Operation::flush()))));
}

TEST_CASE("the IPv4 netmask travels in network order, the IPv6 prefix as a number") {
    Service s = sample_service();
    s.netmask = 0xffff0000;
    const auto bytes = encode(Operation::add_service(s));
    // 255.255.0.0 as it appears on the wire.
    const std::uint8_t mask[] = {0xff, 0xff, 0x00, 0x00};
    CHECK(std::search(bytes.begin(), bytes.end(), std::begin(mask), std::end(mask)) != bytes.end());
}

TEST_CASE("destination requests carry the service key and every setting") {
    const Service s = sample_service();
    Destination d = sample_destination();
    for (auto kind : {OpKind::AddDestination, OpKind::EditDestination}) {
        Operation op = kind == OpKind::AddDestination ? Operation::add_destination(s.key, d)
                                                      : Operation::edit_destination(s.key, d);
        const auto m = only_message(encode(op));
        CHECK(genl_command(m) ==
              (kind == OpKind::AddDestination ? IPVS_CMD_NEW_DEST : IPVS_CMD_SET_DEST));
        const auto svc = wire::decode_service_message(m);
        REQUIRE(svc.ok());
        CHECK(svc->key == s.key);
        const auto back = wire::decode_destination_message(m, Family::Inet);
        REQUIRE(back.ok());
        CHECK(back->same_settings(d));
    }
    d.method = ForwardMethod::Tunnel;
    d.tunnel_type = TunnelType::GUE;
    d.tunnel_port = 6080;
    d.tunnel_flags = tunnel_flags::csum | tunnel_flags::remcsum;
    const auto back = wire::decode_destination_message(
        only_message(encode(Operation::add_destination(s.key, d))), Family::Inet);
    REQUIRE(back.ok());
    CHECK(back->tunnel_type == TunnelType::GUE);
    CHECK(back->tunnel_port == 6080);
    CHECK(back->tunnel_flags == (tunnel_flags::csum | tunnel_flags::remcsum));

    // An IPv4 real server behind an IPv6 service keeps its own family.
    Destination mixed = sample_destination();
    mixed.method = ForwardMethod::Tunnel;
    const auto mixed_back = wire::decode_destination_message(
        only_message(encode(Operation::add_destination(ServiceKey::mark(1, Family::Inet6), mixed))),
        Family::Inet6);
    REQUIRE(mixed_back.ok());
    CHECK(mixed_back->address.family == Family::Inet);
    CHECK(mixed_back->address == mixed.address);
}

TEST_CASE("delete requests carry only keys") {
    const Service s = sample_service();
    auto m = only_message(encode(Operation::delete_service(s.key)));
    CHECK(genl_command(m) == IPVS_CMD_DEL_SERVICE);
    auto back = wire::decode_service_message(m);
    REQUIRE(back.ok());
    CHECK(back->key == s.key);
    CHECK(back->scheduler.empty());

    m = only_message(encode(Operation::delete_destination(s.key, sample_destination())));
    CHECK(genl_command(m) == IPVS_CMD_DEL_DEST);
    const auto dest = wire::decode_destination_message(m, Family::Inet);
    REQUIRE(dest.ok());
    CHECK(dest->same_endpoint(sample_destination()));
}

TEST_CASE("timeouts, zero, flush and daemon requests") {
    Timeouts t{900, 120, 300};
    auto m = only_message(encode(Operation::set_timeouts(t)));
    CHECK(genl_command(m) == IPVS_CMD_SET_CONFIG);
    const auto back = wire::decode_timeouts_message(m);
    REQUIRE(back.ok());
    CHECK(*back == t);

    CHECK(genl_command(only_message(encode(Operation::flush()))) == IPVS_CMD_FLUSH);
    CHECK(genl_command(only_message(encode(Operation::zero_all()))) == IPVS_CMD_ZERO);
    m = only_message(encode(Operation::zero(sample_service().key)));
    CHECK(genl_command(m) == IPVS_CMD_ZERO);
    CHECK(wire::decode_service_message(m)->key == sample_service().key);

    SyncDaemon d;
    d.state = SyncState::Backup;
    d.interface = "eth1";
    d.sync_id = 9;
    d.max_len = 1472;
    d.group = Address::parse("239.1.2.3");
    d.port = 8850;
    d.ttl = 4;
    m = only_message(encode(Operation::start_daemon(d)));
    CHECK(genl_command(m) == IPVS_CMD_NEW_DAEMON);
    const auto daemon = wire::decode_daemon_message(m);
    REQUIRE(daemon.ok());
    CHECK(*daemon == d);

    d.group = Address::parse("ff02::1:3");
    const auto daemon6 =
        wire::decode_daemon_message(only_message(encode(Operation::start_daemon(d))));
    REQUIRE(daemon6.ok());
    CHECK(daemon6->group == d.group);

    m = only_message(encode(Operation::stop_daemon(SyncState::Master)));
    CHECK(genl_command(m) == IPVS_CMD_DEL_DAEMON);
}

TEST_CASE("many requests concatenate into one batch and split back in order") {
    wire::Bytes bytes;
    const Service s = sample_service();
    for (std::uint32_t i = 0; i < 50; ++i) {
        Destination d = sample_destination();
        d.port = static_cast<std::uint16_t>(1000 + i);
        REQUIRE(
            wire::append_operation(bytes, family_id, 100 + i, Operation::add_destination(s.key, d))
                .ok());
    }
    bool malformed = true;
    const auto messages = wire::split_messages(bytes, &malformed);
    CHECK_FALSE(malformed);
    REQUIRE(messages.size() == 50);
    for (std::uint32_t i = 0; i < 50; ++i) {
        CHECK(messages[i].seq == 100 + i);
        CHECK(wire::decode_destination_message(messages[i], Family::Inet)->port == 1000 + i);
    }
}

TEST_CASE("get requests: dump flag and optional service key") {
    wire::Bytes bytes;
    const ServiceKey key = sample_service().key;
    wire::append_get(bytes, family_id, 5, IPVS_CMD_GET_DEST, true, &key);
    const auto m = only_message(std::move(bytes));
    CHECK((m.flags & NLM_F_DUMP) == NLM_F_DUMP);
    CHECK(wire::decode_service_message(m)->key == key);
}

TEST_CASE("acks decode errno and the extended-ack text") {
    // nlmsghdr + nlmsgerr (capped) + NLMSGERR_ATTR_MSG "bad thing"
    const char text[] = "bad thing";
    const std::size_t attr_len = sizeof(nlattr) + sizeof(text);
    const std::size_t total = NLMSG_HDRLEN + sizeof(nlmsgerr) + ((attr_len + 3) & ~std::size_t{3});
    std::vector<std::uint8_t> buf(total);
    nlmsghdr h{};
    h.nlmsg_len = static_cast<std::uint32_t>(total);
    h.nlmsg_type = NLMSG_ERROR;
    h.nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
    h.nlmsg_seq = 3;
    std::memcpy(buf.data(), &h, sizeof(h));
    nlmsgerr e{};
    e.error = -EEXIST;
    std::memcpy(buf.data() + NLMSG_HDRLEN, &e, sizeof(e));
    nlattr a{};
    a.nla_len = static_cast<std::uint16_t>(attr_len);
    a.nla_type = NLMSGERR_ATTR_MSG;
    std::memcpy(buf.data() + NLMSG_HDRLEN + sizeof(e), &a, sizeof(a));
    std::memcpy(buf.data() + NLMSG_HDRLEN + sizeof(e) + sizeof(a), text, sizeof(text));
    const auto messages = wire::split_messages(buf, nullptr);
    REQUIRE(messages.size() == 1);
    const auto ack = wire::decode_ack(messages[0]);
    REQUIRE(ack);
    CHECK(ack->errnum == EEXIST);
    CHECK(ack->text == "bad thing");
    CHECK_FALSE(wire::decode_service_message(messages[0]).ok());
}

TEST_CASE("decoders reject truncated and corrupted input without crashing") {
    const auto bytes =
        encode(Operation::add_destination(sample_service().key, sample_destination()));
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        const std::span<const std::uint8_t> prefix(bytes.data(), cut);
        bool malformed = false;
        const auto messages = wire::split_messages(prefix, &malformed);
        CHECK(messages.empty());
        CHECK(malformed == (cut > 0));
        (void)wire::decode_all(prefix);
    }
    // Flip every byte in turn: decoding may fail but must stay in bounds.
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto corrupted = bytes;
        corrupted[i] ^= 0xff;
        (void)wire::decode_all(corrupted);
    }
    CHECK(wire::decode_all(bytes) >= 2);
}

TEST_CASE("operation descriptions name the object") {
    const Service s = sample_service();
    CHECK(Operation::add_service(s).describe() ==
          "add service TCP 192.0.2.1:80 (wrr, persistent 300)");
    CHECK(Operation::add_destination(s.key, sample_destination()).describe() ==
          "add destination 198.51.100.7:8080 to TCP 192.0.2.1:80 (Masq, weight 5)");
    CHECK(Operation::delete_destination(s.key, sample_destination()).object() ==
          "198.51.100.7:8080 in TCP 192.0.2.1:80");
    CHECK(make_error(EEXIST, "add service", "TCP 192.0.2.1:80").message() ==
          "add service TCP 192.0.2.1:80: service already exists");
    CHECK(make_error(ESRCH, "add destination", "x").message() ==
          "add destination x: service does not exist");
}

TEST_CASE("getsockopt real-server entries decode, stop at the first unused slot") {
    std::vector<ip_vs_dest_entry> table(3);  // two used, one left zero as the kernel leaves it
    table[0].addr = htonl(0xac100001);
    table[0].port = htons(8080);
    table[0].conn_flags = IP_VS_CONN_F_MASQ;
    table[0].weight = 3;
    table[0].u_threshold = 100;
    table[0].l_threshold = 10;
    table[0].activeconns = 7;
    table[1].addr = htonl(0xac100002);
    table[1].port = htons(80);
    table[1].conn_flags = IP_VS_CONN_F_DROUTE;
    table[1].persistconns = 2;
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(table.data()),
                                              table.size() * sizeof(ip_vs_dest_entry));
    REQUIRE(wire::sockopt_destination_size() == sizeof(ip_vs_dest_entry));
    auto dests = wire::decode_sockopt_destinations(bytes, 3);
    REQUIRE(dests);
    REQUIRE(dests->size() == 2);
    CHECK((*dests)[0].endpoint() == "172.16.0.1:8080");
    CHECK((*dests)[0].method == ForwardMethod::Masquerade);
    CHECK((*dests)[0].weight == 3);
    CHECK((*dests)[0].upper_threshold == 100);
    CHECK((*dests)[0].lower_threshold == 10);
    CHECK((*dests)[0].active_conns == 7);
    CHECK((*dests)[1].method == ForwardMethod::Route);
    CHECK((*dests)[1].persistent_conns == 2);
    // Never more than asked for, nor than the bytes hold.
    CHECK(wire::decode_sockopt_destinations(bytes, 1)->size() == 1);
    CHECK(wire::decode_sockopt_destinations(bytes.first(sizeof(ip_vs_dest_entry) + 5), 3)->size() ==
          1);
    // A forwarding method the kernel does not have: nothing, not a guess.
    table[1].conn_flags = 0x0006;
    CHECK_FALSE(wire::decode_sockopt_destinations(bytes, 3));
}

TEST_CASE("getsockopt service entries give keys and real-server counts") {
    std::vector<ip_vs_service_entry> table(3);
    table[0].protocol = IPPROTO_UDP;
    table[0].addr = htonl(0x0a000001);
    table[0].port = htons(53);
    table[0].num_dests = 4;
    std::strcpy(table[0].sched_name, "wrr");
    table[0].flags = IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_HASHED | IP_VS_SVC_F_ONEPACKET;
    table[0].timeout = 300;
    table[0].netmask = htonl(0xffffff00);
    table[1].fwmark = 7;
    table[1].num_dests = 1;
    std::strcpy(table[1].sched_name, "mh");
    table[1].flags = IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2;
    table[1].netmask = htonl(0xffffffff);
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(table.data()),
                                              table.size() * sizeof(ip_vs_service_entry));
    auto counts = wire::decode_sockopt_services(bytes, 3);
    REQUIRE(counts);
    REQUIRE(counts->entries.size() == 2);
    REQUIRE(counts->destination_counts.size() == 2);
    const Service& udp = counts->entries[0].service;
    CHECK(udp.key == ServiceKey::udp(*Address::parse("10.0.0.1"), 53));
    CHECK(udp.scheduler == "wrr");
    // HASHED is the kernel's bookkeeping, not a setting.
    CHECK(udp.flags == (service_flags::persistent | service_flags::one_packet));
    CHECK(udp.timeout == 300);
    CHECK(udp.netmask == 0xffffff00);
    CHECK(udp.pe_name.empty());
    CHECK(counts->destination_counts[0] == 4);
    const Service& mark = counts->entries[1].service;
    CHECK(mark.key == ServiceKey::mark(7, Family::Inet));
    CHECK(mark.scheduler == "mh");
    CHECK(mark.flags == (service_flags::mh_fallback | service_flags::mh_port));
    CHECK(mark.netmask == 0xffffffff);
    CHECK(counts->destination_counts[1] == 1);
    CHECK(counts->entries[1].destinations.empty());
    // A scheduler name that fills its field without a NUL: nothing.
    std::memset(table[1].sched_name, 'x', sizeof(table[1].sched_name));
    CHECK_FALSE(wire::decode_sockopt_services(bytes, 3));
    std::strcpy(table[1].sched_name, "mh");
    table[0].protocol = 99;  // not TCP, UDP or SCTP
    CHECK_FALSE(wire::decode_sockopt_services(bytes, 3));
}

TEST_CASE("service and destination requests are libnl's bytes exactly") {
    // append_operation writes these without libnl; append_operation_libnl
    // is the reference. Every kind, family, method, tunnel and optional field.
    std::vector<Service> services;
    Service s = sample_service();
    services.push_back(s);
    s.pe_name = "sip";
    s.flags = service_flags::persistent | service_flags::one_packet | service_flags::sched2;
    s.timeout = 300;
    s.netmask = 0xffffff00;
    services.push_back(s);
    Service v6;
    v6.key = ServiceKey::udp(*Address::parse("2001:db8::1"), 53);
    v6.scheduler = "averyverylongsc";
    v6.netmask = 64;
    services.push_back(v6);
    Service mark;
    mark.key = ServiceKey::mark(4294967295u, Family::Inet6);
    mark.scheduler = "";
    services.push_back(mark);
    Service sctp;
    sctp.key = ServiceKey::sctp(*Address::parse("0.0.0.0"), 0);
    sctp.pe_name = "sixteen-chars-pe";
    services.push_back(sctp);
    Service long_names = sctp;  // too long for the direct encoder's buffer: libnl's way
    long_names.scheduler = std::string(200, 's');
    long_names.pe_name = std::string(100, 'p');
    services.push_back(long_names);

    std::vector<Destination> destinations;
    for (auto method : {ForwardMethod::Masquerade, ForwardMethod::Local, ForwardMethod::Tunnel,
                        ForwardMethod::Route})
        for (auto type : {TunnelType::IPIP, TunnelType::GUE, TunnelType::GRE}) {
            Destination d = sample_destination();
            d.method = method;
            d.tunnel_type = type;
            d.tunnel_port = 6080;
            d.tunnel_flags = tunnel_flags::remcsum;
            d.weight = 2147483647;
            d.upper_threshold = 7;
            d.lower_threshold = 3;
            destinations.push_back(d);
        }
    Destination d6 = sample_destination();
    d6.address = *Address::parse("2001:db8::10");
    destinations.push_back(d6);

    std::vector<Operation> ops;
    for (const auto& service : services) {
        ops.push_back(Operation::add_service(service));
        ops.push_back(Operation::edit_service(service));
        ops.push_back(Operation::delete_service(service.key));
        for (const auto& d : destinations) {
            ops.push_back(Operation::add_destination(service.key, d));
            ops.push_back(Operation::edit_destination(service.key, d));
            ops.push_back(Operation::delete_destination(service.key, d));
        }
        ops.push_back(Operation::zero(service.key));
    }
    ops.push_back(Operation::flush());
    ops.push_back(Operation::set_timeouts(Timeouts{10, 20, 30}));

    wire::Bytes direct, reference;
    std::uint32_t seq = 7;
    for (const auto& op : ops)
        for (bool ack : {false, true}) {
            INFO(op.describe() << (ack ? " with ack" : ""));
            wire::Bytes one, one_reference;
            REQUIRE(wire::append_operation(one, family_id, seq, op, ack).ok());
            REQUIRE(wire::append_operation_libnl(one_reference, family_id, seq, op, ack).ok());
            CHECK(one == one_reference);
            REQUIRE(wire::append_operation(direct, family_id, seq, op, ack).ok());
            REQUIRE(wire::append_operation_libnl(reference, family_id, seq, op, ack).ok());
            ++seq;
        }
    CHECK(direct == reference);  // appended after one another too
}
