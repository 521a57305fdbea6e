// SPDX-License-Identifier: GPL-2.0-or-later
// Built against an installed libipvsctl: only its public headers are used.
#include <iostream>
#include <ipvsctl/ipvsctl.hpp>

int main() {
    const auto address = ipvsctl::Address::parse("192.0.2.1");
    const auto plan = ipvsctl::make_plan({}, ipvsctl::Table{{{ipvsctl::Service{}, {}}}});
    std::cout << ipvsctl::library_version() << " " << address->to_string() << " "
              << plan.operations.size() << "\n";
    return plan.operations.size() == 1 ? 0 : 1;
}
