// SPDX-License-Identifier: GPL-2.0-or-later
// Feeds arbitrary bytes to every IPVS netlink reply decoder, as if the
// kernel (or something pretending to be it) had sent them, to the
// /proc/net/ip_vs and /proc/modules readers and to the getsockopt() entry-table decoders.
#include <cstddef>
#include <cstdint>
#include <span>

#include "proc_table.hpp"
#include "wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)ipvsctl::wire::decode_all(std::span<const std::uint8_t>(data, size));
    // The same bytes as the text of /proc/net/ip_vs.
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)ipvsctl::proc::parse_ip_vs(text);
    // And as /proc/modules, read to count the host's IPVS services.
    (void)ipvsctl::proc::ipvs_services_from_modules(text);
    // The same bytes as getsockopt(IP_VS_SO_GET_DESTS / _SERVICES) entry tables.
    const std::span<const std::uint8_t> bytes(data, size);
    (void)ipvsctl::wire::decode_sockopt_destinations(bytes, size);
    (void)ipvsctl::wire::decode_sockopt_services(bytes, size);
    return 0;
}
