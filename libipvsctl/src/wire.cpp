// SPDX-License-Identifier: LGPL-2.1-or-later
#include "wire.hpp"

#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>

namespace ipvsctl::wire {
namespace {

// ---- Attribute policies: one table per IPVS object, used to parse replies
// (and, in tests, to parse back what we built).

nla_policy make_policy(int type, std::uint16_t minlen = 0) {
    nla_policy p{};
    p.type = static_cast<std::uint16_t>(type);
    p.minlen = minlen;
    return p;
}

struct Policies {
    nla_policy cmd[IPVS_CMD_ATTR_MAX + 1]{};
    nla_policy service[IPVS_SVC_ATTR_MAX + 1]{};
    nla_policy dest[IPVS_DEST_ATTR_MAX + 1]{};
    nla_policy daemon[IPVS_DAEMON_ATTR_MAX + 1]{};
    nla_policy info[IPVS_INFO_ATTR_MAX + 1]{};

    Policies() {
        cmd[IPVS_CMD_ATTR_SERVICE] = make_policy(NLA_NESTED);
        cmd[IPVS_CMD_ATTR_DEST] = make_policy(NLA_NESTED);
        cmd[IPVS_CMD_ATTR_DAEMON] = make_policy(NLA_NESTED);
        cmd[IPVS_CMD_ATTR_TIMEOUT_TCP] = make_policy(NLA_U32);
        cmd[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN] = make_policy(NLA_U32);
        cmd[IPVS_CMD_ATTR_TIMEOUT_UDP] = make_policy(NLA_U32);

        service[IPVS_SVC_ATTR_AF] = make_policy(NLA_U16);
        service[IPVS_SVC_ATTR_PROTOCOL] = make_policy(NLA_U16);
        service[IPVS_SVC_ATTR_ADDR] = make_policy(NLA_UNSPEC, 4);
        service[IPVS_SVC_ATTR_PORT] = make_policy(NLA_U16);
        service[IPVS_SVC_ATTR_FWMARK] = make_policy(NLA_U32);
        service[IPVS_SVC_ATTR_SCHED_NAME] = make_policy(NLA_UNSPEC);
        service[IPVS_SVC_ATTR_FLAGS] = make_policy(NLA_UNSPEC, sizeof(ip_vs_flags));
        service[IPVS_SVC_ATTR_TIMEOUT] = make_policy(NLA_U32);
        service[IPVS_SVC_ATTR_NETMASK] = make_policy(NLA_U32);
        service[IPVS_SVC_ATTR_STATS] = make_policy(NLA_NESTED);
        service[IPVS_SVC_ATTR_PE_NAME] = make_policy(NLA_UNSPEC);
        service[IPVS_SVC_ATTR_STATS64] = make_policy(NLA_NESTED);

        dest[IPVS_DEST_ATTR_ADDR] = make_policy(NLA_UNSPEC, 4);
        dest[IPVS_DEST_ATTR_PORT] = make_policy(NLA_U16);
        dest[IPVS_DEST_ATTR_FWD_METHOD] = make_policy(NLA_U32);
        dest[IPVS_DEST_ATTR_WEIGHT] = make_policy(NLA_U32);
        dest[IPVS_DEST_ATTR_U_THRESH] = make_policy(NLA_U32);
        dest[IPVS_DEST_ATTR_L_THRESH] = make_policy(NLA_U32);
        dest[IPVS_DEST_ATTR_ACTIVE_CONNS] = make_policy(NLA_U32);
        dest[IPVS_DEST_ATTR_INACT_CONNS] = make_policy(NLA_U32);
        dest[IPVS_DEST_ATTR_PERSIST_CONNS] = make_policy(NLA_U32);
        dest[IPVS_DEST_ATTR_STATS] = make_policy(NLA_NESTED);
        dest[IPVS_DEST_ATTR_ADDR_FAMILY] = make_policy(NLA_U16);
        dest[IPVS_DEST_ATTR_STATS64] = make_policy(NLA_NESTED);
        dest[IPVS_DEST_ATTR_TUN_TYPE] = make_policy(NLA_U8);
        dest[IPVS_DEST_ATTR_TUN_PORT] = make_policy(NLA_U16);
        dest[IPVS_DEST_ATTR_TUN_FLAGS] = make_policy(NLA_U16);

        daemon[IPVS_DAEMON_ATTR_STATE] = make_policy(NLA_U32);
        daemon[IPVS_DAEMON_ATTR_MCAST_IFN] = make_policy(NLA_UNSPEC);
        daemon[IPVS_DAEMON_ATTR_SYNC_ID] = make_policy(NLA_U32);
        daemon[IPVS_DAEMON_ATTR_SYNC_MAXLEN] = make_policy(NLA_U16);
        daemon[IPVS_DAEMON_ATTR_MCAST_GROUP] = make_policy(NLA_UNSPEC, 4);
        daemon[IPVS_DAEMON_ATTR_MCAST_GROUP6] = make_policy(NLA_UNSPEC, 16);
        daemon[IPVS_DAEMON_ATTR_MCAST_PORT] = make_policy(NLA_U16);
        daemon[IPVS_DAEMON_ATTR_MCAST_TTL] = make_policy(NLA_U8);

        info[IPVS_INFO_ATTR_VERSION] = make_policy(NLA_U32);
        info[IPVS_INFO_ATTR_CONN_TAB_SIZE] = make_policy(NLA_U32);
    }
};

const Policies& policies() {
    static const Policies instance;
    return instance;
}

// ---- Building.

struct MsgFree {
    void operator()(nl_msg* msg) const noexcept { nlmsg_free(msg); }
};
using MsgPtr = std::unique_ptr<nl_msg, MsgFree>;

/// Closes a nested attribute when it goes out of scope, so that nesting in
/// code mirrors nesting on the wire.
class NestGuard {
  public:
    NestGuard(nl_msg* msg, int type) : msg_(msg), start_(nla_nest_start(msg, type)) {}
    ~NestGuard() {
        if (start_ != nullptr) nla_nest_end(msg_, start_);
    }
    NestGuard(const NestGuard&) = delete;
    NestGuard& operator=(const NestGuard&) = delete;

  private:
    nl_msg* msg_;
    nlattr* start_;
};

constexpr std::size_t request_buffer_size = 1024;

MsgPtr new_request(std::uint16_t family_id, std::uint32_t seq, std::uint8_t command, int flags) {
    // Every IPVS request fits easily; nlmsg_alloc() would zero a whole page
    // per message, which dominated encoding time in bulk batches.
    MsgPtr msg(nlmsg_alloc_size(request_buffer_size));
    if (!msg) throw std::bad_alloc();
    genlmsg_put(msg.get(), NL_AUTO_PORT, seq, family_id, 0, flags, command, genl_version);
    return msg;
}

void append_bytes(Bytes& out, nl_msg* msg) {
    const nlmsghdr* header = nlmsg_hdr(msg);
    const auto* begin = reinterpret_cast<const std::uint8_t*>(header);
    out.insert(out.end(), begin, begin + header->nlmsg_len);
}

void put_address(nl_msg* msg, int type, const Address& address) {
    // Always the full 16 bytes of union nf_inet_addr, as the kernel sends it.
    nla_put(msg, type, static_cast<int>(address.bytes.size()), address.bytes.data());
}

void put_string(nl_msg* msg, int type, const std::string& text) {
    nla_put_string(msg, type, text.c_str());
}

void put_service_key(nl_msg* msg, const ServiceKey& key) {
    nla_put_u16(msg, IPVS_SVC_ATTR_AF, static_cast<std::uint16_t>(key.family));
    if (key.is_fwmark()) {
        nla_put_u32(msg, IPVS_SVC_ATTR_FWMARK, key.fwmark);
    } else {
        nla_put_u16(msg, IPVS_SVC_ATTR_PROTOCOL, static_cast<std::uint16_t>(key.protocol));
        put_address(msg, IPVS_SVC_ATTR_ADDR, key.address);
        nla_put_u16(msg, IPVS_SVC_ATTR_PORT, htons(key.port));
    }
}

/// The IPv4 granularity travels as a network-order mask, the IPv6 one as a
/// plain prefix length (the kernel range-checks it as a number).
std::uint32_t netmask_to_wire(Family family, std::uint32_t netmask) {
    return family == Family::Inet6 ? netmask : htonl(netmask);
}
std::uint32_t netmask_from_wire(Family family, std::uint32_t wire) {
    return family == Family::Inet6 ? wire : ntohl(wire);
}

void put_service(nl_msg* msg, const Service& service, bool full) {
    NestGuard nest(msg, IPVS_CMD_ATTR_SERVICE);
    put_service_key(msg, service.key);
    if (!full) return;
    put_string(msg, IPVS_SVC_ATTR_SCHED_NAME, service.scheduler);
    if (!service.pe_name.empty()) put_string(msg, IPVS_SVC_ATTR_PE_NAME, service.pe_name);
    ip_vs_flags flags{};
    flags.flags = service.flags & service_flags::user_mask;
    flags.mask = ~0u;
    nla_put(msg, IPVS_SVC_ATTR_FLAGS, sizeof(flags), &flags);
    nla_put_u32(msg, IPVS_SVC_ATTR_TIMEOUT, service.timeout);
    nla_put_u32(msg, IPVS_SVC_ATTR_NETMASK, netmask_to_wire(service.key.family, service.netmask));
}

void put_destination(nl_msg* msg, const Destination& dest, bool full) {
    NestGuard nest(msg, IPVS_CMD_ATTR_DEST);
    nla_put_u16(msg, IPVS_DEST_ATTR_ADDR_FAMILY, static_cast<std::uint16_t>(dest.address.family));
    put_address(msg, IPVS_DEST_ATTR_ADDR, dest.address);
    nla_put_u16(msg, IPVS_DEST_ATTR_PORT, htons(dest.port));
    if (!full) return;
    nla_put_u32(msg, IPVS_DEST_ATTR_FWD_METHOD, static_cast<std::uint32_t>(dest.method));
    nla_put_u32(msg, IPVS_DEST_ATTR_WEIGHT, static_cast<std::uint32_t>(dest.weight));
    nla_put_u32(msg, IPVS_DEST_ATTR_U_THRESH, dest.upper_threshold);
    nla_put_u32(msg, IPVS_DEST_ATTR_L_THRESH, dest.lower_threshold);
    if (dest.method == ForwardMethod::Tunnel) {
        nla_put_u8(msg, IPVS_DEST_ATTR_TUN_TYPE, static_cast<std::uint8_t>(dest.tunnel_type));
        nla_put_u16(msg, IPVS_DEST_ATTR_TUN_PORT, htons(dest.tunnel_port));
        nla_put_u16(msg, IPVS_DEST_ATTR_TUN_FLAGS, dest.tunnel_flags);
    }
}

void put_daemon(nl_msg* msg, const SyncDaemon& daemon, bool full) {
    NestGuard nest(msg, IPVS_CMD_ATTR_DAEMON);
    nla_put_u32(msg, IPVS_DAEMON_ATTR_STATE, static_cast<std::uint32_t>(daemon.state));
    if (!full) return;
    put_string(msg, IPVS_DAEMON_ATTR_MCAST_IFN, daemon.interface);
    nla_put_u32(msg, IPVS_DAEMON_ATTR_SYNC_ID, daemon.sync_id);
    if (daemon.max_len != 0) nla_put_u16(msg, IPVS_DAEMON_ATTR_SYNC_MAXLEN, daemon.max_len);
    if (daemon.group) {
        if (daemon.group->is_v6())
            nla_put(msg, IPVS_DAEMON_ATTR_MCAST_GROUP6, 16, daemon.group->bytes.data());
        else
            nla_put(msg, IPVS_DAEMON_ATTR_MCAST_GROUP, 4, daemon.group->bytes.data());
    }
    // Unlike service and destination ports, the kernel keeps this one in host order.
    if (daemon.port != 0) nla_put_u16(msg, IPVS_DAEMON_ATTR_MCAST_PORT, daemon.port);
    if (daemon.ttl != 0) nla_put_u8(msg, IPVS_DAEMON_ATTR_MCAST_TTL, daemon.ttl);
}

// ---- Decoding helpers. Values are copied out with memcpy: attributes are
// only 4-byte aligned and 64-bit counters may not be.

template <typename T>
std::optional<T> read_scalar(const nlattr* attr) {
    if (attr == nullptr || nla_len(attr) < static_cast<int>(sizeof(T))) return std::nullopt;
    T value;
    std::memcpy(&value, nla_data(attr), sizeof(T));
    return value;
}

std::uint32_t get_u32(const nlattr* attr, std::uint32_t fallback = 0) {
    return read_scalar<std::uint32_t>(attr).value_or(fallback);
}
std::uint16_t get_u16(const nlattr* attr, std::uint16_t fallback = 0) {
    return read_scalar<std::uint16_t>(attr).value_or(fallback);
}

/// A counter that is 32 bits in IPVS_*_ATTR_STATS and 64 in STATS64.
std::uint64_t get_counter(const nlattr* attr) {
    if (attr == nullptr) return 0;
    if (nla_len(attr) >= 8) return read_scalar<std::uint64_t>(attr).value_or(0);
    return get_u32(attr);
}

std::string get_string(const nlattr* attr) {
    if (attr == nullptr) return {};
    const auto* data = static_cast<const char*>(nla_data(attr));
    const auto length = static_cast<std::size_t>(nla_len(attr));
    return std::string(data, strnlen(data, length));
}

Error decode_error(std::string what, std::string detail) {
    return make_error(EPROTO, "decode " + std::move(what), {}, std::move(detail));
}

std::optional<Family> to_family(std::uint16_t value) {
    if (value == static_cast<std::uint16_t>(Family::Inet)) return Family::Inet;
    if (value == static_cast<std::uint16_t>(Family::Inet6)) return Family::Inet6;
    return std::nullopt;
}

std::optional<Address> get_address(const nlattr* attr, Family family) {
    Address address;
    address.family = family;
    const auto need = address.size();
    if (attr == nullptr || static_cast<std::size_t>(nla_len(attr)) < need) return std::nullopt;
    std::memcpy(address.bytes.data(), nla_data(attr), need);
    return address;
}

bool parse_nested(nlattr** table, int max, nlattr* nested, const nla_policy* policy) {
    return nla_parse_nested(table, max, nested, policy) == 0;
}

Stats decode_stats(nlattr* nested) {
    Stats stats;
    if (nested == nullptr) return stats;
    nlattr* tb[IPVS_STATS_ATTR_MAX + 1] = {};
    // No policy: widths differ between STATS and STATS64; get_counter reads by length.
    if (nla_parse_nested(tb, IPVS_STATS_ATTR_MAX, nested, nullptr) != 0) return stats;
    stats.conns = get_counter(tb[IPVS_STATS_ATTR_CONNS]);
    stats.in_packets = get_counter(tb[IPVS_STATS_ATTR_INPKTS]);
    stats.out_packets = get_counter(tb[IPVS_STATS_ATTR_OUTPKTS]);
    stats.in_bytes = get_counter(tb[IPVS_STATS_ATTR_INBYTES]);
    stats.out_bytes = get_counter(tb[IPVS_STATS_ATTR_OUTBYTES]);
    stats.cps = get_counter(tb[IPVS_STATS_ATTR_CPS]);
    stats.in_pps = get_counter(tb[IPVS_STATS_ATTR_INPPS]);
    stats.out_pps = get_counter(tb[IPVS_STATS_ATTR_OUTPPS]);
    stats.in_bps = get_counter(tb[IPVS_STATS_ATTR_INBPS]);
    stats.out_bps = get_counter(tb[IPVS_STATS_ATTR_OUTBPS]);
    return stats;
}

/// Parses the top-level attributes of a genl message with `policy`.
bool parse_top(const Message& message, nlattr** table, int max, const nla_policy* policy) {
    auto* header = reinterpret_cast<nlmsghdr*>(const_cast<std::uint8_t*>(message.bytes.data()));
    if (!genlmsg_valid_hdr(header, 0)) return false;
    return genlmsg_parse(header, 0, table, max, policy) == 0;
}

/// Builds one request straight into the batch buffer, byte for byte what
/// libnl's builder makes (append_operation_libnl, the reference the tests
/// hold it to) without a message allocation and a function call per
/// attribute: at 50,000 requests libnl's way was the largest user-space cost
/// of a restore after parsing.
class DirectMessage {
  public:
    /// Room for any service or destination request whose names fit
    /// kMaxNames bytes together (append_operation checks).
    static constexpr std::size_t kCapacity = 512;
    static constexpr std::size_t kMaxNames = 256;

    DirectMessage(std::uint16_t family_id, std::uint32_t seq, std::uint8_t command,
                  std::uint16_t flags) {
        nlmsghdr header{};
        header.nlmsg_type = family_id;
        header.nlmsg_flags = flags;
        header.nlmsg_seq = seq;
        append(&header, sizeof(header));
        genlmsghdr genl{};
        genl.cmd = command;
        genl.version = genl_version;
        append(&genl, sizeof(genl));
    }
    DirectMessage(const DirectMessage&) = delete;
    DirectMessage& operator=(const DirectMessage&) = delete;

    /// Appends the finished message to `out` (one copy per message: a
    /// vector insert per attribute cost more than the rest together).
    void finish(Bytes& out) {
        const auto length = static_cast<std::uint32_t>(used_);
        std::memcpy(buffer_ + offsetof(nlmsghdr, nlmsg_len), &length, sizeof(length));
        out.insert(out.end(), buffer_, buffer_ + used_);
    }

    void put(int type, const void* data, std::size_t length) {
        nlattr attr{};
        attr.nla_len = static_cast<std::uint16_t>(sizeof(nlattr) + length);
        attr.nla_type = static_cast<std::uint16_t>(type);
        append(&attr, sizeof(attr));
        append(data, length);
        const std::size_t padding = ((length + 3) & ~std::size_t{3}) - length;  // NLA_ALIGN
        std::memset(buffer_ + used_, 0, padding);
        used_ += padding;
    }
    void put_u8(int type, std::uint8_t value) { put(type, &value, sizeof(value)); }
    void put_u16(int type, std::uint16_t value) { put(type, &value, sizeof(value)); }
    void put_u32(int type, std::uint32_t value) { put(type, &value, sizeof(value)); }
    void put_string(int type, const std::string& text) {
        put(type, text.c_str(), std::strlen(text.c_str()) + 1);
    }
    /// Opens a nested attribute; close it with end_nest.
    std::size_t begin_nest(int type) {
        const std::size_t at = used_;
        nlattr attr{};
        attr.nla_type = static_cast<std::uint16_t>(type | kNestedFlag);
        append(&attr, sizeof(attr));
        return at;
    }
    void end_nest(std::size_t at) {
        const auto length = static_cast<std::uint16_t>(used_ - at);
        std::memcpy(buffer_ + at + offsetof(nlattr, nla_len), &length, sizeof(length));
    }

    /// libnl's nla_nest_start (3.7) marks nested attributes with NLA_F_NESTED.
    static constexpr int kNestedFlag = NLA_F_NESTED;

  private:
    void append(const void* data, std::size_t length) {
        std::memcpy(buffer_ + used_, data, length);
        used_ += length;
    }

    std::uint8_t buffer_[kCapacity];
    std::size_t used_ = 0;
};

void put_service_key(DirectMessage& msg, const ServiceKey& key) {
    msg.put_u16(IPVS_SVC_ATTR_AF, static_cast<std::uint16_t>(key.family));
    if (key.is_fwmark()) {
        msg.put_u32(IPVS_SVC_ATTR_FWMARK, key.fwmark);
    } else {
        msg.put_u16(IPVS_SVC_ATTR_PROTOCOL, static_cast<std::uint16_t>(key.protocol));
        msg.put(IPVS_SVC_ATTR_ADDR, key.address.bytes.data(), key.address.bytes.size());
        msg.put_u16(IPVS_SVC_ATTR_PORT, htons(key.port));
    }
}

void put_service(DirectMessage& msg, const Service& service, bool full) {
    const std::size_t nest = msg.begin_nest(IPVS_CMD_ATTR_SERVICE);
    put_service_key(msg, service.key);
    if (full) {
        msg.put_string(IPVS_SVC_ATTR_SCHED_NAME, service.scheduler);
        if (!service.pe_name.empty()) msg.put_string(IPVS_SVC_ATTR_PE_NAME, service.pe_name);
        ip_vs_flags flags{};
        flags.flags = service.flags & service_flags::user_mask;
        flags.mask = ~0u;
        msg.put(IPVS_SVC_ATTR_FLAGS, &flags, sizeof(flags));
        msg.put_u32(IPVS_SVC_ATTR_TIMEOUT, service.timeout);
        msg.put_u32(IPVS_SVC_ATTR_NETMASK, netmask_to_wire(service.key.family, service.netmask));
    }
    msg.end_nest(nest);
}

void put_destination(DirectMessage& msg, const Destination& dest, bool full) {
    const std::size_t nest = msg.begin_nest(IPVS_CMD_ATTR_DEST);
    msg.put_u16(IPVS_DEST_ATTR_ADDR_FAMILY, static_cast<std::uint16_t>(dest.address.family));
    msg.put(IPVS_DEST_ATTR_ADDR, dest.address.bytes.data(), dest.address.bytes.size());
    msg.put_u16(IPVS_DEST_ATTR_PORT, htons(dest.port));
    if (full) {
        msg.put_u32(IPVS_DEST_ATTR_FWD_METHOD, static_cast<std::uint32_t>(dest.method));
        msg.put_u32(IPVS_DEST_ATTR_WEIGHT, static_cast<std::uint32_t>(dest.weight));
        msg.put_u32(IPVS_DEST_ATTR_U_THRESH, dest.upper_threshold);
        msg.put_u32(IPVS_DEST_ATTR_L_THRESH, dest.lower_threshold);
        if (dest.method == ForwardMethod::Tunnel) {
            msg.put_u8(IPVS_DEST_ATTR_TUN_TYPE, static_cast<std::uint8_t>(dest.tunnel_type));
            msg.put_u16(IPVS_DEST_ATTR_TUN_PORT, htons(dest.tunnel_port));
            msg.put_u16(IPVS_DEST_ATTR_TUN_FLAGS, dest.tunnel_flags);
        }
    }
    msg.end_nest(nest);
}

/// The IPVS command of a real-server operation (both encoders use it).
int destination_command(OpKind kind) {
    return kind == OpKind::AddDestination    ? IPVS_CMD_NEW_DEST
           : kind == OpKind::EditDestination ? IPVS_CMD_SET_DEST
                                             : IPVS_CMD_DEL_DEST;
}

}  // namespace

// ---- Requests.

Result<void> append_operation(Bytes& out, std::uint16_t family_id, std::uint32_t seq,
                              const Operation& op, bool ack) {
    const auto flags = static_cast<std::uint16_t>(NLM_F_REQUEST | (ack ? NLM_F_ACK : 0));
    const bool names_fit =
        op.service.scheduler.size() + op.service.pe_name.size() <= DirectMessage::kMaxNames;
    switch (names_fit ? op.kind : OpKind::Flush) {
        case OpKind::AddService:
        case OpKind::EditService: {
            DirectMessage msg(
                family_id, seq,
                op.kind == OpKind::AddService ? IPVS_CMD_NEW_SERVICE : IPVS_CMD_SET_SERVICE, flags);
            put_service(msg, op.service, true);
            msg.finish(out);
            return {};
        }
        case OpKind::DeleteService: {
            DirectMessage msg(family_id, seq, IPVS_CMD_DEL_SERVICE, flags);
            put_service(msg, op.service, false);
            msg.finish(out);
            return {};
        }
        case OpKind::AddDestination:
        case OpKind::EditDestination:
        case OpKind::DeleteDestination: {
            const auto command = destination_command(op.kind);
            DirectMessage msg(family_id, seq, static_cast<std::uint8_t>(command), flags);
            put_service(msg, op.service, false);
            put_destination(msg, op.destination, op.kind != OpKind::DeleteDestination);
            msg.finish(out);
            return {};
        }
        default:
            // The rare ones (zero, flush, timeouts, daemons, names too long
            // for the buffer) through libnl.
            return append_operation_libnl(out, family_id, seq, op, ack);
    }
}

Result<void> append_operation_libnl(Bytes& out, std::uint16_t family_id, std::uint32_t seq,
                                    const Operation& op, bool ack) {
    const int flags = NLM_F_REQUEST | (ack ? NLM_F_ACK : 0);
    MsgPtr msg;
    switch (op.kind) {
        case OpKind::AddService:
        case OpKind::EditService:
            msg = new_request(
                family_id, seq,
                op.kind == OpKind::AddService ? IPVS_CMD_NEW_SERVICE : IPVS_CMD_SET_SERVICE, flags);
            put_service(msg.get(), op.service, true);
            break;
        case OpKind::DeleteService:
            msg = new_request(family_id, seq, IPVS_CMD_DEL_SERVICE, flags);
            put_service(msg.get(), op.service, false);
            break;
        case OpKind::AddDestination:
        case OpKind::EditDestination:
        case OpKind::DeleteDestination: {
            const auto command = destination_command(op.kind);
            msg = new_request(family_id, seq, static_cast<std::uint8_t>(command), flags);
            put_service(msg.get(), op.service, false);
            put_destination(msg.get(), op.destination, op.kind != OpKind::DeleteDestination);
            break;
        }
        case OpKind::ZeroService:
            msg = new_request(family_id, seq, IPVS_CMD_ZERO, flags);
            put_service(msg.get(), op.service, false);
            break;
        case OpKind::ZeroAll:
            msg = new_request(family_id, seq, IPVS_CMD_ZERO, flags);
            break;
        case OpKind::Flush:
            msg = new_request(family_id, seq, IPVS_CMD_FLUSH, flags);
            break;
        case OpKind::SetTimeouts:
            msg = new_request(family_id, seq, IPVS_CMD_SET_CONFIG, flags);
            if (op.timeouts.tcp) nla_put_u32(msg.get(), IPVS_CMD_ATTR_TIMEOUT_TCP, op.timeouts.tcp);
            if (op.timeouts.tcp_fin)
                nla_put_u32(msg.get(), IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, op.timeouts.tcp_fin);
            if (op.timeouts.udp) nla_put_u32(msg.get(), IPVS_CMD_ATTR_TIMEOUT_UDP, op.timeouts.udp);
            break;
        case OpKind::StartDaemon:
            msg = new_request(family_id, seq, IPVS_CMD_NEW_DAEMON, flags);
            put_daemon(msg.get(), op.daemon, true);
            break;
        case OpKind::StopDaemon:
            msg = new_request(family_id, seq, IPVS_CMD_DEL_DAEMON, flags);
            put_daemon(msg.get(), op.daemon, false);
            break;
    }
    if (!msg) return make_error(EINVAL, std::string(op.verb()), op.object(), "unknown operation");
    append_bytes(out, msg.get());
    return {};
}

void append_get(Bytes& out, std::uint16_t family_id, std::uint32_t seq, std::uint8_t command,
                bool dump, const ServiceKey* service) {
    const int flags = NLM_F_REQUEST | NLM_F_ACK | (dump ? NLM_F_DUMP : 0);
    MsgPtr msg = new_request(family_id, seq, command, flags);
    if (service != nullptr) {
        NestGuard nest(msg.get(), IPVS_CMD_ATTR_SERVICE);
        put_service_key(msg.get(), *service);
    }
    append_bytes(out, msg.get());
}

// ---- Replies.

std::vector<Message> split_messages(std::span<const std::uint8_t> datagram, bool* malformed) {
    std::vector<Message> messages;
    std::size_t offset = 0;
    while (datagram.size() - offset >= sizeof(nlmsghdr)) {
        nlmsghdr header;
        std::memcpy(&header, datagram.data() + offset, sizeof(header));
        if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > datagram.size() - offset)
            break;
        messages.push_back(Message{header.nlmsg_type, header.nlmsg_flags, header.nlmsg_seq,
                                   datagram.subspan(offset, header.nlmsg_len)});
        const std::size_t aligned = NLMSG_ALIGN(header.nlmsg_len);
        if (aligned > datagram.size() - offset) {
            offset = datagram.size();
            break;
        }
        offset += aligned;
    }
    if (malformed != nullptr) *malformed = offset != datagram.size();
    return messages;
}

std::optional<Ack> decode_ack(const Message& message) {
    if (message.type != NLMSG_ERROR) return std::nullopt;
    const std::size_t header_size = NLMSG_HDRLEN;
    if (message.bytes.size() < header_size + sizeof(nlmsgerr)) return Ack{EPROTO, "short ack"};
    nlmsgerr error;
    std::memcpy(&error, message.bytes.data() + header_size, sizeof(error));
    Ack ack;
    ack.errnum = error.error < 0 ? -error.error : error.error;
    // Extended ack TLVs follow when the kernel set NLM_F_ACK_TLVS; with
    // NETLINK_CAP_ACK the echoed request is only its header.
    if ((message.flags & NLM_F_ACK_TLVS) != 0) {
        std::size_t offset = header_size + sizeof(nlmsgerr);
        if ((message.flags & NLM_F_CAPPED) == 0)
            offset += NLMSG_ALIGN(error.msg.nlmsg_len) - sizeof(nlmsghdr);
        while (offset + sizeof(nlattr) <= message.bytes.size()) {
            nlattr attr;
            std::memcpy(&attr, message.bytes.data() + offset, sizeof(attr));
            if (attr.nla_len < sizeof(nlattr) || offset + attr.nla_len > message.bytes.size())
                break;
            if ((attr.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
                const char* text =
                    reinterpret_cast<const char*>(message.bytes.data() + offset + sizeof(nlattr));
                ack.text.assign(text, strnlen(text, attr.nla_len - sizeof(nlattr)));
            }
            offset += NLA_ALIGN(attr.nla_len);
        }
    }
    return ack;
}

Result<Service> decode_service_message(const Message& message) {
    const auto& pol = policies();
    nlattr* top[IPVS_CMD_ATTR_MAX + 1] = {};
    if (!parse_top(message, top, IPVS_CMD_ATTR_MAX, pol.cmd))
        return decode_error("service", "malformed message");
    nlattr* tb[IPVS_SVC_ATTR_MAX + 1] = {};
    if (top[IPVS_CMD_ATTR_SERVICE] == nullptr ||
        !parse_nested(tb, IPVS_SVC_ATTR_MAX, top[IPVS_CMD_ATTR_SERVICE], pol.service))
        return decode_error("service", "missing or malformed service attribute");

    Service service;
    const auto family = to_family(get_u16(tb[IPVS_SVC_ATTR_AF]));
    if (!family) return decode_error("service", "unknown address family");
    service.key.family = *family;
    if (tb[IPVS_SVC_ATTR_FWMARK] != nullptr && get_u32(tb[IPVS_SVC_ATTR_FWMARK]) != 0) {
        service.key.fwmark = get_u32(tb[IPVS_SVC_ATTR_FWMARK]);
    } else {
        const auto protocol = get_u16(tb[IPVS_SVC_ATTR_PROTOCOL]);
        const auto parsed = parse_protocol_number(protocol);
        if (!parsed) return decode_error("service", "unknown protocol " + std::to_string(protocol));
        service.key.protocol = *parsed;
        const auto address = get_address(tb[IPVS_SVC_ATTR_ADDR], *family);
        if (!address) return decode_error("service", "missing or short address");
        service.key.address = *address;
        service.key.port = ntohs(get_u16(tb[IPVS_SVC_ATTR_PORT]));
    }
    service.scheduler = get_string(tb[IPVS_SVC_ATTR_SCHED_NAME]);
    service.pe_name = get_string(tb[IPVS_SVC_ATTR_PE_NAME]);
    if (tb[IPVS_SVC_ATTR_FLAGS] != nullptr) {
        ip_vs_flags flags{};
        std::memcpy(&flags, nla_data(tb[IPVS_SVC_ATTR_FLAGS]), sizeof(flags));
        service.flags = flags.flags & service_flags::user_mask;
    }
    service.timeout = get_u32(tb[IPVS_SVC_ATTR_TIMEOUT]);
    service.netmask = netmask_from_wire(*family, get_u32(tb[IPVS_SVC_ATTR_NETMASK]));
    service.stats = decode_stats(tb[IPVS_SVC_ATTR_STATS64] != nullptr ? tb[IPVS_SVC_ATTR_STATS64]
                                                                      : tb[IPVS_SVC_ATTR_STATS]);
    return service;
}

std::optional<ServiceOutline> service_message_outline(const Message& message) {
    auto* header = reinterpret_cast<nlmsghdr*>(const_cast<std::uint8_t*>(message.bytes.data()));
    if (!genlmsg_valid_hdr(header, 0)) return std::nullopt;
    nlattr* nest = nla_find(genlmsg_attrdata(static_cast<genlmsghdr*>(nlmsg_data(header)), 0),
                            genlmsg_attrlen(static_cast<genlmsghdr*>(nlmsg_data(header)), 0),
                            IPVS_CMD_ATTR_SERVICE);
    if (nest == nullptr) return std::nullopt;
    auto* attrs = static_cast<nlattr*>(nla_data(nest));
    nlattr* af = nla_find(attrs, nla_len(nest), IPVS_SVC_ATTR_AF);
    if (af == nullptr || nla_len(af) < static_cast<int>(sizeof(std::uint16_t))) return std::nullopt;
    const auto family = to_family(nla_get_u16(af));
    if (!family) return std::nullopt;
    // The kernel puts the engine's name only for a service bound to one.
    nlattr* engine = nla_find(attrs, nla_len(nest), IPVS_SVC_ATTR_PE_NAME);
    return ServiceOutline{*family, engine != nullptr && nla_len(engine) > 1};
}

Result<Destination> decode_destination_message(const Message& message, Family service_family) {
    const auto& pol = policies();
    nlattr* top[IPVS_CMD_ATTR_MAX + 1] = {};
    if (!parse_top(message, top, IPVS_CMD_ATTR_MAX, pol.cmd))
        return decode_error("destination", "malformed message");
    nlattr* tb[IPVS_DEST_ATTR_MAX + 1] = {};
    if (top[IPVS_CMD_ATTR_DEST] == nullptr ||
        !parse_nested(tb, IPVS_DEST_ATTR_MAX, top[IPVS_CMD_ATTR_DEST], pol.dest))
        return decode_error("destination", "missing or malformed destination attribute");

    Destination dest;
    // Kernels before 4.x do not send the destination's own family.
    Family family = service_family;
    if (tb[IPVS_DEST_ATTR_ADDR_FAMILY] != nullptr) {
        const auto parsed = to_family(get_u16(tb[IPVS_DEST_ATTR_ADDR_FAMILY]));
        if (!parsed) return decode_error("destination", "unknown address family");
        family = *parsed;
    }
    const auto address = get_address(tb[IPVS_DEST_ATTR_ADDR], family);
    if (!address) return decode_error("destination", "missing or short address");
    dest.address = *address;
    dest.port = ntohs(get_u16(tb[IPVS_DEST_ATTR_PORT]));
    const auto method = get_u32(tb[IPVS_DEST_ATTR_FWD_METHOD]) & IP_VS_CONN_F_FWD_MASK;
    if (method > static_cast<std::uint32_t>(ForwardMethod::Route))
        return decode_error("destination", "unknown forwarding method " + std::to_string(method));
    dest.method = static_cast<ForwardMethod>(method);
    dest.weight = static_cast<std::int32_t>(get_u32(tb[IPVS_DEST_ATTR_WEIGHT]));
    dest.upper_threshold = get_u32(tb[IPVS_DEST_ATTR_U_THRESH]);
    dest.lower_threshold = get_u32(tb[IPVS_DEST_ATTR_L_THRESH]);
    dest.active_conns = get_u32(tb[IPVS_DEST_ATTR_ACTIVE_CONNS]);
    dest.inactive_conns = get_u32(tb[IPVS_DEST_ATTR_INACT_CONNS]);
    dest.persistent_conns = get_u32(tb[IPVS_DEST_ATTR_PERSIST_CONNS]);
    const auto tunnel_type = read_scalar<std::uint8_t>(tb[IPVS_DEST_ATTR_TUN_TYPE]).value_or(0);
    if (tunnel_type > static_cast<std::uint8_t>(TunnelType::GRE))
        return decode_error("destination", "unknown tunnel type " + std::to_string(tunnel_type));
    dest.tunnel_type = static_cast<TunnelType>(tunnel_type);
    dest.tunnel_port = ntohs(get_u16(tb[IPVS_DEST_ATTR_TUN_PORT]));
    dest.tunnel_flags = get_u16(tb[IPVS_DEST_ATTR_TUN_FLAGS]);
    dest.stats = decode_stats(tb[IPVS_DEST_ATTR_STATS64] != nullptr ? tb[IPVS_DEST_ATTR_STATS64]
                                                                    : tb[IPVS_DEST_ATTR_STATS]);
    return dest;
}

Result<SyncDaemon> decode_daemon_message(const Message& message) {
    const auto& pol = policies();
    nlattr* top[IPVS_CMD_ATTR_MAX + 1] = {};
    if (!parse_top(message, top, IPVS_CMD_ATTR_MAX, pol.cmd))
        return decode_error("sync daemon", "malformed message");
    nlattr* tb[IPVS_DAEMON_ATTR_MAX + 1] = {};
    if (top[IPVS_CMD_ATTR_DAEMON] == nullptr ||
        !parse_nested(tb, IPVS_DAEMON_ATTR_MAX, top[IPVS_CMD_ATTR_DAEMON], pol.daemon))
        return decode_error("sync daemon", "missing or malformed daemon attribute");
    SyncDaemon daemon;
    const auto state = get_u32(tb[IPVS_DAEMON_ATTR_STATE]);
    if (state != IP_VS_STATE_MASTER && state != IP_VS_STATE_BACKUP)
        return decode_error("sync daemon", "unknown state " + std::to_string(state));
    daemon.state = static_cast<SyncState>(state);
    daemon.interface = get_string(tb[IPVS_DAEMON_ATTR_MCAST_IFN]);
    daemon.sync_id = get_u32(tb[IPVS_DAEMON_ATTR_SYNC_ID]);
    daemon.max_len = get_u16(tb[IPVS_DAEMON_ATTR_SYNC_MAXLEN]);
    if (tb[IPVS_DAEMON_ATTR_MCAST_GROUP6] != nullptr)
        daemon.group = get_address(tb[IPVS_DAEMON_ATTR_MCAST_GROUP6], Family::Inet6);
    else if (tb[IPVS_DAEMON_ATTR_MCAST_GROUP] != nullptr)
        daemon.group = get_address(tb[IPVS_DAEMON_ATTR_MCAST_GROUP], Family::Inet);
    daemon.port = get_u16(tb[IPVS_DAEMON_ATTR_MCAST_PORT]);
    daemon.ttl = read_scalar<std::uint8_t>(tb[IPVS_DAEMON_ATTR_MCAST_TTL]).value_or(0);
    return daemon;
}

Result<Timeouts> decode_timeouts_message(const Message& message) {
    nlattr* top[IPVS_CMD_ATTR_MAX + 1] = {};
    if (!parse_top(message, top, IPVS_CMD_ATTR_MAX, policies().cmd))
        return decode_error("timeouts", "malformed message");
    Timeouts timeouts;
    timeouts.tcp = get_u32(top[IPVS_CMD_ATTR_TIMEOUT_TCP]);
    timeouts.tcp_fin = get_u32(top[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]);
    timeouts.udp = get_u32(top[IPVS_CMD_ATTR_TIMEOUT_UDP]);
    return timeouts;
}

Result<Info> decode_info_message(const Message& message) {
    nlattr* top[IPVS_INFO_ATTR_MAX + 1] = {};
    if (!parse_top(message, top, IPVS_INFO_ATTR_MAX, policies().info))
        return decode_error("info", "malformed message");
    if (top[IPVS_INFO_ATTR_VERSION] == nullptr) return decode_error("info", "missing version");
    Info info;
    info.version = get_u32(top[IPVS_INFO_ATTR_VERSION]);
    info.conn_table_size = get_u32(top[IPVS_INFO_ATTR_CONN_TAB_SIZE]);
    return info;
}

std::size_t sockopt_destination_size() {
    return sizeof(ip_vs_dest_entry);
}

std::optional<std::vector<Destination>> decode_sockopt_destinations(
    std::span<const std::uint8_t> entries, std::size_t asked) {
    std::vector<Destination> dests;
    const std::size_t available = std::min(asked, entries.size() / sizeof(ip_vs_dest_entry));
    dests.reserve(available);
    for (std::size_t i = 0; i < available; ++i) {
        ip_vs_dest_entry entry{};
        std::memcpy(&entry, entries.data() + i * sizeof(entry), sizeof(entry));
        if (entry.addr == 0) break;  // the kernel fills slots in order; the rest stay zero
        Destination d;
        d.address = Address::v4(ntohl(entry.addr));
        d.port = ntohs(entry.port);
        const unsigned method = entry.conn_flags & IP_VS_CONN_F_FWD_MASK;
        if (method > static_cast<unsigned>(ForwardMethod::Route)) return std::nullopt;
        d.method = static_cast<ForwardMethod>(method);
        d.weight = entry.weight;
        d.upper_threshold = entry.u_threshold;
        d.lower_threshold = entry.l_threshold;
        d.active_conns = entry.activeconns;
        d.inactive_conns = entry.inactconns;
        d.persistent_conns = entry.persistconns;
        dests.push_back(d);
    }
    return dests;
}

std::size_t sockopt_service_size() {
    return sizeof(ip_vs_service_entry);
}

std::optional<SockoptServices> decode_sockopt_services(std::span<const std::uint8_t> entries,
                                                      std::size_t asked) {
    SockoptServices decoded;
    const std::size_t available = std::min(asked, entries.size() / sizeof(ip_vs_service_entry));
    decoded.entries.reserve(available);
    decoded.destination_counts.reserve(available);
    for (std::size_t i = 0; i < available; ++i) {
        ip_vs_service_entry entry{};
        std::memcpy(&entry, entries.data() + i * sizeof(entry), sizeof(entry));
        if (entry.protocol == 0 && entry.fwmark == 0) break;  // unused slot
        Service& service = decoded.entries.emplace_back().service;
        if (entry.fwmark != 0) {
            service.key = ServiceKey::mark(entry.fwmark, Family::Inet);
        } else {
            const auto protocol = parse_protocol_number(entry.protocol);
            if (!protocol) return std::nullopt;
            service.key.family = Family::Inet;
            service.key.protocol = *protocol;
            service.key.address = Address::v4(ntohl(entry.addr));
            service.key.port = ntohs(entry.port);
        }
        const char* name = entry.sched_name;
        const std::size_t name_length = ::strnlen(name, sizeof(entry.sched_name));
        if (name_length == sizeof(entry.sched_name)) return std::nullopt;
        service.scheduler.assign(name, name_length);
        service.flags = entry.flags & service_flags::user_mask;
        service.timeout = entry.timeout;
        service.netmask = netmask_from_wire(Family::Inet, entry.netmask);
        decoded.destination_counts.push_back(entry.num_dests);
    }
    return decoded;
}

std::size_t decode_all(std::span<const std::uint8_t> datagram) {
    // Copy into 8-byte aligned storage, as a receive buffer would be.
    std::vector<std::uint64_t> storage((datagram.size() + 7) / 8);
    if (!datagram.empty()) std::memcpy(storage.data(), datagram.data(), datagram.size());
    std::span<const std::uint8_t> aligned(reinterpret_cast<const std::uint8_t*>(storage.data()),
                                          datagram.size());
    std::size_t decoded = 0;
    for (const Message& message : split_messages(aligned, nullptr)) {
        decoded += decode_ack(message).has_value();
        decoded += decode_service_message(message).ok();
        decoded += service_message_outline(message).has_value();
        decoded += decode_destination_message(message, Family::Inet).ok();
        decoded += decode_destination_message(message, Family::Inet6).ok();
        decoded += decode_daemon_message(message).ok();
        decoded += decode_timeouts_message(message).ok();
        decoded += decode_info_message(message).ok();
    }
    return decoded;
}

}  // namespace ipvsctl::wire
