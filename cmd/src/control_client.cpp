// SPDX-License-Identifier: GPL-2.0-or-later
#include "control_client.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <iomanip>
#include <sstream>
#include <thread>
#include <vector>

#include "sys/unique_fd.hpp"

namespace ipvsctl::cli {
namespace {

constexpr std::size_t kMaxReplyBytes = 64 * 1024 * 1024;

std::string errno_text(int errnum) {
    return std::strerror(errnum);
}

/// A JSON scalar as text: strings bare, null and missing as "-".
std::string text(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) return "-";
    const auto found = object.find(key);
    if (found == object.end() || found->is_null()) return "-";
    if (found->is_string()) return found->get<std::string>();
    return found->dump();
}

/// A member of an object, or null (also when `object` is not an object).
const nlohmann::json& member(const nlohmann::json& object, const char* key) {
    static const nlohmann::json null;
    if (!object.is_object()) return null;
    const auto found = object.find(key);
    return found == object.end() ? null : *found;
}

bool flag(const nlohmann::json& object, const char* key) {
    const auto& value = member(object, key);
    return value.is_boolean() && value.get<bool>();
}

/// Left-aligned columns, two spaces apart.
std::string columns(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
    std::vector<std::size_t> width;
    for (const auto& row : rows) {
        if (width.size() < row.size()) width.resize(row.size(), 0);
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line = indent;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

/// The daemon's refusal, or nullopt when the reply says ok.
std::optional<std::string> refusal(const nlohmann::json& reply) {
    if (!reply.is_object()) return "reply is not a JSON object";
    const auto ok = reply.find("ok");
    if (ok != reply.end() && ok->is_boolean() && ok->get<bool>()) return std::nullopt;
    const auto error = reply.find("error");
    if (error != reply.end() && error->is_string()) return error->get<std::string>();
    return "reply without \"ok\": true";
}

/// Sends `request`; on success stores the reply, else prints why and
/// returns false.
bool exchange(const ControlIo& io, const char* what, const nlohmann::json& request,
              nlohmann::json& reply) {
    auto answered = control_request(io.socket, request);
    if (auto* problem = std::get_if<std::string>(&answered)) {
        io.err << "ipvsctl " << what << ": " << *problem << "\n";
        return false;
    }
    reply = std::move(std::get<nlohmann::json>(answered));
    if (auto why = refusal(reply)) {
        io.err << "ipvsctl " << what << ": " << io.socket << " refused: " << *why << "\n";
        return false;
    }
    return true;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

/// "ADDR:PORT" or "[ADDR]:PORT" into `canonical` as inet_ntop prints it;
/// returns why not.
std::optional<std::string> parse_endpoint(std::string_view text, std::string& canonical,
                                          bool& is_v6) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::string("expected [IPV6]:PORT");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        is_v6 = true;
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::string("expected ADDR:PORT");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return std::string("an IPv6 address needs brackets: [ADDR]:PORT");
        is_v6 = false;
    }
    const auto number = parse_port(port);
    if (!number) return std::string("port '" + std::string(port) + "' is not 0-65535");
    const std::string host_text(host);
    unsigned char raw[16];
    const int family = is_v6 ? AF_INET6 : AF_INET;
    if (::inet_pton(family, host_text.c_str(), raw) != 1)
        return std::string("'" + host_text + "' is not an IPv" + std::string(is_v6 ? "6" : "4") +
                           " address");
    char printed[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family, raw, printed, sizeof printed);
    const std::string address = is_v6 ? "[" + std::string(printed) + "]" : std::string(printed);
    canonical = address + ":" + std::to_string(*number);
    return std::nullopt;
}

/// The status entry of `server` in `service`, or null when it is not listed.
const nlohmann::json* find_server(const nlohmann::json& status, const CheckService& service,
                                  const std::string& server) {
    const auto& services = member(status, "virtual_servers");
    if (!services.is_array()) return nullptr;
    for (const auto& vs : services) {
        const std::string key = text(vs, "service");
        const bool match = service.status_key.back() == '/' ? key.rfind(service.status_key, 0) == 0
                                                            : key == service.status_key;
        if (!match) continue;
        const auto& servers = member(vs, "real_servers");
        if (!servers.is_array()) continue;
        for (const auto& rs : servers)
            if (text(rs, "server") == server) return &rs;
    }
    return nullptr;
}

}  // namespace

std::variant<nlohmann::json, std::string> control_request(const std::string& path,
                                                          const nlohmann::json& request,
                                                          std::chrono::milliseconds timeout) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) return "socket path " + path + " is too long";
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return "socket: " + errno_text(errno);
    timeval limit{};
    limit.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    limit.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
        return "cannot connect to " + path + ": " + errno_text(errno) + " (is the daemon running?)";
    const std::string line = request.dump() + "\n";
    std::size_t sent = 0;
    while (sent < line.size()) {
        const auto n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return "cannot send to " + path + ": " + errno_text(errno);
        sent += static_cast<std::size_t>(n);
    }
    std::string reply;
    char buffer[65536];
    while (reply.find('\n') == std::string::npos) {
        const auto n = ::recv(fd.get(), buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return "no reply from " + path + " within " + std::to_string(timeout.count()) + " ms";
        if (n < 0) return "cannot read from " + path + ": " + errno_text(errno);
        if (n == 0) {
            if (reply.empty()) return path + " closed the connection without a reply";
            break;
        }
        reply.append(buffer, static_cast<std::size_t>(n));
        if (reply.size() > kMaxReplyBytes) return "reply from " + path + " is too long";
    }
    reply.resize(std::min(reply.size(), reply.find('\n')));
    auto parsed = nlohmann::json::parse(reply, nullptr, false);
    if (parsed.is_discarded()) return "reply from " + path + " is not JSON";
    return parsed;
}

std::string format_vrrp_status(const nlohmann::json& reply) {
    const auto& instances = member(reply, "instances");
    if (!instances.is_array() || instances.empty()) return "no VRRP instances\n";
    std::string out;
    for (const auto& in : instances) {
        if (!out.empty()) out += "\n";
        out += "Instance " + text(in, "instance") + " (vrid " + text(in, "vrid") + ", " +
               text(in, "interface") + ", " + text(in, "family") + ", VRRPv" + text(in, "version") +
               ")\n";
        std::vector<std::vector<std::string>> rows;
        rows.push_back({"state", text(in, "state")});
        rows.push_back({"priority", text(in, "priority")});
        rows.push_back({"effective priority", text(in, "effective_priority")});
        rows.push_back({"master address", text(in, "master_address")});
        std::string vips;
        if (const auto& found = member(in, "virtual_addresses"); found.is_array()) {
            for (const auto& vip : found) {
                if (!vips.empty()) vips += " ";
                vips += vip.is_string() ? vip.get<std::string>() : vip.dump();
            }
        }
        rows.push_back({"virtual addresses", vips.empty() ? "-" : vips});
        const auto& counters = member(in, "counters");
        rows.push_back({"adverts", "received " + text(counters, "adverts_received") + ", sent " +
                                       text(counters, "adverts_sent")});
        rows.push_back(
            {"priority 0 adverts", "received " + text(counters, "priority_zero_received") +
                                       ", sent " + text(counters, "priority_zero_sent")});
        rows.push_back({"transitions", text(counters, "transitions") + " (became master " +
                                           text(counters, "became_master") + ")"});
        std::string rejected = text(counters, "rejected_total");
        if (const auto& by_reason = member(counters, "rejected"); by_reason.is_object()) {
            std::string reasons;
            for (const auto& [reason, count] : by_reason.items()) {
                if (!count.is_number() || count.get<double>() == 0) continue;
                if (!reasons.empty()) reasons += ", ";
                reasons += reason + " " + count.dump();
            }
            if (!reasons.empty()) rejected += " (" + reasons + ")";
        }
        rows.push_back({"rejected adverts", rejected});
        rows.push_back({"errors", "send " + text(counters, "send_errors") + ", address " +
                                      text(counters, "address_errors")});
        const auto& last = member(in, "last_transition");
        if (!last.is_object()) {
            rows.push_back({"last transition", "none"});
        } else {
            std::ostringstream ago;
            if (const auto& seconds = member(last, "seconds_ago"); seconds.is_number())
                ago << std::fixed << std::setprecision(1) << seconds.get<double>() << " s ago";
            else
                ago << "-";
            rows.push_back({"last transition", text(last, "from") + " -> " + text(last, "to") +
                                                   ", " + ago.str() + " (" + text(last, "why") +
                                                   ")"});
        }
        out += columns(rows, "  ");
    }
    return out;
}

std::string format_check_status(const nlohmann::json& reply) {
    std::string out;
    const auto& counters = member(reply, "counters");
    out += "probes " + text(counters, "probes") + ", transitions " + text(counters, "transitions") +
           ", reconciles " + text(counters, "reconciles") + ", operations applied " +
           text(counters, "operations_applied") + ", apply failures " +
           text(counters, "apply_failures") + ", probe targets " + text(reply, "probe_targets") +
           "\n";
    const auto& services = member(reply, "virtual_servers");
    if (!services.is_array() || services.empty()) return out + "no virtual servers\n";
    for (const auto& vs : services) {
        const auto& quorum = member(vs, "quorum");
        const bool has_quorum = !quorum.is_boolean() || quorum.get<bool>();
        out += "\nVirtual server " + text(vs, "service") +
               (has_quorum ? "" : "  (quorum lost: sorry server in use)") + "\n";
        std::vector<std::vector<std::string>> rows{{"SERVER", "STATE", "WEIGHT", "CHECKERS"}};
        if (const auto& servers = member(vs, "real_servers"); servers.is_array()) {
            for (const auto& rs : servers) {
                std::string state = text(rs, "state");
                if (flag(rs, "backup")) state += " backup";
                if (flag(rs, "down")) state += " (configured down)";
                std::string checks;
                if (const auto& checkers = member(rs, "checkers"); checkers.is_array()) {
                    for (const auto& c : checkers) {
                        if (!checks.empty()) checks += "; ";
                        checks += text(c, "type") + " " + text(c, "state");
                        const std::string fails = text(c, "consecutive_failures");
                        if (fails != "0" && fails != "-") checks += " (" + fails + " failed)";
                        const std::string last = text(c, "last");
                        if (last != "-" && !last.empty()) checks += ": " + last;
                    }
                }
                rows.push_back(
                    {text(rs, "server"), state, text(rs, "weight"), checks.empty() ? "-" : checks});
            }
        }
        out += columns(rows, "  ");
    }
    return out;
}

std::variant<CheckService, std::string> parse_check_service(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos)
        return std::string("expected tcp:ADDR:PORT, udp:ADDR:PORT, sctp:ADDR:PORT or fwmark:N");
    const std::string protocol(text.substr(0, colon));
    const std::string_view rest = text.substr(colon + 1);
    if (protocol == "fwmark") {
        std::uint32_t mark = 0;
        const auto* end = rest.data() + rest.size();
        const auto [ptr, ec] = std::from_chars(rest.data(), end, mark);
        if (rest.empty() || ec != std::errc() || ptr != end || mark == 0)
            return "fwmark '" + std::string(rest) + "' is not a number 1-4294967295";
        return CheckService{"fwmark:" + std::to_string(mark),
                            "fwmark " + std::to_string(mark) + "/"};
    }
    if (protocol != "tcp" && protocol != "udp" && protocol != "sctp")
        return "protocol '" + protocol + "' is not tcp, udp, sctp or fwmark";
    bool is_v6 = false;
    std::string canonical;
    if (auto problem = parse_endpoint(rest, canonical, is_v6)) return *problem;
    return CheckService{protocol + ":" + canonical, canonical + "/" + protocol};
}

std::variant<CheckServer, std::string> parse_check_server(std::string_view text) {
    bool is_v6 = false;
    std::string canonical;
    if (auto problem = parse_endpoint(text, canonical, is_v6)) return *problem;
    return CheckServer{canonical};
}

namespace {

/// Asks the daemon for its status and prints the reply as JSON or through `format`.
int print_status(const ControlIo& io, const char* what,
                 std::string (*format)(const nlohmann::json& reply)) {
    nlohmann::json reply;
    if (!exchange(io, what, {{"command", "status"}}, reply)) return 1;
    if (io.json)
        io.out << reply.dump(2) << "\n";
    else
        io.out << format(reply);
    return 0;
}

}  // namespace

int vrrp_status(const ControlIo& io) {
    return print_status(io, "vrrp status", format_vrrp_status);
}

int check_status(const ControlIo& io) {
    return print_status(io, "check status", format_check_status);
}

namespace {

/// Parses both arguments or prints which one is wrong.
bool parse_pair(const ControlIo& io, const char* what, const std::string& service_text,
                const std::string& server_text, CheckService& service, std::string& server) {
    auto parsed_service = parse_check_service(service_text);
    if (auto* problem = std::get_if<std::string>(&parsed_service)) {
        io.err << "ipvsctl " << what << ": bad SERVICE '" << service_text << "': " << *problem
               << "\n";
        return false;
    }
    auto parsed_server = parse_check_server(server_text);
    if (auto* problem = std::get_if<std::string>(&parsed_server)) {
        io.err << "ipvsctl " << what << ": bad SERVER '" << server_text << "': " << *problem
               << "\n";
        return false;
    }
    service = std::get<CheckService>(parsed_service);
    server = std::get<CheckServer>(parsed_server).canonical;
    return true;
}

}  // namespace

int check_drain(const ControlIo& io, const std::string& service_text,
                const std::string& server_text, const DrainOptions& options) {
    CheckService service;
    std::string server;
    if (!parse_pair(io, "check drain", service_text, server_text, service, server)) return 2;
    nlohmann::json request{
        {"command", "drain"}, {"service", service.canonical}, {"server", server}};
    if (options.timeout_seconds) request["timeout"] = *options.timeout_seconds;
    nlohmann::json reply;
    if (!exchange(io, "check drain", request, reply)) return 1;
    const std::string name = server + " in " + service.canonical;
    io.out << name << ": " << text(reply, "state") << "\n";
    if (!options.wait) return 0;

    // Bounded: the daemon deletes the server at its drain timeout at the
    // latest; a minute beyond that means something else holds it.
    const auto limit = std::chrono::seconds(options.timeout_seconds.value_or(300) + 60);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
        nlohmann::json status;
        if (!exchange(io, "check drain", {{"command", "status"}}, status)) return 1;
        const auto* entry = find_server(status, service, server);
        if (entry == nullptr || text(*entry, "state") == "drained") {
            io.out << name << ": gone\n";
            return 0;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            io.err << "ipvsctl check drain: " << name << " still present (state "
                   << text(*entry, "state") << ") after " << limit.count() << " s\n";
            return 1;
        }
        std::this_thread::sleep_for(options.poll_interval);
    }
}

int check_undrain(const ControlIo& io, const std::string& service_text,
                  const std::string& server_text) {
    CheckService service;
    std::string server;
    if (!parse_pair(io, "check undrain", service_text, server_text, service, server)) return 2;
    nlohmann::json reply;
    if (!exchange(io, "check undrain",
                  {{"command", "undrain"}, {"service", service.canonical}, {"server", server}},
                  reply))
        return 1;
    io.out << server << " in " << service.canonical << ": " << text(reply, "state") << "\n";
    return 0;
}

}  // namespace ipvsctl::cli
