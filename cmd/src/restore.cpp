// SPDX-License-Identifier: GPL-2.0-or-later
#include "restore.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <unordered_map>

#include "ipvsctl/plan.hpp"

namespace ipvsctl::cli {

namespace {

// ---- The fast path for the lines -S prints. It accepts a line only when it
// is sure of parse_compat's result; anything else (names, other spellings,
// clustered options, quotes, errors) goes to parse_compat, so every message
// stays exactly the general parser's.

constexpr std::size_t kMaxFastWords = 24;
constexpr std::uint32_t kMaxPersistence = 86400 * 31;  // parse_compat's kMaxTimeout
constexpr std::uint32_t kDefaultPersistence = 360;

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/// The line's words as split_restore_line would give them; false for a
/// line with quotes or more than kMaxFastWords words.
bool split_fast(std::string_view line, std::array<std::string_view, kMaxFastWords>& words,
                std::size_t& count) {
    count = 0;
    const char* p = line.data();
    const char* const end = p + line.size();
    while (true) {
        while (p != end && is_blank(*p)) ++p;
        if (p == end) return true;
        const char* const start = p;
        while (p != end && !is_blank(*p)) {
            if (*p == '"' || *p == '\'') return false;
            ++p;
        }
        if (count == words.size()) return false;
        words[count++] = std::string_view(start, static_cast<std::size_t>(p - start));
    }
}

/// Decimal digits only (leading zeros allowed, as strtol reads them) with a
/// value of at most `max`; strtol's other spellings (sign, blanks) decline.
bool decimal(std::string_view text, std::uint64_t max, std::uint64_t& value) {
    if (text.empty() || text.size() > 20) return false;
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
        if (v > max) return false;
    }
    value = v;
    return true;
}

/// "a.b.c.d" with plain decimal parts (no leading zero, which inet_aton
/// would read as octal), each at most 255: exactly inet_aton's result.
bool dotted_quad(std::string_view text, std::array<std::uint8_t, 4>& out) {
    std::size_t part = 0;
    std::size_t i = 0;
    while (true) {
        const std::size_t start = i;
        unsigned value = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3) {
            value = value * 10 + static_cast<unsigned>(text[i] - '0');
            ++i;
        }
        const std::size_t digits = i - start;
        if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) return false;
        out[part++] = static_cast<std::uint8_t>(value);
        if (part == 4) return i == text.size();
        if (i == text.size() || text[i] != '.') return false;
        ++i;
    }
}

/// A service or real-server argument: "a.b.c.d", "a.b.c.d:port" or
/// "[v6]:port". Declines everything parse_address_port would look up or
/// read otherwise.
bool fast_address_port(std::string_view text, Address& address, std::uint16_t& port,
                       bool& has_port) {
    std::string_view port_text;
    has_port = false;
    if (!text.empty() && text[0] == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return false;
        const std::string_view inside = text.substr(1, close - 1);
        char buffer[INET6_ADDRSTRLEN];
        if (inside.size() >= sizeof(buffer)) return false;
        std::memcpy(buffer, inside.data(), inside.size());
        buffer[inside.size()] = '\0';
        in6_addr v6{};
        if (inet_pton(AF_INET6, buffer, &v6) <= 0) return false;
        address = Address{};
        address.family = Family::Inet6;
        std::memcpy(address.bytes.data(), &v6, 16);
        port_text = text.substr(close + 2);
        has_port = true;
    } else {
        std::string_view host = text;
        const std::size_t colon = text.find(':');
        if (colon != std::string_view::npos) {
            host = text.substr(0, colon);
            port_text = text.substr(colon + 1);
            has_port = true;
        }
        std::array<std::uint8_t, 4> quad{};
        if (!dotted_quad(host, quad)) return false;
        address = Address{};
        address.family = Family::Inet;
        std::memcpy(address.bytes.data(), quad.data(), 4);
    }
    if (has_port) {
        std::uint64_t value = 0;
        if (!decimal(port_text, 65535, value)) return false;
        port = static_cast<std::uint16_t>(value);
    }
    return true;
}

/// -b's list as parse_compat reads it (empty pieces skipped); false for an
/// unknown flag or one the scheduler does not take.
bool fast_sched_flags(std::string_view list, std::string_view scheduler, std::uint32_t& flags) {
    using namespace service_flags;
    if (scheduler.empty()) scheduler = "wlc";
    flags = 0;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        if (comma == std::string_view::npos) comma = list.size();
        const std::string_view flag = list.substr(start, comma - start);
        start = comma + 1;
        if (flag.empty()) continue;
        if (flag == "flag-1")
            flags |= sched1;
        else if (flag == "flag-2")
            flags |= sched2;
        else if (flag == "flag-3")
            flags |= sched3;
        else if (flag == "sh-fallback" && scheduler == "sh")
            flags |= sh_fallback;
        else if (flag == "sh-port" && scheduler == "sh")
            flags |= sh_port;
        else if (flag == "mh-fallback" && scheduler == "mh")
            flags |= mh_fallback;
        else if (flag == "mh-port" && scheduler == "mh")
            flags |= mh_port;
        else
            return false;
    }
    return true;
}

/// Each option at most once, as parse_compat's option classes demand.
class Once {
  public:
    bool take(unsigned bit) {
        if (seen_ & (1U << bit)) return false;
        seen_ |= 1U << bit;
        return true;
    }
    [[nodiscard]] bool has(unsigned bit) const { return (seen_ & (1U << bit)) != 0; }

  private:
    unsigned seen_ = 0;
};

}  // namespace

bool parse_restore_line_fast(std::string_view line, Operation& op, CompatCommand& command) {
    std::array<std::string_view, kMaxFastWords> words;
    std::size_t count = 0;
    if (!split_fast(line, words, count) || count < 3) return false;
    const std::string_view verb = words[0];
    bool service_command = true;
    if (verb == "-A") {
        command = CompatCommand::AddService;
    } else if (verb == "-E") {
        command = CompatCommand::EditService;
    } else if (verb == "-a") {
        command = CompatCommand::AddServer;
        service_command = false;
    } else if (verb == "-e") {
        command = CompatCommand::EditServer;
        service_command = false;
    } else {
        return false;
    }

    // The service comes first, as -S prints it: what follows (-M, -r)
    // depends on its family, port and mark.
    ServiceKey key;
    key.family = Family::Inet;
    key.protocol = Protocol::TCP;
    std::uint32_t netmask = 0xffffffff;
    std::size_t i = 1;
    const std::string_view service_option = words[i++];
    const std::string_view service_arg = words[i++];
    if (service_option == "-f") {
        std::uint64_t mark = 0;
        if (!decimal(service_arg, UINT_MAX, mark) || mark == 0) return false;
        key.fwmark = static_cast<std::uint32_t>(mark);
        if (i < count && words[i] == "-6") {
            key.family = Family::Inet6;
            netmask = 128;
            ++i;
        }
    } else {
        if (service_option == "-t")
            key.protocol = Protocol::TCP;
        else if (service_option == "-u")
            key.protocol = Protocol::UDP;
        else if (service_option == "--sctp-service")
            key.protocol = Protocol::SCTP;
        else
            return false;
        bool has_port = false;
        if (!fast_address_port(service_arg, key.address, key.port, has_port)) return false;
        key.family = key.address.family;
        if (key.family == Family::Inet6) netmask = 128;
    }
    // The argument of an option that takes one: the next word, when it is
    // not an option itself (parse_compat would take it; such lines decline).
    const auto argument = [&](std::string_view& arg) {
        if (i >= count || words[i][0] == '-') return false;
        arg = words[i++];
        return true;
    };
    Once once;

    if (service_command) {
        Service& svc = op.service;
        svc.scheduler.clear();
        std::string_view sched_flags;
        bool has_sched_flags = false;
        while (i < count) {
            const std::string_view option = words[i++];
            std::string_view arg;
            if (option == "-s") {
                if (!once.take(0) || !argument(arg)) return false;
                svc.scheduler.assign(arg.substr(0, 15));
            } else if (option == "-p") {
                if (!once.take(1)) return false;
                svc.flags |= service_flags::persistent;
                if (i < count && words[i][0] != '-') {
                    std::uint64_t timeout = 0;
                    if (!decimal(words[i++], kMaxPersistence, timeout) || timeout == 0)
                        return false;
                    svc.timeout = static_cast<std::uint32_t>(timeout);
                } else {
                    svc.timeout = kDefaultPersistence;
                }
            } else if (option == "-M") {
                if (!once.take(2) || !argument(arg)) return false;
                if (key.family == Family::Inet6) {
                    std::uint64_t prefix = 0;
                    if (!decimal(arg, 128, prefix) || prefix == 0) return false;
                    netmask = static_cast<std::uint32_t>(prefix);
                } else {
                    std::array<std::uint8_t, 4> quad{};
                    if (!dotted_quad(arg, quad)) return false;
                    netmask = static_cast<std::uint32_t>(quad[0]) << 24 |
                              static_cast<std::uint32_t>(quad[1]) << 16 |
                              static_cast<std::uint32_t>(quad[2]) << 8 | quad[3];
                }
            } else if (option == "-b") {
                if (!once.take(3) || !argument(arg) || arg.size() > 127) return false;
                sched_flags = arg;
                has_sched_flags = true;
            } else if (option == "--pe") {
                if (!once.take(4) || !argument(arg)) return false;
                svc.pe_name.assign(arg.substr(0, 16));
            } else if (option == "-o") {
                if (!once.take(5)) return false;
                svc.flags |= service_flags::one_packet;
            } else {
                return false;
            }
        }
        if (has_sched_flags) {
            std::uint32_t flags = 0;
            if (!fast_sched_flags(sched_flags, svc.scheduler, flags)) return false;
            svc.flags |= flags;
        }
        if (key.fwmark == 0 && key.port == 0 && !svc.persistent()) return false;
        if ((svc.flags & service_flags::one_packet) && key.fwmark == 0 &&
            key.protocol != Protocol::UDP)
            return false;
        if (svc.scheduler.empty()) svc.scheduler = "wlc";
        svc.netmask = netmask;
        if (key.fwmark != 0) {
            key.address = Address{};
            key.port = 0;
        }
        svc.key = key;
        op.kind = command == CompatCommand::AddService ? OpKind::AddService : OpKind::EditService;
        return true;
    }

    Destination& dest = op.destination;
    bool tunnel_options = false;
    while (i < count) {
        const std::string_view option = words[i++];
        std::string_view arg;
        std::uint64_t value = 0;
        if (option == "-r") {
            if (!once.take(0) || !argument(arg)) return false;
            bool has_port = false;
            dest.port = key.port;
            if (!fast_address_port(arg, dest.address, dest.port, has_port)) return false;
            if (!has_port) dest.port = key.port;
        } else if (option == "-g" || option == "-i" || option == "-m") {
            if (!once.take(1)) return false;
            dest.method = option == "-g"   ? ForwardMethod::Route
                          : option == "-i" ? ForwardMethod::Tunnel
                                           : ForwardMethod::Masquerade;
        } else if (option == "-w") {
            if (!once.take(2) || !argument(arg) || !decimal(arg, INT_MAX, value)) return false;
            dest.weight = static_cast<std::int32_t>(value);
        } else if (option == "-x") {
            if (!once.take(3) || !argument(arg) || !decimal(arg, INT_MAX, value)) return false;
            dest.upper_threshold = static_cast<std::uint32_t>(value);
        } else if (option == "-y") {
            if (!once.take(4) || !argument(arg) || !decimal(arg, INT_MAX, value)) return false;
            dest.lower_threshold = static_cast<std::uint32_t>(value);
        } else if (option == "--tun-type") {
            if (!once.take(5) || !argument(arg)) return false;
            if (arg == "ipip")
                dest.tunnel_type = TunnelType::IPIP;
            else if (arg == "gue")
                dest.tunnel_type = TunnelType::GUE;
            else if (arg == "gre")
                dest.tunnel_type = TunnelType::GRE;
            else
                return false;
            tunnel_options = true;
        } else if (option == "--tun-port") {
            if (!once.take(6) || !argument(arg) || !decimal(arg, 65535, value) || value == 0)
                return false;
            dest.tunnel_port = static_cast<std::uint16_t>(value);
            tunnel_options = true;
        } else if (option == "--tun-nocsum") {
            if (!once.take(7)) return false;
            dest.tunnel_flags |= tunnel_flags::nocsum;
            tunnel_options = true;
        } else if (option == "--tun-csum") {
            if (!once.take(8)) return false;
            dest.tunnel_flags |= tunnel_flags::csum;
            tunnel_options = true;
        } else if (option == "--tun-remcsum") {
            if (!once.take(9)) return false;
            dest.tunnel_flags |= tunnel_flags::remcsum;
            tunnel_options = true;
        } else {
            return false;
        }
    }
    if (!once.has(0)) return false;  // -r is required
    const bool tunnel = dest.method == ForwardMethod::Tunnel;
    if (key.fwmark == 0 && (tunnel || dest.method == ForwardMethod::Route)) dest.port = key.port;
    if (dest.address.family != key.family && !tunnel) return false;
    if (tunnel_options && !tunnel) return false;
    // The tunnel type's rules for --tun-port and the checksum options.
    const int checksums = (once.has(7) ? 1 : 0) + (once.has(8) ? 1 : 0) + (once.has(9) ? 1 : 0);
    switch (dest.tunnel_type) {
        case TunnelType::IPIP:
            if (once.has(6) || checksums != 0) return false;
            break;
        case TunnelType::GUE:
            if (!once.has(6) || checksums > 1) return false;
            break;
        case TunnelType::GRE:
            if (once.has(6) || once.has(9) || checksums > 1) return false;
            break;
    }
    if (key.fwmark != 0) {
        key.address = Address{};
        key.port = 0;
    }
    op.service.key = key;
    op.kind =
        command == CompatCommand::AddServer ? OpKind::AddDestination : OpKind::EditDestination;
    return true;
}

bool identical(const Operation& a, const Operation& b) {
    const auto same_service = [](const Service& x, const Service& y) {
        return x.key == y.key && x.key.family == y.key.family && x.key.protocol == y.key.protocol &&
               x.key.address == y.key.address && x.key.port == y.key.port &&
               x.key.fwmark == y.key.fwmark && x.scheduler == y.scheduler && x.flags == y.flags &&
               x.timeout == y.timeout && x.netmask == y.netmask && x.pe_name == y.pe_name &&
               x.stats == y.stats;
    };
    const auto same_destination = [](const Destination& x, const Destination& y) {
        return x.address == y.address && x.port == y.port && x.method == y.method &&
               x.weight == y.weight && x.upper_threshold == y.upper_threshold &&
               x.lower_threshold == y.lower_threshold && x.tunnel_type == y.tunnel_type &&
               x.tunnel_port == y.tunnel_port && x.tunnel_flags == y.tunnel_flags &&
               x.active_conns == y.active_conns && x.inactive_conns == y.inactive_conns &&
               x.persistent_conns == y.persistent_conns && x.stats == y.stats;
    };
    return a.kind == b.kind && same_service(a.service, b.service) &&
           same_destination(a.destination, b.destination) && a.timeouts == b.timeouts &&
           a.daemon == b.daemon;
}

std::string line_prefix(std::size_t line) {
    return line == 0 ? std::string() : "line " + std::to_string(line) + ": ";
}

std::optional<Operation> operation_for(const CompatRequest& request) {
    const ServiceKey& key = request.service.key;
    switch (request.command) {
        case CompatCommand::AddService:
            return Operation::add_service(request.service);
        case CompatCommand::EditService:
            return Operation::edit_service(request.service);
        case CompatCommand::DeleteService:
            return Operation::delete_service(key);
        case CompatCommand::AddServer:
            return Operation::add_destination(key, request.destination);
        case CompatCommand::EditServer:
            return Operation::edit_destination(key, request.destination);
        case CompatCommand::DeleteServer:
            return Operation::delete_destination(key, request.destination);
        case CompatCommand::Flush:
            return Operation::flush();
        case CompatCommand::Zero:
            if (request.has(OptionClass::Service)) return Operation::zero(key);
            return Operation::zero_all();
        case CompatCommand::SetTimeouts:
            return Operation::set_timeouts(request.timeouts);
        case CompatCommand::StartDaemon:
            return Operation::start_daemon(request.daemon);
        case CompatCommand::StopDaemon:
            return Operation::stop_daemon(request.daemon.state);
        default:
            return std::nullopt;
    }
}

void split_restore_line(std::string_view line, std::vector<std::string>& words) {
    std::size_t count = 0;  // words[count] is the word being built
    const auto word = [&]() -> std::string& {
        if (count == words.size()) words.emplace_back();
        return words[count];
    };
    bool in_word = false;
    char quote = 0;
    for (char c : line) {
        if (quote != 0) {
            if (c == quote)
                quote = 0;
            else
                word() += c;
            continue;
        }
        if (c == '"' || c == '\'') {
            if (!in_word) word().clear();
            quote = c;
            in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (in_word) ++count;
            in_word = false;
        } else {
            if (!in_word) word().clear();
            word() += c;
            in_word = true;
        }
    }
    if (in_word) ++count;
    words.resize(count);
}

std::vector<std::string> split_restore_line(std::string_view line) {
    std::vector<std::string> words;
    split_restore_line(line, words);
    return words;
}

std::variant<RestoreSteps, RestoreProblem> parse_restore(std::string_view text,
                                                         const NameLookup& names,
                                                         RestoreParser parser) {
    RestoreSteps steps;
    // One step a line at most: no reallocation (each operation is a few hundred bytes).
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    steps.operations.reserve(lines);
    steps.origins.reserve(lines);
    std::vector<std::string> words;  // reused: no allocation per line
    std::size_t line_number = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++line_number;
        if (parser == RestoreParser::Fast) {
            CompatCommand command = CompatCommand::None;
            Operation& operation = steps.operations.emplace_back();
            if (parse_restore_line_fast(line, operation, command)) {
                steps.origins.push_back(StepOrigin{line_number, command});
                continue;
            }
            steps.operations.pop_back();
        }
        split_restore_line(line, words);
        if (words.empty() || words[0][0] == '#') continue;
        auto parsed = parse_compat(words, "ipvsctl", names);
        if (auto* exit = std::get_if<CompatExit>(&parsed)) {
            std::string message = exit->message;
            while (!message.empty() && message.back() == '\n') message.pop_back();
            return RestoreProblem{2, line_prefix(line_number) + message};
        }
        const auto& request = std::get<CompatRequest>(parsed);
        auto operation = operation_for(request);
        if (!operation)
            return RestoreProblem{
                2, line_prefix(line_number) + "this command cannot be part of a restore"};
        steps.operations.push_back(std::move(*operation));
        steps.origins.push_back(StepOrigin{line_number, request.command});
    }
    return steps;
}

std::optional<RestoreProblem> validate_restore(const RestoreSteps& steps, const Table& current) {
    // TableModel's rules (the kernel's), on keys only: a hashed service key
    // and its real servers' endpoints. TableModel keeps whole services and
    // destinations in an ordered map, which at 50,000 lines cost as much as
    // parsing them.
    struct Endpoint {
        Address address;
        std::uint16_t port = 0;
        bool operator==(const Endpoint&) const = default;
    };
    std::unordered_map<ServiceKey, std::vector<Endpoint>, ServiceKeyHash> services;
    services.reserve(current.services.size() + steps.size() / 2 + 1);
    for (const auto& entry : current.services) {
        auto& endpoints = services[entry.service.key];
        for (const auto& d : entry.destinations) endpoints.push_back(Endpoint{d.address, d.port});
    }
    const auto refuse = [&](std::size_t i, int errnum) {
        return RestoreProblem{255, line_prefix(steps.origins[i].line) +
                                       kernel_error_text(steps.origins[i].command, errnum)};
    };
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const Operation& op = steps.operations[i];
        const ServiceKey& key = op.service.key;
        switch (op.kind) {
            case OpKind::AddService:
                if (!services.try_emplace(key).second) return refuse(i, EEXIST);
                break;
            case OpKind::EditService:
            case OpKind::ZeroService:
                if (!services.contains(key)) return refuse(i, ESRCH);
                break;
            case OpKind::DeleteService:
                if (services.erase(key) == 0) return refuse(i, ESRCH);
                break;
            case OpKind::AddDestination:
            case OpKind::EditDestination:
            case OpKind::DeleteDestination: {
                const auto found = services.find(key);
                if (found == services.end()) return refuse(i, ESRCH);
                auto& endpoints = found->second;
                const Endpoint endpoint{op.destination.address, op.destination.port};
                const auto it = std::find(endpoints.begin(), endpoints.end(), endpoint);
                if (op.kind == OpKind::AddDestination) {
                    if (it != endpoints.end()) return refuse(i, EEXIST);
                    endpoints.push_back(endpoint);
                } else if (it == endpoints.end()) {
                    return refuse(i, ENOENT);
                } else if (op.kind == OpKind::DeleteDestination) {
                    endpoints.erase(it);
                }
                break;
            }
            case OpKind::Flush:
                services.clear();
                break;
            case OpKind::ZeroAll:
            case OpKind::SetTimeouts:
            case OpKind::StartDaemon:
            case OpKind::StopDaemon:
                break;  // not part of the service table
        }
    }
    return std::nullopt;
}

std::optional<RestoreProblem> validate_restore_with_model(const RestoreSteps& steps,
                                                          const Table& current) {
    TableModel model(current);
    for (std::size_t i = 0; i < steps.size(); ++i) {
        auto applied = model.apply(steps.operations[i]);
        if (!applied)
            return RestoreProblem{
                255, line_prefix(steps.origins[i].line) +
                         kernel_error_text(steps.origins[i].command, applied.error().errnum)};
    }
    return std::nullopt;
}

RestoreSteps steps_adding(const Table& table) {
    RestoreSteps steps;
    for (const auto& entry : table.services) {
        steps.operations.push_back(Operation::add_service(entry.service));
        steps.origins.push_back(StepOrigin{0, CompatCommand::AddService});
        for (const auto& d : entry.destinations) {
            steps.operations.push_back(Operation::add_destination(entry.service.key, d));
            steps.origins.push_back(StepOrigin{0, CompatCommand::AddServer});
        }
    }
    return steps;
}

}  // namespace ipvsctl::cli
