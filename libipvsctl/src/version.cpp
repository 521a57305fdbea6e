// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ipvsctl/version.hpp"

namespace ipvsctl {
const char* library_version() {
    return IPVSCTL_VERSION;
}
}  // namespace ipvsctl
