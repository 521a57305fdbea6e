// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once

namespace ipvsctl {
/// The library's version, e.g. "0.1.0".
const char* library_version();
}  // namespace ipvsctl
