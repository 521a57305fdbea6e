// SPDX-License-Identifier: GPL-2.0-or-later
// Feeds arbitrary bytes to every IPVS netlink reply decoder, as if the
// kernel (or something pretending to be it) had sent them, to the
// /proc/net/ip_vs reader and to the getsockopt() entry-table decoders.
#include <cstddef>
#include <cstdint>
#include <span>

#include "proc_table.hpp"
#include "wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)ipvsctl::wire::decode_all(std::span<const std::uint8_t>(data, size));
    // The same bytes as the text of /proc/net/ip_vs.
    (void)ipvsctl::proc::parse_ip_vs(std::string_view(reinterpret_cast<const char*>(data), size));
    // The same bytes as getsockopt(IP_VS_SO_GET_DESTS / _SERVICES) entry tables.
    const std::span<const std::uint8_t> bytes(data, size);
    (void)ipvsctl::wire::decode_sockopt_destinations(bytes, size);
    (void)ipvsctl::wire::decode_sockopt_services(bytes, size);
    return 0;
}
