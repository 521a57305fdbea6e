// SPDX-License-Identifier: GPL-2.0-or-later
// TCP segments of the half-open TCP_CHECK (a SYN probe): building the SYN
// and decoding the answers a raw socket reads. Pure functions, no sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "config/address.hpp"

namespace ipvsctl::healthcheck::tcp {

// Control bits (RFC 9293 section 3.1).
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kAck = 0x10;

inline constexpr std::size_t kIpv4HeaderSize = 20;
inline constexpr std::size_t kTcpHeaderSize = 20;

/// What a probe needs of a received segment.
struct Segment {
    config::IpAddress source;  ///< the sender (the probed server)
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    std::uint32_t seq = 0;
    std::uint32_t ack = 0;
    std::uint8_t flags = 0;
};

/// An IPv4 datagram as a raw IPv4 socket reads it (IP header first): the
/// TCP segment it carries, or nullopt when it is not a whole, unfragmented
/// TCP header (RFC 791 section 3.1). The TCP checksum is not verified: on
/// loopback and veth the kernel leaves it partial (checksum offload); a
/// probe trusts an answer only when it acknowledges the probe's own ISN.
std::optional<Segment> parse_ipv4(std::span<const std::uint8_t> datagram);

/// A TCP segment as a raw IPv6 socket reads it (no IP header, RFC 3542
/// section 3) from `source`; nullopt when it is no whole TCP header.
std::optional<Segment> parse_tcp(std::span<const std::uint8_t> segment,
                                 const config::IpAddress& source);

/// The Internet checksum (RFC 1071) of the TCP segment `segment` between
/// IPv4 addresses `source` and `destination` (the pseudo-header of RFC 9293
/// section 3.1). Computed over the segment as it is, checksum field
/// included: 0 for a segment whose checksum is right.
std::uint16_t ipv4_checksum(const config::IpAddress& source, const config::IpAddress& destination,
                            std::span<const std::uint8_t> segment);

/// A SYN with no options: a 20-byte TCP header into `out` (the checksum
/// left 0: the caller or the kernel fills it in).
void build_syn(std::span<std::uint8_t, kTcpHeaderSize> out, std::uint16_t source_port,
               std::uint16_t destination_port, std::uint32_t isn);

/// A whole IPv4 datagram holding that SYN, for a raw socket with
/// IP_HDRINCL: IP header (identification and header checksum left 0 for
/// the kernel to fill) and the TCP checksum computed here.
void build_ipv4_syn(std::span<std::uint8_t, kIpv4HeaderSize + kTcpHeaderSize> out,
                    const config::IpAddress& source, const config::IpAddress& destination,
                    std::uint16_t source_port, std::uint16_t destination_port, std::uint32_t isn);

}  // namespace ipvsctl::healthcheck::tcp
