// SPDX-License-Identifier: LGPL-2.1-or-later
// Reader for /proc/net/ip_vs, the kernel's one-read text view of the whole
// table. It lacks thresholds, tunnel parameters, persistent-connection
// counts and statistics, but lists every real server of every service at
// once, where netlink needs one dump per service.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "ipvsctl/types.hpp"

namespace ipvsctl::proc {

struct ServiceRow {
    /// Protocol, address and port, or the fwmark (family unknown: the text
    /// does not say; callers must not rely on it for fwmark rows).
    ServiceKey key;
    std::vector<Destination> destinations;  ///< address, port, method, weight, conns only
    bool has_tunnel = false;  ///< tunnel parameters are not in the text
};

/// Parses the text of /proc/net/ip_vs. Lines it does not understand make the
/// service they belong to unusable (it is left out), never the whole read.
std::vector<ServiceRow> parse_ip_vs(std::string_view text);

/// One module's line of /proc/modules: its reference count and the loaded
/// modules that depend on it ("used by").
struct ModuleUse {
    std::uint64_t references = 0;
    std::vector<std::string_view> users;  ///< views into the text parsed
};

/// The line of /proc/modules for `module`; nothing when it is absent (not
/// loaded, or built in) or malformed.
std::optional<ModuleUse> parse_module_use(std::string_view modules_text, std::string_view module);

/// How many IPVS services exist on the host, in every network namespace
/// and family, from ip_vs's line of /proc/modules, when it can tell. The
/// kernel's ip_vs takes one module reference per service
/// (ip_vs_add_service()) and one per registered scheduler or persistence
/// engine; each module that links against it adds one more. So for
/// scheduler and engine modules only, references = 2 x users + services.
/// Nothing when another kind of module uses ip_vs (an application helper
/// such as ip_vs_ftp, whose references are not accounted for here) or when
/// an engine module is in use by a service (`modules_text` holds its line
/// too): getsockopt() does not name engines.
std::optional<std::uint64_t> ipvs_services_from_modules(std::string_view modules_text);

}  // namespace ipvsctl::proc
