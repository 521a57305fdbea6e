// SPDX-License-Identifier: GPL-2.0-or-later
// Feeds arbitrary bytes to every IPVS netlink reply decoder, as if the
// kernel (or something pretending to be it) had sent them.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)ipvsctl::wire::decode_all(std::span<const std::uint8_t>(data, size));
    return 0;
}
