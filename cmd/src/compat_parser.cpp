// SPDX-License-Identifier: GPL-2.0-or-later
//
// Why a hand-written parser and not CLI11 here: ipvsadm parses with popt,
// whose grammar scripts depend on and CLI11 cannot express: the first option
// must be the command, short options cluster with their argument ("-Ln",
// "-t10.0.0.1:80", "-p300"), `-p` takes an optional value only when the next
// word does not start with '-', bare words are collected for `--set`, and
// every problem is reported by popt or ipvsadm with its own text and exit
// status, in the order the options appear. Reproducing that is a small
// tokenizer plus ipvsadm's option tables; the new subcommands (apply, diff,
// drain) use CLI11.
#include "compat_parser.hpp"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

namespace ipvsctl::cli {

namespace {

enum class Argument { None, Required, Optional };

/// Spellings that share an option class (the service's protocol, the
/// forwarding method), and the two options outside every class.
enum class Variant { None, Tcp, Udp, Sctp, Fwmark, Masquerading, Ipip, Gatewaying, Sort, Ipv6 };

/// One option word: a command, or a member of one of ipvsadm's option classes.
struct OptionSpec {
    char short_name;  ///< 0 when there is none
    std::string_view long_name;
    Argument argument;
    CompatCommand command;  ///< None for the options
    std::optional<OptionClass> option_class;
    Variant variant;
};

constexpr OptionSpec command(char short_name, std::string_view long_name, CompatCommand command,
                             Argument argument = Argument::None) {
    return {short_name, long_name, argument, command, std::nullopt, Variant::None};
}

constexpr OptionSpec option(char short_name, std::string_view long_name, Argument argument,
                            OptionClass option_class, Variant variant = Variant::None) {
    return {short_name, long_name, argument, CompatCommand::None, option_class, variant};
}

constexpr OptionSpec unclassed(char short_name, std::string_view long_name, Variant variant) {
    return {short_name, long_name, Argument::None, CompatCommand::None, std::nullopt, variant};
}

// ipvsadm 1.31's option table (spellings, argument kinds and option classes).
constexpr std::array kOptions = {
    command('A', "add-service", CompatCommand::AddService),
    command('E', "edit-service", CompatCommand::EditService),
    command('D', "delete-service", CompatCommand::DeleteService),
    command('C', "clear", CompatCommand::Flush),
    command('L', "list", CompatCommand::List),
    command('l', "list", CompatCommand::List),
    command('Z', "zero", CompatCommand::Zero),
    command('a', "add-server", CompatCommand::AddServer),
    command('e', "edit-server", CompatCommand::EditServer),
    command('d', "delete-server", CompatCommand::DeleteServer),
    command(0, "set", CompatCommand::SetTimeouts),
    command('h', "help", CompatCommand::Help),
    command('v', "version", CompatCommand::Version),
    command('R', "restore", CompatCommand::Restore),
    command('S', "save", CompatCommand::Save),
    command(0, "start-daemon", CompatCommand::StartDaemon, Argument::Required),
    command(0, "stop-daemon", CompatCommand::StopDaemon, Argument::Required),
    option('t', "tcp-service", Argument::Required, OptionClass::Service, Variant::Tcp),
    option('u', "udp-service", Argument::Required, OptionClass::Service, Variant::Udp),
    option(0, "sctp-service", Argument::Required, OptionClass::Service, Variant::Sctp),
    option('f', "fwmark-service", Argument::Required, OptionClass::Service, Variant::Fwmark),
    option('s', "scheduler", Argument::Required, OptionClass::Scheduler),
    option('p', "persistent", Argument::Optional, OptionClass::Persistent),
    option('M', "netmask", Argument::Required, OptionClass::Netmask),
    option('r', "real-server", Argument::Required, OptionClass::Server),
    option('m', "masquerading", Argument::None, OptionClass::Forward, Variant::Masquerading),
    option('i', "ipip", Argument::None, OptionClass::Forward, Variant::Ipip),
    option('g', "gatewaying", Argument::None, OptionClass::Forward, Variant::Gatewaying),
    option('w', "weight", Argument::Required, OptionClass::Weight),
    option('x', "u-threshold", Argument::Required, OptionClass::UpperThreshold),
    option('y', "l-threshold", Argument::Required, OptionClass::LowerThreshold),
    option('n', "numeric", Argument::None, OptionClass::Numeric),
    option('c', "connection", Argument::None, OptionClass::Connection),
    option(0, "mcast-interface", Argument::Required, OptionClass::McastInterface),
    option(0, "syncid", Argument::Required, OptionClass::SyncId),
    option(0, "timeout", Argument::None, OptionClass::Timeout),
    option(0, "daemon", Argument::None, OptionClass::Daemon),
    option(0, "stats", Argument::None, OptionClass::Stats),
    option(0, "rate", Argument::None, OptionClass::Rate),
    option(0, "thresholds", Argument::None, OptionClass::Thresholds),
    option(0, "persistent-conn", Argument::None, OptionClass::PersistentConn),
    option(0, "nosort", Argument::None, OptionClass::NoSort),
    unclassed(0, "sort", Variant::Sort),
    option('X', "exact", Argument::None, OptionClass::Exact),
    unclassed('6', "ipv6", Variant::Ipv6),
    option('o', "ops", Argument::None, OptionClass::OnePacket),
    option(0, "pe", Argument::Required, OptionClass::PersistenceEngine),
    option('b', "sched-flags", Argument::Required, OptionClass::SchedFlags),
    option(0, "mcast-group", Argument::Required, OptionClass::McastGroup),
    option(0, "mcast-port", Argument::Required, OptionClass::McastPort),
    option(0, "mcast-ttl", Argument::Required, OptionClass::McastTtl),
    option(0, "sync-maxlen", Argument::Required, OptionClass::SyncMaxLen),
    option(0, "tun-info", Argument::None, OptionClass::TunInfo),
    option(0, "tun-type", Argument::Required, OptionClass::TunType),
    option(0, "tun-port", Argument::Required, OptionClass::TunPort),
    option(0, "tun-nocsum", Argument::None, OptionClass::TunNoCsum),
    option(0, "tun-csum", Argument::None, OptionClass::TunCsum),
    option(0, "tun-remcsum", Argument::None, OptionClass::TunRemCsum),
};

constexpr int kOptionCount = static_cast<int>(OptionClass::Count);

// Names ipvsadm uses for the option classes in its messages.
constexpr std::array<std::string_view, kOptionCount> kOptionNames = {
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
};

// Which option classes each command accepts: '+' required, 'x' illegal,
// '1' at most one of the '1's, ' ' optional. Columns in OptionClass order.
struct CommandRule {
    CompatCommand command;
    std::string_view name;
    std::string_view rules;
};
constexpr std::array kCommandRules = {
    CommandRule{CompatCommand::AddService, "add-service", "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx"},
    CommandRule{CompatCommand::EditService, "edit-service", "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx"},
    CommandRule{CompatCommand::DeleteService, "delete-service",
                "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
    CommandRule{CompatCommand::Flush, "flush", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
    CommandRule{CompatCommand::List, "list", " 11xxxxxxxxx11       xxxxxxx xxxxx"},
    CommandRule{CompatCommand::AddServer, "add-server", "xx+xxx+    xxxxxxxxxxxxxxxxxx     "},
    CommandRule{CompatCommand::DeleteServer, "delete-server", "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx"},
    CommandRule{CompatCommand::EditServer, "edit-server", "xx+xxx+    xxxxxxxxxxxxxxxxxx     "},
    CommandRule{CompatCommand::SetTimeouts, "set", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
    CommandRule{CompatCommand::StartDaemon, "start-daemon", "xxxxxxxxxxx xxxxxxx xxxx    xxxxxx"},
    CommandRule{CompatCommand::StopDaemon, "stop-daemon", "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx"},
    CommandRule{CompatCommand::Restore, "restore", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
    CommandRule{CompatCommand::Save, "save", " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
    CommandRule{CompatCommand::Zero, "zero", "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
};

// Tunnel types against the tunnel options port, nocsum, csum, remcsum.
constexpr std::array<std::string_view, 3> kTunnelNames = {"ipip", "gue", "gre"};
constexpr std::array<std::string_view, 3> kTunnelRules = {"xxxx", "+111", "x11x"};
constexpr std::array kTunnelOptions = {OptionClass::TunPort, OptionClass::TunNoCsum,
                                       OptionClass::TunCsum, OptionClass::TunRemCsum};

constexpr std::uint32_t kMaxTimeout = 86400 * 31;
constexpr std::uint32_t kDefaultPersistence = 360;

/// Thrown inside this file only, caught in parse_compat: ipvsadm's fail().
struct Failure {
    CompatExit exit;
};

[[noreturn]] void fail(int status, std::string message) {
    throw Failure{CompatExit{status, std::move(message) + "\n"}};
}

std::string_view option_name(OptionClass option) {
    return kOptionNames[static_cast<std::size_t>(option)];
}

/// strtol-based number in [min, max] as ipvsadm's string_to_number; nullopt
/// for anything else.
std::optional<long> number_in_range(const std::string& text, long min, long max) {
    errno = 0;
    char* end = nullptr;
    const long number = std::strtol(text.c_str(), &end, 10);
    if (*end == '\0' && end != text.c_str() && errno != ERANGE && min <= number && number <= max)
        return number;
    return std::nullopt;
}

/// `arg` as a number in [min, max] for an option's value, or ipvsadm's
/// "illegal WHAT specified".
template <class T>
T number_or_fail(const std::string& arg, long min, long max, const char* what) {
    const auto number = number_in_range(arg, min, max);
    if (!number) fail(2, std::string("illegal ") + what + " specified");
    return static_cast<T>(*number);
}

bool all_digits(const std::string& text) {
    for (char c : text)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

/// One event of popt's option stream.
struct Token {
    enum class Kind { Option, End, UnknownOption, MissingArgument } kind = Kind::End;
    const OptionSpec* spec = nullptr;
    std::optional<std::string> argument;
    std::string text;  ///< the argv word, for error messages
};

/// popt's walk over argv: clusters, `--name=value`, optional arguments,
/// bare words collected as leftovers, "--" ending the options.
class Tokenizer {
  public:
    explicit Tokenizer(const std::vector<std::string>& args) : args_(args) {}

    Token next() {
        while (true) {
            if (!cluster_.empty()) return next_in_cluster();
            if (index_ >= args_.size()) return Token{};
            const std::string& word = args_[index_++];
            if (options_ended_ || word.size() < 2 || word[0] != '-') {
                leftovers_.push_back(word);
                continue;
            }
            if (word == "--") {
                options_ended_ = true;
                continue;
            }
            if (word[1] == '-') return long_option(word);
            cluster_ = word.substr(1);
            cluster_word_ = word;
        }
    }

    [[nodiscard]] const std::vector<std::string>& leftovers() const { return leftovers_; }
    /// Consumes the remaining words, so that leftovers are complete.
    void drain() {
        for (Token t = next(); t.kind == Token::Kind::Option; t = next()) {
        }
    }

  private:
    Token long_option(const std::string& word) {
        const std::size_t equals = word.find('=');
        const std::string name =
            word.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
        for (const auto& spec : kOptions) {
            if (spec.long_name != name) continue;
            Token token{Token::Kind::Option, &spec, std::nullopt, word};
            if (spec.argument == Argument::None) return token;
            if (equals != std::string::npos) {
                token.argument = word.substr(equals + 1);
                return token;
            }
            return with_next_word(std::move(token));
        }
        return Token{Token::Kind::UnknownOption, nullptr, std::nullopt, word};
    }

    Token next_in_cluster() {
        const char letter = cluster_[0];
        cluster_.erase(0, 1);
        for (const auto& spec : kOptions) {
            if (spec.short_name != letter) continue;
            Token token{Token::Kind::Option, &spec, std::nullopt, cluster_word_};
            if (spec.argument == Argument::None) return token;
            if (!cluster_.empty()) {
                token.argument = cluster_;
                cluster_.clear();
                return token;
            }
            return with_next_word(std::move(token));
        }
        cluster_.clear();
        return Token{Token::Kind::UnknownOption, nullptr, std::nullopt, cluster_word_};
    }

    Token with_next_word(Token token) {
        const bool optional = token.spec->argument == Argument::Optional;
        if (index_ >= args_.size()) {
            if (optional) return token;
            token.kind = Token::Kind::MissingArgument;
            return token;
        }
        if (optional && !args_[index_].empty() && args_[index_][0] == '-') return token;
        token.argument = args_[index_++];
        return token;
    }

    const std::vector<std::string>& args_;
    std::size_t index_ = 0;
    std::string cluster_, cluster_word_;
    bool options_ended_ = false;
    std::vector<std::string> leftovers_;
};

struct ServiceParse {
    bool has_address = false;
    bool has_port = false;
};

/// ipvsadm's parse_service: "[v6]:port", "v6", "host[:port]"; fills the
/// address (and port when given) of `key`, port names by `protocol`.
std::optional<ServiceParse> parse_address_port(std::string text, Protocol protocol,
                                               const NameLookup& names, Address& address,
                                               std::uint16_t& port, bool& is_v6) {
    if (all_digits(text)) return std::nullopt;
    std::optional<std::string> port_text;
    if (!text.empty() && text[0] == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string::npos) return std::nullopt;
        if (close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
        port_text = text.substr(close + 2);
        text = text.substr(1, close - 1);
    }
    ServiceParse result;
    in6_addr v6{};
    if (inet_pton(AF_INET6, text.c_str(), &v6) > 0) {
        address.family = Family::Inet6;
        std::memcpy(address.bytes.data(), &v6, 16);
        is_v6 = true;
    } else {
        if (!port_text) {
            const std::size_t colon = text.rfind(':');
            if (colon != std::string::npos) {
                port_text = text.substr(colon + 1);
                text.resize(colon);
            }
        } else {
            // "[v4]:port": ipvsadm cuts at the last ':' of the bracketed part.
            const std::size_t colon = text.rfind(':');
            if (colon != std::string::npos) text.resize(colon);
        }
        auto parsed = parse_ipv4_like_inet_aton(text);
        if (!parsed) parsed = names.host_to_ipv4(text);
        if (!parsed) return std::nullopt;
        address = *parsed;
        is_v6 = false;
    }
    result.has_address = true;
    if (port_text) {
        result.has_port = true;
        if (auto number = number_in_range(*port_text, 0, 65535))
            port = static_cast<std::uint16_t>(*number);
        else if (auto named = names.service_to_port(*port_text, protocol))
            port = *named;
        else
            return std::nullopt;
    }
    return result;
}

class RequestBuilder {
  public:
    explicit RequestBuilder(const NameLookup& names) : names_(names) {
        // ipvsadm's defaults: weight 1, direct routing, ipip, /32 granularity.
        request_.service.scheduler.clear();
        request_.service.netmask = 0xffffffff;
        request_.service.key.family = Family::Unspec;
        request_.service.key.protocol = Protocol::TCP;
        request_.destination.weight = 1;
        request_.destination.method = ForwardMethod::Route;
        request_.daemon.state = SyncState::None;
    }

    void set_command(CompatCommand command) {
        if (request_.command != CompatCommand::None) fail(2, "multiple commands specified");
        request_.command = command;
    }

    void set_option(OptionClass option) {
        const std::uint64_t bit = 1ULL << static_cast<int>(option);
        if (request_.options & bit)
            fail(2, "multiple '" + std::string(option_name(option)) + "' options specified");
        request_.options |= bit;
    }

    void handle(const Token& token) {
        const std::string arg = token.argument.value_or("");
        Service& svc = request_.service;
        Destination& dest = request_.destination;
        SyncDaemon& daemon = request_.daemon;
        const OptionSpec& spec = *token.spec;
        // A second command word lands here, as in ipvsadm.
        if (spec.command != CompatCommand::None) fail(2, "invalid option `" + token.text + "'");
        if (spec.variant == Variant::Sort) return;  // the default; accepted for compatibility
        if (spec.variant == Variant::Ipv6) {
            if (svc.key.fwmark == 0) fail(2, "-6 used before -f\n");
            svc.key.family = Family::Inet6;
            svc.netmask = 128;
            return;
        }
        set_option(*spec.option_class);
        switch (*spec.option_class) {
            case OptionClass::Service:
                if (spec.variant == Variant::Fwmark) {
                    svc.key.family = Family::Inet;
                    svc.key.protocol = Protocol::TCP;
                    errno = 0;
                    char* end = nullptr;
                    const long mark = std::strtol(arg.c_str(), &end, 10);
                    if (*end != '\0' || end == arg.c_str() || errno == ERANGE || mark <= 0 ||
                        static_cast<unsigned long>(mark) > UINT_MAX)
                        fail(2, "invalid fwmark value `" + arg + "' specified");
                    svc.key.fwmark = static_cast<std::uint32_t>(mark);
                } else {
                    svc.key.protocol = spec.variant == Variant::Tcp   ? Protocol::TCP
                                       : spec.variant == Variant::Udp ? Protocol::UDP
                                                                      : Protocol::SCTP;
                    bool is_v6 = false;
                    const auto parsed = parse_address_port(arg, svc.key.protocol, names_,
                                                           svc.key.address, svc.key.port, is_v6);
                    if (!parsed) fail(2, "illegal virtual server address[:port] specified");
                    svc.key.family = is_v6 ? Family::Inet6 : Family::Inet;
                    if (is_v6) svc.netmask = 128;
                }
                break;
            case OptionClass::Scheduler:
                svc.scheduler = arg.substr(0, 15);
                break;
            case OptionClass::Persistent:
                svc.flags |= service_flags::persistent;
                if (!token.argument) {
                    svc.timeout = kDefaultPersistence;
                } else if (auto t = number_in_range(arg, 1, kMaxTimeout)) {
                    svc.timeout = static_cast<std::uint32_t>(*t);
                } else {
                    fail(2, "invalid timeout value `" + arg + "' specified");
                }
                break;
            case OptionClass::Netmask:
                if (svc.key.family != Family::Inet6) {
                    auto mask = parse_ipv4_like_inet_aton(arg);
                    if (!mask) mask = names_.host_to_ipv4(arg);
                    if (!mask) fail(2, "illegal virtual server persistent mask specified");
                    std::uint32_t network = 0;
                    std::memcpy(&network, mask->bytes.data(), 4);
                    svc.netmask = ntohl(network);
                } else {
                    const int prefix = std::atoi(arg.c_str());
                    if (prefix < 1 || prefix > 128) fail(2, "illegal ipv6 netmask specified");
                    svc.netmask = static_cast<std::uint32_t>(prefix);
                }
                break;
            case OptionClass::Server: {
                Address address = svc.key.address;
                std::uint16_t port = svc.key.port;
                bool is_v6 = svc.key.family == Family::Inet6;
                const auto parsed =
                    parse_address_port(arg, svc.key.protocol, names_, address, port, is_v6);
                dest.address = address;
                dest.address.family = svc.key.family == Family::Unspec && !parsed
                                          ? Family::Unspec
                                          : (is_v6 ? Family::Inet6 : Family::Inet);
                dest.port = port;
                if (!parsed) fail(2, "illegal real server address[:port] specified");
                if (!parsed->has_port) dest.port = svc.key.port;
                break;
            }
            case OptionClass::Forward:
                dest.method = spec.variant == Variant::Ipip         ? ForwardMethod::Tunnel
                              : spec.variant == Variant::Gatewaying ? ForwardMethod::Route
                                                                    : ForwardMethod::Masquerade;
                break;
            case OptionClass::Weight:
                dest.weight = number_or_fail<std::int32_t>(arg, 0, INT_MAX, "weight");
                break;
            case OptionClass::UpperThreshold:
                dest.upper_threshold =
                    number_or_fail<std::uint32_t>(arg, 0, INT_MAX, "u_threshold");
                break;
            case OptionClass::LowerThreshold:
                dest.lower_threshold =
                    number_or_fail<std::uint32_t>(arg, 0, INT_MAX, "l_threshold");
                break;
            case OptionClass::Numeric:
                request_.format.numeric = true;
                break;
            case OptionClass::McastInterface:
                daemon.interface = arg.substr(0, 15);
                break;
            case OptionClass::SyncId:
                daemon.sync_id = number_or_fail<std::uint32_t>(arg, 0, 255, "syncid");
                break;
            case OptionClass::Stats:
                request_.format.stats = true;
                break;
            case OptionClass::Rate:
                request_.format.rate = true;
                break;
            case OptionClass::Thresholds:
                request_.format.thresholds = true;
                break;
            case OptionClass::PersistentConn:
                request_.format.persistent_conn = true;
                break;
            case OptionClass::NoSort:
                request_.format.nosort = true;
                break;
            case OptionClass::Exact:
                request_.format.exact = true;
                break;
            case OptionClass::OnePacket:
                svc.flags |= service_flags::one_packet;
                break;
            case OptionClass::PersistenceEngine:
                svc.pe_name = arg.substr(0, 16);
                break;
            case OptionClass::SchedFlags:
                sched_flags_ = arg.substr(0, 127);
                break;
            case OptionClass::McastGroup: {
                const bool v6 = arg.find(':') != std::string::npos;
                auto group = Address::parse(arg);
                const bool multicast =
                    group && (v6 ? group->is_v6() && group->bytes[0] == 0xff
                                 : !group->is_v6() && (group->bytes[0] & 0xf0) == 0xe0);
                if (!multicast)
                    fail(2, std::string("invalid ") + (v6 ? "IPv6" : "IPv4") + " mcast-group `" +
                                arg + "'");
                daemon.group = group;
                break;
            }
            case OptionClass::McastPort:
                daemon.port = number_or_fail<std::uint16_t>(arg, 1, 65535, "mcast-port");
                break;
            case OptionClass::McastTtl:
                daemon.ttl = number_or_fail<std::uint8_t>(arg, 1, 255, "mcast-ttl");
                break;
            case OptionClass::SyncMaxLen:
                daemon.max_len =
                    number_or_fail<std::uint16_t>(arg, 1, 65535 - 20 - 8, "sync-maxlen");
                break;
            case OptionClass::TunInfo:
                request_.format.tun_info = true;
                break;
            case OptionClass::TunType:
                if (arg == "ipip")
                    dest.tunnel_type = TunnelType::IPIP;
                else if (arg == "gue")
                    dest.tunnel_type = TunnelType::GUE;
                else if (arg == "gre")
                    dest.tunnel_type = TunnelType::GRE;
                else
                    fail(2, "illegal tunnel type specified");
                break;
            case OptionClass::TunPort:
                dest.tunnel_port = number_or_fail<std::uint16_t>(arg, 1, 65535, "tunnel port");
                break;
            case OptionClass::TunNoCsum:
                dest.tunnel_flags |= tunnel_flags::nocsum;
                break;
            case OptionClass::TunCsum:
                dest.tunnel_flags |= tunnel_flags::csum;
                break;
            case OptionClass::TunRemCsum:
                dest.tunnel_flags |= tunnel_flags::remcsum;
                break;
            case OptionClass::Connection:  // these three only select what -L lists
            case OptionClass::Timeout:
            case OptionClass::Daemon:
            case OptionClass::Count:
                break;
        }
    }

    void finish(const std::vector<std::string>& leftovers) {
        std::size_t used = 0;
        if (request_.command == CompatCommand::SetTimeouts) {
            if (leftovers.size() < 3) fail(2, "--set option requires 3 timeout values");
            const auto timeout = [](const std::string& text) {
                auto value = number_in_range(text, 0, kMaxTimeout);
                if (!value) fail(2, "invalid timeout value `" + text + "' specified");
                return static_cast<std::uint32_t>(*value);
            };
            request_.timeouts.tcp = timeout(leftovers[0]);
            request_.timeouts.tcp_fin = timeout(leftovers[1]);
            request_.timeouts.udp = timeout(leftovers[2]);
            used = 3;
        }
        if (leftovers.size() > used) fail(2, "unexpected argument " + leftovers[used]);
        if (!sched_flags_.empty()) {
            request_.service.flags &=
                ~(service_flags::sched1 | service_flags::sched2 | service_flags::sched3);
            request_.service.flags |= parse_sched_flags();
        }
        check_options();
        check_semantics();
    }

    CompatRequest& request() { return request_; }

  private:
    std::uint32_t parse_sched_flags() const {
        using namespace service_flags;
        const std::string scheduler =
            request_.service.scheduler.empty() ? "wlc" : request_.service.scheduler;
        std::uint32_t flags = 0;
        std::size_t start = 0;
        // strtok: empty pieces between commas are skipped.
        while (start <= sched_flags_.size()) {
            std::size_t comma = sched_flags_.find(',', start);
            if (comma == std::string::npos) comma = sched_flags_.size();
            const std::string flag = sched_flags_.substr(start, comma - start);
            start = comma + 1;
            if (flag.empty()) continue;
            const auto requires_scheduler = [&](const char* name) {
                if (scheduler != name) fail(2, "incompatible scheduler flag `" + flag + "'");
            };
            if (flag == "flag-1")
                flags |= sched1;
            else if (flag == "flag-2")
                flags |= sched2;
            else if (flag == "flag-3")
                flags |= sched3;
            else if (flag == "sh-fallback") {
                flags |= sh_fallback;
                requires_scheduler("sh");
            } else if (flag == "sh-port") {
                flags |= sh_port;
                requires_scheduler("sh");
            } else if (flag == "mh-fallback") {
                flags |= mh_fallback;
                requires_scheduler("mh");
            } else if (flag == "mh-port") {
                flags |= mh_port;
                requires_scheduler("mh");
            } else
                fail(2, "invalid scheduler flag `" + flag + "'");
        }
        return flags;
    }

    void check_options() const {
        const CommandRule* rule = nullptr;
        for (const auto& r : kCommandRules)
            if (r.command == request_.command) rule = &r;
        if (rule == nullptr) return;
        int exclusive_count = 0;
        std::size_t first_exclusive = 0;
        for (std::size_t j = 0; j < static_cast<std::size_t>(kOptionCount); ++j) {
            const bool given = (request_.options >> j) & 1U;
            const char kind = rule->rules[j];
            if (!given) {
                if (kind == '+')
                    fail(2, "You need to supply the '" + std::string(kOptionNames[j]) +
                                "' option for the '" + std::string(rule->name) + "' command");
                continue;
            }
            if (kind == 'x')
                fail(2, "Illegal '" + std::string(kOptionNames[j]) + "' option with the '" +
                            std::string(rule->name) + "' command");
            if (kind == '1' && ++exclusive_count > 1)
                fail(2, "The option '" + std::string(kOptionNames[j]) + "' conflicts with the '" +
                            std::string(kOptionNames[first_exclusive]) + "' option in the '" +
                            std::string(rule->name) + "' command");
            if (kind == '1') first_exclusive = j;
        }
    }

    void check_tunnel_options() const {
        const auto type = static_cast<std::size_t>(request_.destination.tunnel_type);
        int exclusive_count = 0;
        OptionClass first_exclusive = OptionClass::TunPort;
        for (std::size_t j = 0; j < kTunnelOptions.size(); ++j) {
            const OptionClass option = kTunnelOptions[j];
            const char kind = kTunnelRules[type][j];
            const std::string name(option_name(option));
            if (!request_.has(option)) {
                if (kind == '+')
                    fail(2, "You need to supply the '" + name + "' option for the '" +
                                std::string(kTunnelNames[type]) + "' tunnel type");
                continue;
            }
            if (kind == 'x')
                fail(2, "Illegal '" + name + "' option with the '" +
                            std::string(kTunnelNames[type]) + "' tunnel type");
            if (kind == '1' && ++exclusive_count > 1)
                fail(2, "The option '" + name + "' conflicts with the '" +
                            std::string(option_name(first_exclusive)) + "' option in the '" +
                            std::string(kTunnelNames[type]) + "' tunnel type");
            if (kind == '1') first_exclusive = option;
        }
    }

    void check_semantics() {
        CompatRequest& r = request_;
        Service& svc = r.service;
        const CompatCommand command = r.command;
        if (command == CompatCommand::AddService || command == CompatCommand::EditService) {
            if (svc.key.fwmark == 0 && svc.key.port == 0 && !svc.persistent())
                fail(2, "Zero port specified for non-persistent service");
            if ((svc.flags & service_flags::one_packet) && svc.key.fwmark == 0 &&
                svc.key.protocol != Protocol::UDP)
                fail(2, "One-Packet Scheduling is only for UDP virtual services");
            if (svc.scheduler.empty()) svc.scheduler = "wlc";
        }
        if (command == CompatCommand::StartDaemon && r.daemon.interface.empty())
            r.daemon.interface = "eth0";
        if (command == CompatCommand::AddServer || command == CompatCommand::EditServer) {
            Destination& dest = r.destination;
            const bool tunnel = dest.method == ForwardMethod::Tunnel;
            if (svc.key.fwmark == 0 && (tunnel || dest.method == ForwardMethod::Route))
                dest.port = svc.key.port;
            if (dest.address.family != svc.key.family && !tunnel)
                fail(2, "Different address family is allowed only for tunneling servers");
            const bool tunnel_options =
                r.has(OptionClass::TunType) || r.has(OptionClass::TunPort) ||
                r.has(OptionClass::TunNoCsum) || r.has(OptionClass::TunCsum) ||
                r.has(OptionClass::TunRemCsum);
            if (tunnel_options && !tunnel) fail(2, "Tunnel options conflict with forward method");
            check_tunnel_options();
        }
        if (command == CompatCommand::List) {
            const bool special = r.has(OptionClass::Connection) || r.has(OptionClass::Timeout) ||
                                 r.has(OptionClass::Daemon);
            const bool columns = r.has(OptionClass::Stats) || r.has(OptionClass::Rate) ||
                                 r.has(OptionClass::Thresholds);
            if ((special && columns) ||
                ((r.has(OptionClass::Timeout) || r.has(OptionClass::Daemon)) &&
                 r.has(OptionClass::PersistentConn)))
                fail(2, "options conflicts in the list command");
        }
        if (svc.key.family == Family::Unspec) svc.key.family = Family::Inet;
        if (svc.key.fwmark != 0) {
            svc.key.address = Address{};
            svc.key.port = 0;
        }
    }

    const NameLookup& names_;
    CompatRequest request_;
    std::string sched_flags_;
};

CompatExit try_help(const std::string& program) {
    return CompatExit{
        255, "Try `" + program + " -h' or '" + program + " --help' for more information.\n"};
}

}  // namespace

CompatParse parse_compat(const std::vector<std::string>& args, const std::string& program,
                         const NameLookup& names) {
    // ipvsctl's own options (--json, --netns NAME) are taken out first; they
    // are no part of ipvsadm's grammar.
    std::vector<std::string> words;
    bool json = false;
    std::string netns;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--") {
            words.insert(words.end(), args.begin() + static_cast<long>(i), args.end());
            break;
        }
        if (args[i] == "--json") {
            json = true;
        } else if (args[i] == "--netns" && i + 1 < args.size()) {
            netns = args[++i];
        } else if (args[i].rfind("--netns=", 0) == 0) {
            netns = args[i].substr(8);
        } else {
            words.push_back(args[i]);
        }
    }

    Tokenizer tokens(words);
    RequestBuilder builder(names);
    try {
        const Token first = tokens.next();
        if (first.kind != Token::Kind::Option) return try_help(program);
        const auto command = first.spec->command;
        if (command == CompatCommand::None) return try_help(program);
        builder.set_command(command);
        if (command == CompatCommand::StartDaemon || command == CompatCommand::StopDaemon) {
            const std::string state = first.argument.value_or("");
            if (state == "master")
                builder.request().daemon.state = SyncState::Master;
            else if (state == "backup")
                builder.request().daemon.state = SyncState::Backup;
            else if (command == CompatCommand::StartDaemon)
                fail(2, "illegal start-daemon parameter specified");
            else
                fail(2, "illegal start_daemon specified");
        }
        if (command == CompatCommand::Help || command == CompatCommand::Version) {
            builder.request().json = json;
            return builder.request();
        }
        while (true) {
            const Token token = tokens.next();
            if (token.kind == Token::Kind::End) break;
            if (token.kind == Token::Kind::UnknownOption)
                return CompatExit{255, token.text + ": unknown option\n"};
            if (token.kind == Token::Kind::MissingArgument)
                return CompatExit{255, token.text + ": missing argument\n"};
            builder.handle(token);
        }
        builder.finish(tokens.leftovers());
    } catch (const Failure& failure) {
        return failure.exit;
    }
    builder.request().json = json;
    builder.request().netns = netns;
    return builder.request();
}

std::string kernel_error_text(CompatCommand command, int errnum) {
    using C = CompatCommand;
    switch (command) {
        case C::AddService:
            if (errnum == EEXIST) return "Service already exists";
            if (errnum == ENOENT) return "Scheduler or persistence engine not found";
            break;
        case C::EditService:
            if (errnum == ESRCH) return "No such service";
            if (errnum == ENOENT) return "Scheduler or persistence engine not found";
            break;
        case C::DeleteService:
        case C::Zero:
        case C::List:
            if (errnum == ESRCH) return "No such service";
            break;
        case C::AddServer:
            if (errnum == ESRCH) return "Service not defined";
            if (errnum == EEXIST) return "Destination already exists";
            break;
        case C::EditServer:
        case C::DeleteServer:
            if (errnum == ESRCH) return "Service not defined";
            if (errnum == ENOENT) return "No such destination";
            break;
        case C::StartDaemon:
            if (errnum == EEXIST) return "Daemon has already run";
            break;
        case C::StopDaemon:
            if (errnum == ESRCH) return "No daemon is running";
            break;
        default:
            break;
    }
    switch (errnum) {
        case EPERM:
            return "Permission denied (you must be root)";
        case EINVAL:
            return "Invalid operation.  Possibly wrong module version, address not unicast, ...";
        case ENOPROTOOPT:
            return "Protocol not available";
        case ENOMEM:
            return "Memory allocation problem";
        case EOPNOTSUPP:
            return "Operation not supported with IPv6";
        case EAFNOSUPPORT:
            return "Operation not supported with specified address family";
        case EMSGSIZE:
            return "Module is wrong version";
        default:
            return std::strerror(errnum);
    }
}

std::string usage_text(const std::string& p) {
    std::string text;
    text += "ipvsctl: an ipvsadm-compatible IPVS administration tool\n";
    text += "Usage:\n";
    for (const char* line :
         {" -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe "
          "persistence_engine] [-b sched-flags]",
          " -D virtual-service", " -C", " -R [--json]", " -S [-n] [--json]",
          " -a|e virtual-service -r server-address [options]",
          " -d virtual-service -r server-address", " -L|l [virtual-service] [options] [--json]",
          " -Z [virtual-service]", " --set tcp tcpfin udp",
          " --start-daemon {master|backup} [daemon-options]", " --stop-daemon {master|backup}",
          " apply -f FILE [--dry-run] [--prune]", " diff -f FILE [--prune]",
          " drain -t|-u|-f SERVICE -r SERVER [--timeout SECONDS]", " -h"})
        text += "  " + p + line + "\n";
    text +=
        "\nEvery command accepts --netns NAME. The options are ipvsadm 1.31's; see ipvsctl(8).\n";
    return text;
}

}  // namespace ipvsctl::cli
