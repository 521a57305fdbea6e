// SPDX-License-Identifier: LGPL-2.1-or-later
// Wire format of the IPVS generic-netlink family: building requests and
// decoding replies. Every IPVS quirk (port byte order, IPv4 netmask versus
// IPv6 prefix, the flags/mask pair, 32- versus 64-bit counters) lives here.
// Decoders are pure functions over bytes and never trust their input.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ipvsctl/operation.hpp"
#include "ipvsctl/result.hpp"
#include "ipvsctl/types.hpp"

namespace ipvsctl::wire {

using Bytes = std::vector<std::uint8_t>;

/// IPVS_GENL_VERSION
inline constexpr std::uint8_t genl_version = 1;

/// Appends a request for `op` (flags NLM_F_REQUEST, and NLM_F_ACK when `ack`)
/// to `out`. Without NLM_F_ACK the kernel answers only a refusal.
/// Fails only for operations that cannot be expressed (e.g. no service key).
Result<void> append_operation(Bytes& out, std::uint16_t family_id, std::uint32_t seq,
                              const Operation& op, bool ack = true);
/// The same built with libnl's message API: what append_operation writes
/// directly for services and destinations is tested byte for byte against it.
Result<void> append_operation_libnl(Bytes& out, std::uint16_t family_id, std::uint32_t seq,
                                    const Operation& op, bool ack = true);

/// Appends a GET request. `dump` adds NLM_F_DUMP; `service` adds the
/// service key attribute (needed for GET_DEST and for one GET_SERVICE).
void append_get(Bytes& out, std::uint16_t family_id, std::uint32_t seq, std::uint8_t command,
                bool dump, const ServiceKey* service);

/// One netlink message inside a receive buffer.
struct Message {
    std::uint16_t type = 0;
    std::uint16_t flags = 0;
    std::uint32_t seq = 0;
    std::span<const std::uint8_t> bytes;  ///< the whole message, header included
};

/// Splits a datagram into messages; stops at the first malformed header.
/// `malformed` is set when trailing bytes could not be parsed.
std::vector<Message> split_messages(std::span<const std::uint8_t> datagram, bool* malformed);

/// For an NLMSG_ERROR message: the positive errno (0 for an ACK) and the
/// kernel's extended-ack text when it sent one.
struct Ack {
    int errnum = 0;
    std::string text;
};
std::optional<Ack> decode_ack(const Message& message);

/// Decoders for the genl payload of one reply message.
Result<Service> decode_service_message(const Message& message);
/// What a GET_SERVICE reply says about its service without decoding the
/// rest: its address family and whether a persistence engine is bound.
struct ServiceOutline {
    Family family = Family::Inet;
    bool has_engine = false;
};
/// Nothing when the message has no service family.
std::optional<ServiceOutline> service_message_outline(const Message& message);
Result<Destination> decode_destination_message(const Message& message, Family service_family);
Result<SyncDaemon> decode_daemon_message(const Message& message);
Result<Timeouts> decode_timeouts_message(const Message& message);
Result<Info> decode_info_message(const Message& message);

/// Size of one real server in the reply to getsockopt(IP_VS_SO_GET_DESTS).
std::size_t sockopt_destination_size();

/// Decodes the real servers of an IPv4 service from the entry table of a
/// getsockopt(IP_VS_SO_GET_DESTS) reply (the bytes after the request head):
/// at most `asked` entries, stopping at the first unused (all-zero address)
/// slot. Tunnel real servers come back with IPIP defaults: the old interface
/// does not carry tunnel parameters, so callers must read those elsewhere.
/// Statistics are left 0 (the old interface has only 32-bit counters).
/// Nothing when an entry names no known forwarding method.
std::optional<std::vector<Destination>> decode_sockopt_destinations(
    std::span<const std::uint8_t> entries, std::size_t asked);

/// An IPv4 service and its number of real servers, from the reply to
/// getsockopt(IP_VS_SO_GET_SERVICES): key, scheduler, flags, persistence
/// timeout and netmask. The old interface has no persistence engine (left
/// empty) and only 32-bit counters (statistics left 0).
struct SockoptServices {
    std::vector<ServiceEntry> entries;  ///< real servers left empty
    std::vector<std::uint32_t> destination_counts;  ///< one per entry
};
std::size_t sockopt_service_size();

/// Decodes at most `asked` entries of a getsockopt(IP_VS_SO_GET_SERVICES)
/// reply's entry table, stopping at the first unused (no protocol, no
/// fwmark) slot. Nothing when an entry names an unknown protocol or a
/// scheduler name without its terminating NUL.
std::optional<SockoptServices> decode_sockopt_services(
    std::span<const std::uint8_t> entries, std::size_t asked);

/// Runs every decoder over every message in `datagram`; for the fuzzer and
/// for tests that feed captured kernel replies. Returns how many decoded.
std::size_t decode_all(std::span<const std::uint8_t> datagram);

}  // namespace ipvsctl::wire
