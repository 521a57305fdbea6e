// SPDX-License-Identifier: GPL-2.0-or-later
#include "healthcheck/tcp_segment.hpp"

#include <algorithm>

namespace ipvsctl::healthcheck::tcp {
namespace {

std::uint16_t load16(std::span<const std::uint8_t> bytes, std::size_t at) {
    return static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}

std::uint32_t load32(std::span<const std::uint8_t> bytes, std::size_t at) {
    return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
           (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
}

void store16(std::span<std::uint8_t> bytes, std::size_t at, std::uint16_t value) {
    bytes[at] = static_cast<std::uint8_t>(value >> 8);
    bytes[at + 1] = static_cast<std::uint8_t>(value);
}

void store32(std::span<std::uint8_t> bytes, std::size_t at, std::uint32_t value) {
    for (std::size_t i = 0; i < 4; ++i)
        bytes[at + i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
}

/// One's complement sum of 16-bit big-endian words (RFC 1071 section 4.1),
/// an odd last byte padded with zero; not yet folded.
std::uint32_t sum_words(std::span<const std::uint8_t> bytes, std::uint32_t sum) {
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) sum += load16(bytes, i);
    if (i < bytes.size()) sum += std::uint32_t{bytes[i]} << 8;
    return sum;
}

std::uint16_t fold(std::uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

}  // namespace

std::optional<Segment> parse_ipv4(std::span<const std::uint8_t> datagram) {
    // RFC 791 section 3.1: version 4, IHL in 32-bit words (at least 5).
    if (datagram.size() < kIpv4HeaderSize || (datagram[0] >> 4) != 4) return std::nullopt;
    const std::size_t header = std::size_t{datagram[0] & 0x0fu} * 4;
    if (header < kIpv4HeaderSize || datagram.size() < header) return std::nullopt;
    if (datagram[9] != 6) return std::nullopt;  // protocol: TCP
    // A fragment other than the first carries no TCP header; a first
    // fragment (MF set) is only whole if its header is (checked below).
    if ((load16(datagram, 6) & 0x1fff) != 0) return std::nullopt;
    // The total length bounds the segment (trailing link padding is not
    // TCP); a datagram longer than the read was truncated to its start.
    const std::size_t total = std::min<std::size_t>(load16(datagram, 2), datagram.size());
    if (total < header) return std::nullopt;
    config::IpAddress source;
    std::copy_n(datagram.begin() + 12, 4, source.bytes.begin());
    return parse_tcp(datagram.subspan(header, total - header), source);
}

std::optional<Segment> parse_tcp(std::span<const std::uint8_t> segment,
                                 const config::IpAddress& source) {
    // RFC 9293 section 3.1: data offset in 32-bit words, at least 5.
    if (segment.size() < kTcpHeaderSize) return std::nullopt;
    const std::size_t offset = std::size_t{segment[12]} / 16 * 4;
    if (offset < kTcpHeaderSize || offset > segment.size()) return std::nullopt;
    Segment out;
    out.source = source;
    out.source_port = load16(segment, 0);
    out.destination_port = load16(segment, 2);
    out.seq = load32(segment, 4);
    out.ack = load32(segment, 8);
    out.flags = segment[13];
    return out;
}

std::uint16_t ipv4_checksum(const config::IpAddress& source, const config::IpAddress& destination,
                            std::span<const std::uint8_t> segment) {
    // Pseudo-header: source, destination, zero, protocol 6, TCP length.
    std::uint32_t sum = 0;
    sum = sum_words(std::span(source.bytes).first(4), sum);
    sum = sum_words(std::span(destination.bytes).first(4), sum);
    sum += 6;
    sum += static_cast<std::uint32_t>(segment.size());
    return fold(sum_words(segment, sum));
}

void build_syn(std::span<std::uint8_t, kTcpHeaderSize> out, std::uint16_t source_port,
               std::uint16_t destination_port, std::uint32_t isn) {
    std::fill(out.begin(), out.end(), std::uint8_t{0});
    store16(out, 0, source_port);
    store16(out, 2, destination_port);
    store32(out, 4, isn);
    out[12] = 5 << 4;  // data offset: no options
    out[13] = kSyn;
    store16(out, 14, 65535);  // window
}

void build_ipv4_syn(std::span<std::uint8_t, kIpv4HeaderSize + kTcpHeaderSize> out,
                    const config::IpAddress& source, const config::IpAddress& destination,
                    std::uint16_t source_port, std::uint16_t destination_port, std::uint32_t isn) {
    std::fill(out.begin(), out.end(), std::uint8_t{0});
    out[0] = 0x45;  // version 4, IHL 5
    store16(out, 2, static_cast<std::uint16_t>(out.size()));
    store16(out, 6, 0x4000);  // don't fragment
    out[8] = 64;              // TTL
    out[9] = 6;               // TCP
    std::copy_n(source.bytes.begin(), 4, out.begin() + 12);
    std::copy_n(destination.bytes.begin(), 4, out.begin() + 16);
    const auto segment = out.subspan<kIpv4HeaderSize, kTcpHeaderSize>();
    build_syn(segment, source_port, destination_port, isn);
    store16(segment, 16, ipv4_checksum(source, destination, segment));
}

}  // namespace ipvsctl::healthcheck::tcp
