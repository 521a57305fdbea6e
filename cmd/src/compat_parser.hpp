// SPDX-License-Identifier: GPL-2.0-or-later
// The ipvsadm 1.31 command line, parsed into a typed request. Pure: name
// lookups come in through NameLookup, nothing touches the kernel.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "ipvsctl/types.hpp"
#include "listing.hpp"
#include "names.hpp"

namespace ipvsctl::cli {

enum class CompatCommand {
    None,
    AddService,
    EditService,
    DeleteService,
    Flush,
    List,
    AddServer,
    DeleteServer,
    EditServer,
    SetTimeouts,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
    Help,
    Version,
};

/// ipvsadm's option classes (its OPTC_* numbering, which also fixes the order
/// in which its option checks report problems).
enum class OptionClass : int {
    Numeric,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UpperThreshold,
    LowerThreshold,
    McastInterface,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    SyncId,
    Exact,
    OnePacket,
    PersistenceEngine,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxLen,
    TunInfo,
    TunType,
    TunPort,
    TunNoCsum,
    TunCsum,
    TunRemCsum,
    Count
};

struct CompatRequest {
    CompatCommand command = CompatCommand::None;
    std::uint64_t options = 0;  ///< bit per OptionClass given
    Service service;
    Destination destination;
    Timeouts timeouts;
    SyncDaemon daemon;
    ListFormat format;
    // ipvsctl extensions, accepted anywhere on the line:
    bool json = false;  ///< --json
    std::string netns;  ///< --netns NAME

    [[nodiscard]] bool has(OptionClass option) const {
        return (options >> static_cast<int>(option)) & 1U;
    }
};

/// How the program ends without running a request: the text for stderr and
/// the exit status, both exactly ipvsadm's.
struct CompatExit {
    int status = 2;
    std::string message;  ///< written to stderr as is (already ends in '\n')
};

using CompatParse = std::variant<CompatRequest, CompatExit>;

/// Parses the arguments after the program name. `program` is argv[0], which
/// ipvsadm prints in its "Try `... -h'" hint.
CompatParse parse_compat(const std::vector<std::string>& args, const std::string& program,
                         const NameLookup& names);

/// ipvsadm's text for a kernel refusal of `command` with `errnum`.
std::string kernel_error_text(CompatCommand command, int errnum);

/// The usage text printed by -h.
std::string usage_text(const std::string& program);

}  // namespace ipvsctl::cli
