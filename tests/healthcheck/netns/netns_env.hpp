// SPDX-License-Identifier: GPL-2.0-or-later
// What run_netns_tests.sh tells the netns tests through the environment.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace ipvsctl::healthcheck::netns_test {

/// The variable's value; fails the test when the script did not set it.
inline std::string env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr) FAIL(std::string("not set: ") + name + " (run via run_netns_tests.sh)");
    return value;
}

}  // namespace ipvsctl::healthcheck::netns_test
