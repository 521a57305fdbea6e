// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the decoder of the answers to TCP_CHECK's half-open
// probe (IPv4 datagrams and bare TCP segments from raw sockets), and the
// SYN builder round-tripping through it.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "healthcheck/tcp_segment.hpp"

using namespace ipvsctl;
using namespace ipvsctl::healthcheck::tcp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    if (const auto segment = parse_ipv4(bytes)) {
        // Only a whole header decodes, and what it says comes from it.
        const std::size_t header = std::size_t{bytes[0] & 0x0fu} * 4;
        if (size < header + kTcpHeaderSize || (bytes[0] >> 4) != 4 || bytes[9] != 6)
            __builtin_trap();
        if (!std::equal(bytes.begin() + 12, bytes.begin() + 16, segment->source.bytes.begin()))
            __builtin_trap();
        if (segment->flags != bytes[header + 13]) __builtin_trap();
    }
    config::IpAddress source;
    source.family = config::AddressFamily::inet6;
    if (const auto segment = parse_tcp(bytes, source)) {
        if (size < kTcpHeaderSize || segment->source != source) __builtin_trap();
        if (segment->destination_port != ((bytes[2] << 8) | bytes[3])) __builtin_trap();
    }
    // A SYN built from the input's first bytes decodes to the same fields,
    // and its checksum verifies.
    if (size >= 16) {
        config::IpAddress from, to;
        std::copy_n(data, 4, from.bytes.begin());
        std::copy_n(data + 4, 4, to.bytes.begin());
        const auto source_port = static_cast<std::uint16_t>((data[8] << 8) | data[9]);
        const auto destination_port = static_cast<std::uint16_t>((data[10] << 8) | data[11]);
        const std::uint32_t isn = (std::uint32_t{data[12]} << 24) |
                                  (std::uint32_t{data[13]} << 16) | (std::uint32_t{data[14]} << 8) |
                                  data[15];
        std::array<std::uint8_t, kIpv4HeaderSize + kTcpHeaderSize> packet{};
        build_ipv4_syn(packet, from, to, source_port, destination_port, isn);
        const auto syn = parse_ipv4(packet);
        if (!syn || syn->source != from || syn->source_port != source_port ||
            syn->destination_port != destination_port || syn->seq != isn || syn->flags != kSyn)
            __builtin_trap();
        if (ipv4_checksum(from, to, std::span(packet).subspan(kIpv4HeaderSize)) != 0)
            __builtin_trap();
    }
    return 0;
}
