// SPDX-License-Identifier: GPL-2.0-or-later
#include "nft/netlink.hpp"

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ipvsctl::nft {
namespace {

// Chain priorities as nft names them: mangle -150 runs after conntrack
// (-200), so IPVS sees the mark at LOCAL_IN; srcnat is 100.
constexpr std::int32_t kPriorityMangle = -150;
constexpr std::int32_t kPrioritySrcNat = 100;
constexpr std::int32_t kPriorityFilter = 0;
// IANA protocol number of ICMPv6 (RFC 8200 section 4.8).
constexpr std::uint8_t kIcmpv6 = 58;
constexpr std::uint32_t kReg = NFT_REG_1;
// enum ip_conntrack_dir (linux/netfilter/nf_conntrack_tuple_common.h, not uapi-exported).
constexpr std::uint8_t kCtDirOriginal = 0;

struct RuleDeleter {
    void operator()(nftnl_rule* rule) const { nftnl_rule_free(rule); }
};
struct ChainDeleter {
    void operator()(nftnl_chain* chain) const { nftnl_chain_free(chain); }
};
struct TableDeleter {
    void operator()(nftnl_table* table) const { nftnl_table_free(table); }
};
struct SocketDeleter {
    void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
};

Error nft_error(int errnum, std::string operation, std::string object) {
    Error error;
    error.errnum = errnum;
    error.operation = std::move(operation);
    error.object = std::move(object);
    error.detail = std::strerror(errnum);
    return error;
}

/// One nfnetlink batch: messages appended in order, each with its own
/// sequence number and a description for error messages.
class Batch {
  public:
    explicit Batch(std::uint32_t first_seq) : seq_(first_seq) {
        nftnl_batch_begin(reserve(), seq_++);
        commit();
        descriptions_.emplace_back("batch begin");
    }

    nlmsghdr* message(std::uint16_t type, std::uint16_t flags, std::string description) {
        descriptions_.push_back(std::move(description));
        return nftnl_nlmsg_build_hdr(reserve(), type, NFPROTO_INET,
                                     static_cast<std::uint16_t>(flags | NLM_F_ACK), seq_++);
    }
    /// Keeps the message built into the last reserve().
    void commit() {
        const auto* header = reinterpret_cast<const nlmsghdr*>(bytes_.data() + used_);
        // Messages in a batch start on 4-byte boundaries (NLMSG_ALIGNTO).
        used_ += (static_cast<std::size_t>(header->nlmsg_len) + 3) & ~std::size_t{3};
        bytes_.resize(used_);
    }
    void finish() {
        nftnl_batch_end(reserve(), seq_++);
        commit();
        descriptions_.emplace_back("batch end");
    }

    [[nodiscard]] const std::vector<char>& bytes() const { return bytes_; }
    [[nodiscard]] std::uint32_t first_seq() const {
        return seq_ - static_cast<std::uint32_t>(descriptions_.size());
    }
    [[nodiscard]] std::uint32_t last_seq() const { return seq_ - 1; }
    [[nodiscard]] std::string describe(std::uint32_t seq) const {
        const auto index = seq - first_seq();
        return index < descriptions_.size() ? descriptions_[index]
                                            : "message " + std::to_string(seq);
    }

  private:
    // A message never needs more than a page: one rule has a few expressions.
    static constexpr std::size_t kMessageRoom = 8192;
    char* reserve() {
        bytes_.resize(used_ + kMessageRoom);
        std::memset(bytes_.data() + used_, 0, kMessageRoom);
        return bytes_.data() + used_;
    }

    std::vector<char> bytes_;
    std::size_t used_ = 0;
    std::uint32_t seq_;
    std::vector<std::string> descriptions_;
};

// ------------------------------------------------------------ expressions

class RuleWriter {
  public:
    RuleWriter(std::string_view table, const char* chain) : rule_(nftnl_rule_alloc()) {
        nftnl_rule_set_u32(rule_.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
        nftnl_rule_set_str(rule_.get(), NFTNL_RULE_TABLE, std::string(table).c_str());
        nftnl_rule_set_str(rule_.get(), NFTNL_RULE_CHAIN, chain);
    }
    [[nodiscard]] nftnl_rule* get() const { return rule_.get(); }

    void meta_load(std::uint32_t key) {
        auto* e = expr("meta");
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, kReg);
    }
    void meta_store(std::uint32_t key) {
        auto* e = expr("meta");
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, kReg);
    }
    void ct_load(std::uint32_t key, bool original_direction) {
        auto* e = expr("ct");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
        if (original_direction) nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, kCtDirOriginal);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, kReg);
    }
    void payload_load(std::uint32_t base, std::uint32_t offset, std::uint32_t length) {
        auto* e = expr("payload");
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, length);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, kReg);
    }
    void compare(std::uint32_t op, const void* data, std::uint32_t length) {
        auto* e = expr("cmp");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, kReg);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, length);
    }
    void compare_equal(const void* data, std::uint32_t length) {
        compare(NFT_CMP_EQ, data, length);
    }
    /// from <= value <= to, compared as big-endian bytes (as nft encodes a range).
    void in_range(const void* from, const void* to, std::uint32_t length) {
        compare(NFT_CMP_GTE, from, length);
        compare(NFT_CMP_LTE, to, length);
    }
    void immediate(const void* data, std::uint32_t length) {
        auto* e = expr("immediate");
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, kReg);
        nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, length);
    }
    void counter() { expr("counter"); }
    void snat(std::uint32_t family) {
        auto* e = expr("nat");
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_SNAT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, family);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, kReg);
    }
    void masquerade() { expr("masq"); }
    /// `accept` / `drop`: an immediate into the verdict register.
    void verdict(std::uint32_t code) {
        auto* e = expr("immediate");
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, code);
    }

    // ------------------------------------------------ matches as nft writes them
    void match_byte(std::uint32_t meta_key, std::uint8_t value) {
        meta_load(meta_key);
        compare_equal(&value, 1);
    }
    /// `ip daddr A` / `ip daddr A-B` with its nfproto dependency.
    void match_daddr(const IpAddress& first, const IpAddress& last) {
        match_byte(NFT_META_NFPROTO, first.is_v6() ? NFPROTO_IPV6 : NFPROTO_IPV4);
        // RFC 791 section 3.1: IPv4 destination at byte 16; RFC 8200 section 3: IPv6 at 24.
        const std::uint32_t length = first.is_v6() ? 16 : 4;
        payload_load(NFT_PAYLOAD_NETWORK_HEADER, first.is_v6() ? 24 : 16, length);
        if (first == last)
            compare_equal(first.bytes.data(), length);
        else
            in_range(first.bytes.data(), last.bytes.data(), length);
    }
    /// `th dport P`: bytes 2-3 of TCP (RFC 9293 3.1), UDP (RFC 768), SCTP (RFC 9260 3.1).
    void match_dport(std::uint16_t port) {
        const std::array<std::uint8_t, 2> wire{static_cast<std::uint8_t>(port >> 8),
                                               static_cast<std::uint8_t>(port & 0xff)};
        payload_load(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
        compare_equal(wire.data(), 2);
    }

  private:
    nftnl_expr* expr(const char* name) {
        nftnl_expr* e = nftnl_expr_alloc(name);
        if (e == nullptr) throw std::bad_alloc();
        nftnl_rule_add_expr(rule_.get(), e);
        return e;
    }
    std::unique_ptr<nftnl_rule, RuleDeleter> rule_;
};

void add_rule(Batch& batch, const RuleWriter& rule, std::string description) {
    nlmsghdr* header =
        batch.message(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, std::move(description));
    nftnl_rule_nlmsg_build_payload(header, rule.get());
    batch.commit();
}

void add_mark_rule(Batch& batch, std::string_view table, const MarkRule& mark) {
    RuleWriter rule(table, "prerouting");
    rule.match_daddr(mark.first, mark.last);
    rule.match_byte(NFT_META_L4PROTO, static_cast<std::uint8_t>(mark.protocol));
    if (mark.port != 0) rule.match_dport(mark.port);
    rule.counter();
    rule.immediate(&mark.mark, sizeof mark.mark);  // meta mark is host byte order
    rule.meta_store(NFT_META_MARK);
    add_rule(batch, rule,
             "add mark rule " + mark.first.to_string() + "-" + mark.last.to_string() + " port " +
                 std::to_string(mark.port));
}

void add_snat_rule(Batch& batch, std::string_view table, const SnatRule& snat) {
    RuleWriter rule(table, "postrouting");
    const bool v6 = snat.real_server.is_v6();
    const std::uint8_t original = kCtDirOriginal;
    rule.ct_load(NFT_CT_DIRECTION, false);
    rule.compare_equal(&original, 1);
    if (const auto* address = std::get_if<ServiceAddress>(&snat.service)) {
        rule.ct_load(v6 ? NFT_CT_DST_IP6 : NFT_CT_DST_IP, true);
        rule.compare_equal(address->vip.bytes.data(), v6 ? 16 : 4);
        rule.match_byte(NFT_META_L4PROTO, static_cast<std::uint8_t>(snat.protocol));
        if (address->port != 0) {
            const std::array<std::uint8_t, 2> wire{static_cast<std::uint8_t>(address->port >> 8),
                                                   static_cast<std::uint8_t>(address->port & 0xff)};
            rule.ct_load(NFT_CT_PROTO_DST, true);
            rule.compare_equal(wire.data(), 2);
        }
    } else {
        const std::uint32_t mark = std::get<ServiceMark>(snat.service).mark;
        rule.meta_load(NFT_META_MARK);
        rule.compare_equal(&mark, sizeof mark);
        rule.match_byte(NFT_META_L4PROTO, static_cast<std::uint8_t>(snat.protocol));
    }
    rule.match_daddr(snat.real_server, snat.real_server);
    if (snat.real_port != 0) rule.match_dport(snat.real_port);
    rule.counter();
    if (snat.source) {
        rule.immediate(snat.source->bytes.data(), v6 ? 16 : 4);
        rule.snat(v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
    } else {
        rule.masquerade();
    }
    add_rule(batch, rule, "add snat rule for " + snat.real_server.to_string());
}

void add_drop_rule(Batch& batch, std::string_view table, const DropRule& drop) {
    if (drop.address.is_v6()) {
        // RFC 4861 section 4.3/4.4: ICMPv6 types 135 and 136, byte 0 of the header.
        for (const std::uint8_t type : {std::uint8_t{135}, std::uint8_t{136}}) {
            RuleWriter rule(table, "input");
            rule.match_daddr(drop.address, drop.address);
            rule.match_byte(NFT_META_L4PROTO, kIcmpv6);
            rule.payload_load(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
            rule.compare_equal(&type, 1);
            rule.verdict(NF_ACCEPT);
            add_rule(batch, rule, "add nd accept rule for " + drop.address.to_string());
        }
    }
    RuleWriter rule(table, "input");
    rule.match_daddr(drop.address, drop.address);
    rule.counter();
    rule.verdict(NF_DROP);
    add_rule(batch, rule, "add drop rule for " + drop.address.to_string());
}

void add_table(Batch& batch, std::string_view table, std::uint16_t type, std::string description) {
    std::unique_ptr<nftnl_table, TableDeleter> object(nftnl_table_alloc());
    nftnl_table_set_u32(object.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
    nftnl_table_set_str(object.get(), NFTNL_TABLE_NAME, std::string(table).c_str());
    nlmsghdr* header =
        batch.message(type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0, std::move(description));
    nftnl_table_nlmsg_build_payload(header, object.get());
    batch.commit();
}

void add_base_chain(Batch& batch, std::string_view table, const char* name, const char* type,
                    std::uint32_t hook, std::int32_t priority) {
    std::unique_ptr<nftnl_chain, ChainDeleter> chain(nftnl_chain_alloc());
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TABLE, std::string(table).c_str());
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_NAME, name);
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TYPE, type);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_HOOKNUM, hook);
    nftnl_chain_set_s32(chain.get(), NFTNL_CHAIN_PRIO, priority);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
    nlmsghdr* header =
        batch.message(NFT_MSG_NEWCHAIN, NLM_F_CREATE, std::string("add chain ") + name);
    nftnl_chain_nlmsg_build_payload(header, chain.get());
    batch.commit();
}

/// "Create if missing, then delete": the delete never fails for a missing
/// table, as `nft` itself does for `destroy`-less kernels.
void drop_table(Batch& batch, std::string_view table) {
    add_table(batch, table, NFT_MSG_NEWTABLE, "create table before delete");
    add_table(batch, table, NFT_MSG_DELTABLE, "delete table");
}

struct AckState {
    const Batch* batch = nullptr;
    std::string table;
    std::optional<Error> error;
    bool last_acked = false;
};

int on_error_message(const nlmsghdr* header, void* data) {
    auto* state = static_cast<AckState*>(data);
    const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(header));
    if (header->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) return MNL_CB_ERROR;
    if (error->error != 0 && !state->error) {
        state->error = nft_error(-error->error, state->batch->describe(error->msg.nlmsg_seq),
                                 "table inet " + state->table);
    }
    if (error->msg.nlmsg_seq + 1 == state->batch->last_seq()) state->last_acked = true;
    return MNL_CB_OK;
}

Result<void> send(const Batch& batch, std::string_view table) {
    std::unique_ptr<mnl_socket, SocketDeleter> socket(mnl_socket_open(NETLINK_NETFILTER));
    if (!socket) return nft_error(errno, "open netfilter netlink socket", "");
    if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        return nft_error(errno, "bind netfilter netlink socket", "");
    // Big batches need room; SNDBUFFORCE works for root, else the default stays.
    int size = static_cast<int>(batch.bytes().size()) + 65536;
    ::setsockopt(mnl_socket_get_fd(socket.get()), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    ::setsockopt(mnl_socket_get_fd(socket.get()), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    if (mnl_socket_sendto(socket.get(), batch.bytes().data(), batch.bytes().size()) < 0)
        return nft_error(errno, "send nftables batch", "table inet " + std::string(table));

    // The kernel runs the whole batch inside sendmsg: every reply is queued now.
    AckState state;
    state.batch = &batch;
    state.table = std::string(table);
    const unsigned port = mnl_socket_get_portid(socket.get());
    std::vector<char> buffer(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE));
    mnl_cb_t callbacks[NLMSG_MIN_TYPE] = {};
    callbacks[NLMSG_ERROR] = on_error_message;
    while (!state.last_acked) {
        const auto got = ::recv(mnl_socket_get_fd(socket.get()), buffer.data(), buffer.size(),
                                state.error ? MSG_DONTWAIT : 0);
        if (got < 0) {
            if (state.error && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            return nft_error(errno, "read nftables replies", "table inet " + std::string(table));
        }
        const int run = mnl_cb_run2(buffer.data(), static_cast<std::size_t>(got), 0, port, nullptr,
                                    &state, callbacks, NLMSG_MIN_TYPE);
        if (run < 0 && !state.error)
            return nft_error(errno, "read nftables replies", "table inet " + std::string(table));
    }
    if (state.error) return *state.error;
    return {};
}

std::uint32_t first_sequence() {
    static std::uint32_t next = 1;
    next += 100000;
    return next;
}

}  // namespace

Result<void> replace_table(const Ruleset& ruleset, std::string_view table) {
    if (ruleset.empty()) return remove_table(table);
    const auto problems = check(ruleset);
    if (!problems.empty()) {
        Error error;
        error.errnum = EINVAL;
        error.operation = "check ruleset";
        error.object = "table inet " + std::string(table);
        error.detail = problems.front();
        return error;
    }
    Batch batch(first_sequence());
    drop_table(batch, table);
    add_table(batch, table, NFT_MSG_NEWTABLE, "add table");
    if (!ruleset.drops.empty())
        add_base_chain(batch, table, "input", "filter", NF_INET_LOCAL_IN, kPriorityFilter);
    // A table of drops only (vrrpd's) gets no load-balancing chains.
    if (!ruleset.marks.empty() || !ruleset.snats.empty()) {
        add_base_chain(batch, table, "prerouting", "filter", NF_INET_PRE_ROUTING, kPriorityMangle);
        add_base_chain(batch, table, "postrouting", "nat", NF_INET_POST_ROUTING, kPrioritySrcNat);
    }
    for (const auto& mark : ruleset.marks) add_mark_rule(batch, table, mark);
    for (const auto& snat : ruleset.snats) add_snat_rule(batch, table, snat);
    for (const auto& drop : ruleset.drops) add_drop_rule(batch, table, drop);
    batch.finish();
    return send(batch, table);
}

Result<void> remove_table(std::string_view table) {
    Batch batch(first_sequence());
    drop_table(batch, table);
    batch.finish();
    return send(batch, table);
}

}  // namespace ipvsctl::nft
