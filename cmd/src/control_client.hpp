// SPDX-License-Identifier: GPL-2.0-or-later
// Client of the daemons' control sockets (vrrpd, healthcheckd): one
// newline-delimited JSON request, one reply line. `ipvsctl vrrp ...` and
// `ipvsctl check ...` are built from these; output goes to injected streams
// so that tests can run them against a fake daemon.
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace ipvsctl::cli {

inline constexpr const char* kVrrpdSocket = "/run/ipvsctl/vrrpd.sock";
inline constexpr const char* kHealthcheckdSocket = "/run/ipvsctl/healthcheckd.sock";

/// Sends `request` as one line to the Unix stream socket at `path` and
/// returns the reply line parsed as JSON, or a message naming `path`.
std::variant<nlohmann::json, std::string> control_request(
    const std::string& path, const nlohmann::json& request,
    std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// Human tables of the daemons' status replies.
std::string format_vrrp_status(const nlohmann::json& reply);
std::string format_check_status(const nlohmann::json& reply);

/// A healthcheckd service: `tcp:ADDR:PORT`, `udp:...`, `sctp:...` (IPv6 as
/// `[ADDR]`) or `fwmark:N`. `canonical` is the form sent to the daemon,
/// `status_key` the form its status reply uses ("ADDR:PORT/tcp", "fwmark N/").
struct CheckService {
    std::string canonical;
    std::string status_key;
};
std::variant<CheckService, std::string> parse_check_service(std::string_view text);
/// A real server `ADDR:PORT` or `[ADDR]:PORT`; `canonical` prints the
/// address as inet_ntop does, which is also the daemon's status form.
struct CheckServer {
    std::string canonical;
};
std::variant<CheckServer, std::string> parse_check_server(std::string_view text);

/// Where and how the commands talk and print.
struct ControlIo {
    std::string socket;
    bool json = false;
    std::ostream& out;
    std::ostream& err;
};

/// Exit statuses: 0 ok, 1 the daemon refused or is unreachable, 2 bad usage.
int vrrp_status(const ControlIo& io);
int check_status(const ControlIo& io);

struct DrainOptions {
    std::optional<unsigned> timeout_seconds;  ///< sent to the daemon; default its own
    bool wait = false;
    std::chrono::milliseconds poll_interval = std::chrono::seconds(1);
};
int check_drain(const ControlIo& io, const std::string& service, const std::string& server,
                const DrainOptions& options);
int check_undrain(const ControlIo& io, const std::string& service, const std::string& server);

}  // namespace ipvsctl::cli
