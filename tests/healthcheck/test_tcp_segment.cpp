// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "healthcheck/tcp_segment.hpp"

using namespace ipvsctl;
using namespace ipvsctl::healthcheck::tcp;

namespace {

std::vector<std::uint8_t> from_hex(const std::string& hex) {
    std::vector<std::uint8_t> bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        bytes.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return bytes;
}

config::IpAddress ip(const char* text) {
    return *config::IpAddress::parse(text);
}

// A SYN-ACK with an MSS option, 198.18.10.2:80 -> 198.18.10.1:40000, as a
// raw IPv4 socket reads it (built independently, with Python's struct).
const std::string kSynAck =
    "4500002c0000400040060000c6120a02c6120a01"
    "00509c40deadbeef123456796012faf000000000020405b4";

}  // namespace

TEST_CASE("a SYN's checksum matches one computed independently", "[tcp_segment]") {
    std::array<std::uint8_t, kIpv4HeaderSize + kTcpHeaderSize> packet{};
    build_ipv4_syn(packet, ip("198.18.10.1"), ip("198.18.10.2"), 40000, 80, 0x12345678);
    // RFC 1071 sum over the pseudo-header and segment, by a separate
    // implementation (Python): 0x0a7e.
    CHECK(packet[36] == 0x0a);
    CHECK(packet[37] == 0x7e);
    // The receiver's check: the sum over a correct segment folds to 0.
    CHECK(ipv4_checksum(ip("198.18.10.1"), ip("198.18.10.2"), std::span(packet).subspan(20)) == 0);
    CHECK(ipv4_checksum(ip("198.18.10.1"), ip("198.18.10.3"), std::span(packet).subspan(20)) != 0);
    // IP header: version/IHL, total length, DF, TTL, protocol, addresses.
    CHECK(packet[0] == 0x45);
    CHECK(packet[3] == 40);
    CHECK(packet[6] == 0x40);
    CHECK(packet[9] == 6);
    CHECK(packet[12] == 198);
    CHECK(packet[19] == 2);
    // The SYN decodes to what was built.
    const auto syn = parse_ipv4(packet);
    REQUIRE(syn);
    CHECK(syn->source == ip("198.18.10.1"));
    CHECK(syn->source_port == 40000);
    CHECK(syn->destination_port == 80);
    CHECK(syn->seq == 0x12345678u);
    CHECK(syn->flags == kSyn);
}

TEST_CASE("checksum of an odd-length segment pads with a zero byte", "[tcp_segment]") {
    std::vector<std::uint8_t> segment(21, 0);
    segment[20] = 0xab;
    const auto sum = ipv4_checksum(ip("10.0.0.1"), ip("10.0.0.2"), segment);
    segment[16] = static_cast<std::uint8_t>(sum >> 8);
    segment[17] = static_cast<std::uint8_t>(sum);
    CHECK(ipv4_checksum(ip("10.0.0.1"), ip("10.0.0.2"), segment) == 0);
    // By hand: 0x0a00+0x0001+0x0a00+0x0002+6+21+0xab00 = 0xbf1e, inverted 0x40e1.
    CHECK(sum == 0x40e1);
}

TEST_CASE("IPv4 SYN-ACK decodes to addresses, ports, ack and flags", "[tcp_segment]") {
    const auto bytes = from_hex(kSynAck);
    const auto segment = parse_ipv4(bytes);
    REQUIRE(segment);
    CHECK(segment->source == ip("198.18.10.2"));
    CHECK(segment->source_port == 80);
    CHECK(segment->destination_port == 40000);
    CHECK(segment->seq == 0xdeadbeefu);
    CHECK(segment->ack == 0x12345679u);
    CHECK(segment->flags == (kSyn | kAck));

    // IP options (IHL 6) move the TCP header.
    auto with_options = bytes;
    with_options[0] = 0x46;
    with_options.insert(with_options.begin() + 20, {1, 1, 1, 0});  // NOP NOP NOP EOL
    with_options[3] = static_cast<std::uint8_t>(with_options.size());
    const auto moved = parse_ipv4(with_options);
    REQUIRE(moved);
    CHECK(moved->ack == 0x12345679u);

    // Link padding after the datagram is ignored; a read cut short after
    // the headers (an RST with data) keeps them.
    auto padded = bytes;
    padded.resize(bytes.size() + 6, 0xee);
    CHECK(parse_ipv4(padded));
    auto truncated = bytes;
    truncated[3] = 200;
    CHECK(parse_ipv4(truncated));
}

TEST_CASE("what is not a whole TCP header does not decode", "[tcp_segment]") {
    const auto bytes = from_hex(kSynAck);
    CHECK_FALSE(parse_ipv4({}));
    CHECK_FALSE(parse_ipv4(std::span(bytes).first(39)));  // TCP header cut short
    auto v6 = bytes;
    v6[0] = 0x65;
    CHECK_FALSE(parse_ipv4(v6));
    auto short_ihl = bytes;
    short_ihl[0] = 0x44;
    CHECK_FALSE(parse_ipv4(short_ihl));
    auto udp = bytes;
    udp[9] = 17;
    CHECK_FALSE(parse_ipv4(udp));
    auto fragment = bytes;
    fragment[7] = 0x10;  // offset 16 * 8 bytes: no TCP header here
    CHECK_FALSE(parse_ipv4(fragment));
    auto short_total = bytes;
    short_total[3] = 19;  // total length below the header
    CHECK_FALSE(parse_ipv4(short_total));
    auto long_offset = bytes;
    long_offset[32] = 0xf0;  // TCP data offset 60 > 24 bytes at hand
    CHECK_FALSE(parse_ipv4(long_offset));
    auto tiny_offset = bytes;
    tiny_offset[32] = 0x40;  // data offset 16 < 20
    CHECK_FALSE(parse_ipv4(tiny_offset));
}

TEST_CASE("a TCP segment from a raw IPv6 socket decodes with its sender", "[tcp_segment]") {
    std::array<std::uint8_t, kTcpHeaderSize> rst{};
    build_syn(rst, 443, 40001, 0);
    rst[13] = kRst | kAck;
    rst[8] = 0xab;  // ack 0xab000000
    const auto segment = parse_tcp(rst, ip("fd00::2"));
    REQUIRE(segment);
    CHECK(segment->source == ip("fd00::2"));
    CHECK(segment->source_port == 443);
    CHECK(segment->destination_port == 40001);
    CHECK(segment->ack == 0xab000000u);
    CHECK(segment->flags == (kRst | kAck));
    CHECK_FALSE(parse_tcp(std::span(rst).first(19), ip("fd00::2")));
}
