// SPDX-License-Identifier: GPL-2.0-or-later
#include "json_document.hpp"

#include <arpa/inet.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <unordered_set>

namespace ipvsctl::cli {

using nlohmann::json;

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

json stats_to_json(const Stats& s) {
    return json{{"conns", s.conns},
                {"in_packets", s.in_packets},
                {"out_packets", s.out_packets},
                {"in_bytes", s.in_bytes},
                {"out_bytes", s.out_bytes}};
}

json rates_to_json(const Stats& s) {
    return json{{"cps", s.cps},
                {"in_pps", s.in_pps},
                {"out_pps", s.out_pps},
                {"in_bps", s.in_bps},
                {"out_bps", s.out_bps}};
}

std::vector<std::string> scheduler_flag_list(const Service& service) {
    using namespace service_flags;
    std::vector<std::string> names;
    const bool sh = service.scheduler == "sh", mh = service.scheduler == "mh";
    if (service.flags & sched1) names.push_back(sh ? "sh-fallback" : mh ? "mh-fallback" : "flag-1");
    if (service.flags & sched2) names.push_back(sh ? "sh-port" : mh ? "mh-port" : "flag-2");
    if (service.flags & sched3) names.push_back("flag-3");
    return names;
}

std::string forward_name(ForwardMethod method) {
    switch (method) {
        case ForwardMethod::Masquerade:
            return "masq";
        case ForwardMethod::Local:
            return "local";
        case ForwardMethod::Tunnel:
            return "tunnel";
        case ForwardMethod::Route:
            return "route";
    }
    return "route";
}

std::string checksum_name(std::uint16_t flags) {
    if (flags == tunnel_flags::csum) return "csum";
    if (flags == tunnel_flags::remcsum) return "remcsum";
    return "nocsum";
}

// ---- reading a document ------------------------------------------------
// A SAX handler on nlohmann's lexer fills the table while the text streams
// by, with no DOM of the document (10,000 services are ~500,000 values).
// An object's known fields are kept raw until the object closes and are then
// checked in one fixed order, so which problem is reported does not depend
// on the order of the keys, and a repeated key means its last value, as in a
// DOM. Unknown keys (counters, "version") are skipped.

/// What a value was, as far as the schema cares.
enum class Kind : std::uint8_t {
    Absent,
    Null,
    Boolean,
    Negative,
    Unsigned,  ///< a non-negative integer (also "-0")
    Float,
    String,
    Object,
    Array
};

/// One field's value, kept until its object closes.
struct Raw {
    Kind kind = Kind::Absent;
    bool boolean = false;
    std::uint64_t number = 0;
    std::string_view text;  ///< into the document, or into `storage`
    std::string storage;    ///< reused between objects: no allocation per value
    [[nodiscard]] bool present() const { return kind != Kind::Absent; }
};

struct Bad {
    JsonProblem problem;
};

/// Where an object is; its text is built only for a message.
struct Where {
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t service = 0;
    std::size_t destination = none;
    const char* inner = nullptr;  ///< "persistence" or "tunnel"

    [[nodiscard]] Where in(const char* name) const {
        Where nested = *this;
        nested.inner = name;
        return nested;
    }
    [[nodiscard]] std::string text() const {
        std::string out = "services[" + std::to_string(service) + "]";
        if (destination != none) out += ".destinations[" + std::to_string(destination) + "]";
        if (inner != nullptr) out += std::string(".") + inner;
        return out;
    }
    [[nodiscard]] Bad bad(std::string_view key, std::string what) const {
        std::string where = text();
        if (!key.empty()) where.append(".").append(key);
        return Bad{JsonProblem{std::move(where), std::move(what)}};
    }
};

std::uint64_t read_unsigned(const Raw& value, const Where& at, const char* key, std::uint64_t max,
                            std::uint64_t fallback) {
    if (!value.present()) return fallback;
    if (value.kind != Kind::Unsigned) throw at.bad(key, "must be a non-negative integer");
    if (value.number > max) throw at.bad(key, "must be at most " + std::to_string(max));
    return value.number;
}

std::string_view read_string(const Raw& value, const Where& at, const char* key,
                             std::string_view fallback) {
    if (!value.present()) return fallback;
    if (value.kind != Kind::String) throw at.bad(key, "must be a string");
    return value.text;
}

Address read_address(const Raw& value, const Where& at, const char* key) {
    const std::string_view text = read_string(value, at, key, "");
    if (text.empty()) throw at.bad(key, "is required");
    auto address = Address::parse(text);
    if (!address) throw at.bad(key, "'" + std::string(text) + "' is not an IPv4 or IPv6 address");
    return *address;
}

struct TunnelFields {
    Raw type, port, checksum;
};

struct DestinationFields {
    Raw address, port, forward, weight, upper_threshold, lower_threshold, tunnel;
    TunnelFields tunnel_fields;
};

struct PersistenceFields {
    Raw timeout, netmask;
};

struct ServiceFields {
    Raw fwmark, family, protocol, address, port, scheduler, pe, one_packet, persistence,
        scheduler_flags, destinations;
    PersistenceFields persistence_fields;
    std::vector<std::string_view> flag_names;  ///< scheduler_flags; "" for a non-string
    std::deque<std::string> flag_storage;      ///< what flag_names point into, when copied
};

void forget(Raw& raw) {
    raw.kind = Kind::Absent;
}
void forget(TunnelFields& f) {
    for (Raw* raw : {&f.type, &f.port, &f.checksum}) forget(*raw);
}
void forget(PersistenceFields& f) {
    forget(f.timeout);
    forget(f.netmask);
}
void forget(DestinationFields& f) {
    for (Raw* raw : {&f.address, &f.port, &f.forward, &f.weight, &f.upper_threshold,
                     &f.lower_threshold, &f.tunnel})
        forget(*raw);
    forget(f.tunnel_fields);
}
void forget(ServiceFields& f) {
    for (Raw* raw : {&f.fwmark, &f.family, &f.protocol, &f.address, &f.port, &f.scheduler, &f.pe,
                     &f.one_packet, &f.persistence, &f.scheduler_flags, &f.destinations})
        forget(*raw);
    forget(f.persistence_fields);
    f.flag_names.clear();
    f.flag_storage.clear();
}

Destination read_destination(const DestinationFields& f, const Where& at) {
    Destination d;
    d.address = read_address(f.address, at, "address");
    d.port = static_cast<std::uint16_t>(read_unsigned(f.port, at, "port", 65535, 0));
    const std::string_view forward = read_string(f.forward, at, "forward", "route");
    if (forward == "masq")
        d.method = ForwardMethod::Masquerade;
    else if (forward == "route")
        d.method = ForwardMethod::Route;
    else if (forward == "tunnel")
        d.method = ForwardMethod::Tunnel;
    else if (forward == "local")
        d.method = ForwardMethod::Local;
    else
        throw at.bad("forward",
                     "'" + std::string(forward) + "' is not masq, route, tunnel or local");
    d.weight = static_cast<std::int32_t>(read_unsigned(f.weight, at, "weight", INT_MAX, 1));
    d.upper_threshold = static_cast<std::uint32_t>(
        read_unsigned(f.upper_threshold, at, "upper_threshold", INT_MAX, 0));
    d.lower_threshold = static_cast<std::uint32_t>(
        read_unsigned(f.lower_threshold, at, "lower_threshold", INT_MAX, 0));
    if (f.tunnel.present()) {
        const Where tat = at.in("tunnel");
        if (f.tunnel.kind != Kind::Object) throw tat.bad("", "must be an object");
        const TunnelFields& t = f.tunnel_fields;
        const std::string_view type = read_string(t.type, tat, "type", "ipip");
        if (type == "ipip")
            d.tunnel_type = TunnelType::IPIP;
        else if (type == "gue")
            d.tunnel_type = TunnelType::GUE;
        else if (type == "gre")
            d.tunnel_type = TunnelType::GRE;
        else
            throw tat.bad("type", "'" + std::string(type) + "' is not ipip, gue or gre");
        d.tunnel_port = static_cast<std::uint16_t>(read_unsigned(t.port, tat, "port", 65535, 0));
        const std::string_view checksum = read_string(t.checksum, tat, "checksum", "nocsum");
        if (checksum == "nocsum")
            d.tunnel_flags = tunnel_flags::nocsum;
        else if (checksum == "csum")
            d.tunnel_flags = tunnel_flags::csum;
        else if (checksum == "remcsum")
            d.tunnel_flags = tunnel_flags::remcsum;
        else
            throw tat.bad("checksum",
                          "'" + std::string(checksum) + "' is not nocsum, csum or remcsum");
        if (d.tunnel_type == TunnelType::GUE && d.tunnel_port == 0)
            throw tat.bad("port", "is required for a gue tunnel");
    }
    return d;
}

/// The service's own settings (its destinations are read as they close).
Service read_service(const ServiceFields& f, const Where& at) {
    Service s;
    if (f.fwmark.present()) {
        const auto mark = read_unsigned(f.fwmark, at, "fwmark", UINT_MAX, 0);
        if (mark == 0) throw at.bad("fwmark", "must be greater than zero");
        const std::string_view family = read_string(f.family, at, "family", "inet");
        if (family != "inet" && family != "inet6")
            throw at.bad("family", "'" + std::string(family) + "' is not inet or inet6");
        s.key = ServiceKey::mark(static_cast<std::uint32_t>(mark),
                                 family == "inet6" ? Family::Inet6 : Family::Inet);
    } else {
        const std::string_view protocol = read_string(f.protocol, at, "protocol", "");
        const auto parsed = parse_protocol(protocol);
        if (!parsed)
            throw at.bad("protocol", protocol.empty() ? "is required (or fwmark)"
                                                      : "'" + std::string(protocol) +
                                                            "' is not tcp, udp or sctp");
        const Address address = read_address(f.address, at, "address");
        const auto port = static_cast<std::uint16_t>(read_unsigned(f.port, at, "port", 65535, 0));
        s.key = *parsed == Protocol::TCP   ? ServiceKey::tcp(address, port)
                : *parsed == Protocol::UDP ? ServiceKey::udp(address, port)
                                           : ServiceKey::sctp(address, port);
    }
    s.scheduler = read_string(f.scheduler, at, "scheduler", "wlc");
    s.netmask = Service::default_netmask(s.key.family);
    if (f.persistence.present()) {
        const Where pat = at.in("persistence");
        if (f.persistence.kind != Kind::Object) throw pat.bad("", "must be an object");
        const PersistenceFields& p = f.persistence_fields;
        s.flags |= service_flags::persistent;
        s.timeout =
            static_cast<std::uint32_t>(read_unsigned(p.timeout, pat, "timeout", 86400 * 31, 360));
        if (s.timeout == 0) throw pat.bad("timeout", "must be at least 1");
        if (p.netmask.present()) {
            if (s.key.family == Family::Inet6) {
                s.netmask =
                    static_cast<std::uint32_t>(read_unsigned(p.netmask, pat, "netmask", 128, 128));
            } else {
                const std::string_view mask = read_string(p.netmask, pat, "netmask", "");
                const auto parsed = Address::parse(mask);
                if (!parsed || parsed->is_v6())
                    throw pat.bad("netmask", "'" + std::string(mask) + "' is not an IPv4 netmask");
                std::uint32_t network = 0;
                std::memcpy(&network, parsed->bytes.data(), 4);
                s.netmask = ntohl(network);
            }
        }
    }
    s.pe_name = read_string(f.pe, at, "pe", "");
    if (f.one_packet.present()) {
        if (f.one_packet.kind != Kind::Boolean) throw at.bad("one_packet", "must be true or false");
        if (f.one_packet.boolean) s.flags |= service_flags::one_packet;
    }
    if (f.scheduler_flags.present()) {
        if (f.scheduler_flags.kind != Kind::Array)
            throw at.bad("scheduler_flags", "must be an array");
        for (const auto& name : f.flag_names) {
            if (name == "flag-1" || name == "sh-fallback" || name == "mh-fallback")
                s.flags |= service_flags::sched1;
            else if (name == "flag-2" || name == "sh-port" || name == "mh-port")
                s.flags |= service_flags::sched2;
            else if (name == "flag-3")
                s.flags |= service_flags::sched3;
            else
                throw at.bad("scheduler_flags", "unknown flag '" + std::string(name) + "'");
        }
    }
    if (f.destinations.present() && f.destinations.kind != Kind::Array)
        throw at.bad("destinations", "must be an array");
    return s;
}

/// nlohmann's SAX interface, filling a Table. Every callback returns true
/// except parse_error: a schema problem is remembered and lexing goes on,
/// so that a syntax error later in the text is still the one reported.
class TableSax {
  public:
    using Json = nlohmann::json;

    bool null() { return scalar(Kind::Null); }
    bool boolean(bool value) {
        if (Raw* raw = scalar_slot(Kind::Boolean)) raw->boolean = value;
        return true;
    }
    bool number_integer(Json::number_integer_t value) {
        if (value < 0) return scalar(Kind::Negative);
        if (Raw* raw = scalar_slot(Kind::Unsigned)) raw->number = static_cast<std::uint64_t>(value);
        return true;
    }
    bool number_unsigned(Json::number_unsigned_t value) {
        if (Raw* raw = scalar_slot(Kind::Unsigned)) raw->number = value;
        return true;
    }
    bool number_float(Json::number_float_t /*value*/, const Json::string_t& /*text*/) {
        return scalar(Kind::Float);
    }
    bool string(std::string_view value) {
        if (skip_depth_ > 0) return true;
        if (!stack_.empty() && stack_.back() == Frame::SchedulerFlags) {
            service_.flag_names.emplace_back(service_.flag_storage.emplace_back(value));
            return true;
        }
        if (Raw* raw = scalar_slot(Kind::String)) {
            raw->storage.assign(value);
            raw->text = raw->storage;
        }
        return true;
    }
    bool binary(Json::binary_t& /*value*/) { return scalar(Kind::Null); }  // not in JSON text
    bool start_object(std::size_t /*elements*/) {
        open(Kind::Object);
        return true;
    }
    bool start_array(std::size_t /*elements*/) {
        open(Kind::Array);
        return true;
    }
    bool end_object() {
        close();
        return true;
    }
    bool end_array() {
        close();
        return true;
    }
    bool key(std::string_view name) {
        if (skip_depth_ == 0) select(name);
        return true;
    }
    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                     const nlohmann::detail::exception& error) {
        syntax_error_ = error.what();
        return false;
    }

    /// `text_size`: the document's length, for a guess at how many services
    /// and real servers it holds (reserved up front: growing the arrays
    /// would touch twice the memory).
    explicit TableSax(std::size_t text_size) : text_size_(text_size) { reserve(); }

    std::variant<DocumentTable, JsonProblem, JsonSyntaxError> result() && {
        if (syntax_error_) return JsonSyntaxError{std::move(*syntax_error_)};
        if (document_kind_ != Kind::Object) return JsonProblem{"document", "must be a JSON object"};
        if (!services_.present()) return JsonProblem{"document", "has no \"services\""};
        if (services_.kind != Kind::Array) return JsonProblem{"services", "must be an array"};
        if (problem_) return std::move(*problem_);
        return std::move(table_);
    }

  private:
    enum class Frame : std::uint8_t {
        Document,
        Services,
        Service,
        Persistence,
        SchedulerFlags,
        Destinations,
        Destination,
        Tunnel
    };

    static bool is_array(Frame frame) {
        return frame == Frame::Services || frame == Frame::SchedulerFlags ||
               frame == Frame::Destinations;
    }

    /// A scalar value arrives; stores its kind where it belongs.
    bool scalar(Kind kind) {
        scalar_slot(kind);
        return true;
    }

    /// Where a scalar of `kind` goes (nullptr: nowhere, or it was an array
    /// element dealt with here).
    Raw* scalar_slot(Kind kind) {
        if (skip_depth_ > 0) return nullptr;
        if (stack_.empty()) {
            document_kind_ = kind;
            return nullptr;
        }
        switch (stack_.back()) {
            case Frame::Services:
                not_an_object_service();
                return nullptr;
            case Frame::SchedulerFlags:
                service_.flag_names.emplace_back();  // a non-string: an unknown flag ""
                return nullptr;
            case Frame::Destinations:
                not_an_object_destination();
                return nullptr;
            default:
                if (target_ != nullptr) target_->kind = kind;
                return target_;
        }
    }

    void not_an_object_service() {
        const Where at{services_seen_++};
        if (!problem_) problem_ = at.bad("", "must be an object").problem;
    }
    void not_an_object_destination() {
        const Where at{service_at_, destinations_seen_++};
        if (!destination_problem_) destination_problem_ = at.bad("", "must be an object").problem;
    }

    void open(Kind kind) {
        if (skip_depth_ > 0) {
            ++skip_depth_;
            return;
        }
        if (const auto frame = frame_for(kind)) {
            stack_.push_back(*frame);
            target_ = nullptr;
        } else {
            skip_depth_ = 1;
        }
    }

    /// The frame a container opens, or nullopt to skip it.
    std::optional<Frame> frame_for(Kind kind) {
        const bool object = kind == Kind::Object;
        if (stack_.empty()) {
            document_kind_ = kind;
            if (object) return Frame::Document;
            return std::nullopt;
        }
        switch (stack_.back()) {
            case Frame::Services:
                if (!object) {
                    not_an_object_service();
                    return std::nullopt;
                }
                service_at_ = services_seen_++;
                if (problem_) return std::nullopt;  // the answer is known: only lex on
                forget(service_);
                destinations_.clear();
                destination_problem_.reset();
                destinations_seen_ = 0;
                return Frame::Service;
            case Frame::SchedulerFlags:
                service_.flag_names.emplace_back();
                return std::nullopt;
            case Frame::Destinations:
                if (!object) {
                    not_an_object_destination();
                    return std::nullopt;
                }
                destination_at_ = destinations_seen_++;
                if (destination_problem_) return std::nullopt;
                forget(destination_);
                return Frame::Destination;
            default:
                break;
        }
        if (target_ == nullptr) return std::nullopt;
        target_->kind = kind;
        if (opens_ && is_array(*opens_) != object) return opens_;
        return std::nullopt;
    }

    void close() {
        if (skip_depth_ > 0) {
            --skip_depth_;
            return;
        }
        const Frame frame = stack_.back();
        stack_.pop_back();
        target_ = nullptr;
        if (frame == Frame::Service)
            finish_service();
        else if (frame == Frame::Destination)
            finish_destination();
    }

    void finish_destination() {
        const Where at{service_at_, destination_at_};
        try {
            Destination d = read_destination(destination_, at);
            for (const auto& other : destinations_)
                if (other.same_endpoint(d))
                    throw at.bad("", "duplicate destination " + d.endpoint());
            destinations_.push_back(d);
        } catch (Bad& bad) {
            destination_problem_ = std::move(bad.problem);
        }
    }

    void finish_service() {
        const Where at{service_at_};
        try {
            const Service service = read_service(service_, at);
            if (destination_problem_) {
                problem_ = std::move(*destination_problem_);
                return;
            }
            if (!seen_.insert(service.key).second)
                throw at.bad("", "duplicate service " + service.key.to_string());
            table_.append(service, destinations_);
        } catch (Bad& bad) {
            problem_ = std::move(bad.problem);
        }
    }

    /// A key: where its value goes and which frame it may open.
    void select(std::string_view name) {
        target_ = nullptr;
        opens_.reset();
        switch (stack_.back()) {
            case Frame::Document:
                if (name == "services") {
                    // A repeated key means its last value: start over.
                    target_ = &services_;
                    opens_ = Frame::Services;
                    table_ = DocumentTable{};
                    reserve();
                    seen_.clear();
                    problem_.reset();
                    services_seen_ = 0;
                }
                return;
            case Frame::Service:
                select_service_field(name);
                return;
            case Frame::Persistence:
                if (name == "timeout")
                    target_ = &service_.persistence_fields.timeout;
                else if (name == "netmask")
                    target_ = &service_.persistence_fields.netmask;
                return;
            case Frame::Destination:
                select_destination_field(name);
                return;
            case Frame::Tunnel: {
                TunnelFields& t = destination_.tunnel_fields;
                if (name == "type")
                    target_ = &t.type;
                else if (name == "port")
                    target_ = &t.port;
                else if (name == "checksum")
                    target_ = &t.checksum;
                return;
            }
            default:
                return;  // arrays have no keys
        }
    }

    void select_service_field(std::string_view name) {
        ServiceFields& f = service_;
        if (name == "destinations") {
            target_ = &f.destinations;
            opens_ = Frame::Destinations;
            destinations_.clear();
            destination_problem_.reset();
            destinations_seen_ = 0;
        } else if (name == "address") {
            target_ = &f.address;
        } else if (name == "port") {
            target_ = &f.port;
        } else if (name == "protocol") {
            target_ = &f.protocol;
        } else if (name == "scheduler") {
            target_ = &f.scheduler;
        } else if (name == "one_packet") {
            target_ = &f.one_packet;
        } else if (name == "fwmark") {
            target_ = &f.fwmark;
        } else if (name == "family") {
            target_ = &f.family;
        } else if (name == "pe") {
            target_ = &f.pe;
        } else if (name == "persistence") {
            target_ = &f.persistence;
            opens_ = Frame::Persistence;
            forget(f.persistence_fields);
        } else if (name == "scheduler_flags") {
            target_ = &f.scheduler_flags;
            opens_ = Frame::SchedulerFlags;
            f.flag_names.clear();
            f.flag_storage.clear();
        }
    }

    void select_destination_field(std::string_view name) {
        DestinationFields& f = destination_;
        if (name == "address")
            target_ = &f.address;
        else if (name == "port")
            target_ = &f.port;
        else if (name == "forward")
            target_ = &f.forward;
        else if (name == "weight")
            target_ = &f.weight;
        else if (name == "upper_threshold")
            target_ = &f.upper_threshold;
        else if (name == "lower_threshold")
            target_ = &f.lower_threshold;
        else if (name == "tunnel") {
            target_ = &f.tunnel;
            opens_ = Frame::Tunnel;
            forget(f.tunnel_fields);
        }
    }

    std::vector<Frame> stack_;
    std::size_t skip_depth_ = 0;  ///< inside a value nobody reads
    Raw* target_ = nullptr;       ///< where the current key's value goes
    std::optional<Frame> opens_;  ///< the frame that value opens if it is the right container

    Kind document_kind_ = Kind::Absent;
    Raw services_;
    std::size_t services_seen_ = 0;
    std::size_t service_at_ = 0;
    ServiceFields service_;
    std::vector<Destination> destinations_;  ///< of the open service
    std::optional<JsonProblem> destination_problem_;
    std::size_t destinations_seen_ = 0;
    std::size_t destination_at_ = 0;
    DestinationFields destination_;

    void reserve() {
        // At most one service per 13 characters ({"fwmark":1},) and one real
        // server per 21 ({"address":"::1"},); a document as ipvsctl prints
        // it has ~130 characters per real server. Pages reserved but not
        // used are never touched.
        table_.reserve(text_size_ / 400 + 4, text_size_ / 120 + 4);
    }

    std::size_t text_size_;
    DocumentTable table_;
    std::unordered_set<ServiceKey, ServiceKeyHash> seen_;
    std::optional<JsonProblem> problem_;  ///< the first, in the order a DOM reader would find
    std::optional<std::string> syntax_error_;
};

/// A strict JSON reader (RFC 8259) driving a TableSax, several times faster
/// than nlohmann's lexer, which copies every character into a token buffer.
/// It need only be right about which texts are JSON and what they hold:
/// the message for a text that is not comes from nlohmann's parser.
class StrictReader {
  public:
    StrictReader(std::string_view text, TableSax& sax)
        : at_(text.data()), end_(text.data() + text.size()), sax_(sax) {}

    /// True when the whole text is one JSON value (all of it given to sax).
    bool read() {
        // nlohmann skips a UTF-8 byte order mark.
        if (at_ != end_ && static_cast<unsigned char>(*at_) == 0xEF) {
            if (end_ - at_ < 3 || static_cast<unsigned char>(at_[1]) != 0xBB ||
                static_cast<unsigned char>(at_[2]) != 0xBF)
                return false;
            at_ += 3;
        }
        std::vector<bool> in_object;  // the open containers, innermost last
        bool want_value = true;
        for (;;) {
            skip_blanks();
            if (want_value) {
                if (at_ == end_) return false;
                const char c = *at_;
                if (c == '{' || c == '[') {
                    ++at_;
                    const bool object = c == '{';
                    object ? sax_.start_object(0) : sax_.start_array(0);
                    skip_blanks();
                    if (at_ != end_ && *at_ == (object ? '}' : ']')) {
                        ++at_;
                        object ? sax_.end_object() : sax_.end_array();
                        want_value = false;
                        continue;
                    }
                    in_object.push_back(object);
                    if (object && !member_key()) return false;
                    continue;
                }
                if (!scalar()) return false;
                want_value = false;
                continue;
            }
            if (in_object.empty()) return at_ == end_;
            if (at_ == end_) return false;
            const char c = *at_++;
            if (c == ',') {
                if (in_object.back() && !member_key()) return false;
                want_value = true;
            } else if (c == (in_object.back() ? '}' : ']')) {
                in_object.back() ? sax_.end_object() : sax_.end_array();
                in_object.pop_back();
            } else {
                return false;
            }
        }
    }

  private:
    void skip_blanks() {
        while (at_ != end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) ++at_;
    }

    /// `"key" :` of an object member.
    bool member_key() {
        skip_blanks();
        if (at_ == end_ || *at_ != '"') return false;
        ++at_;
        std::string_view name;
        if (!string_body(name)) return false;
        sax_.key(name);
        skip_blanks();
        if (at_ == end_ || *at_ != ':') return false;
        ++at_;
        return true;
    }

    bool scalar() {
        const char c = *at_;
        if (c == '"') {
            ++at_;
            std::string_view text;
            if (!string_body(text)) return false;
            sax_.string(text);
            return true;
        }
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        if (literal("true")) return sax_.boolean(true);
        if (literal("false")) return sax_.boolean(false);
        if (literal("null")) return sax_.null();
        return false;
    }

    bool literal(std::string_view word) {
        if (static_cast<std::size_t>(end_ - at_) < word.size() ||
            std::string_view(at_, word.size()) != word)
            return false;
        at_ += word.size();
        return true;
    }

    static bool digit(char c) { return c >= '0' && c <= '9'; }

    /// RFC 8259 section 6. Integers as nlohmann reads them: a negative one as
    /// signed, others unsigned, one out of range as a double.
    bool number() {
        const char* start = at_;
        const bool negative = *at_ == '-';
        if (negative) ++at_;
        if (at_ == end_) return false;
        if (*at_ == '0') {
            ++at_;
        } else if (digit(*at_)) {
            while (at_ != end_ && digit(*at_)) ++at_;
        } else {
            return false;
        }
        const char* integer_end = at_;
        bool fraction = false;
        if (at_ != end_ && *at_ == '.') {
            ++at_;
            if (at_ == end_ || !digit(*at_)) return false;
            while (at_ != end_ && digit(*at_)) ++at_;
            fraction = true;
        }
        if (at_ != end_ && (*at_ == 'e' || *at_ == 'E')) {
            ++at_;
            if (at_ != end_ && (*at_ == '+' || *at_ == '-')) ++at_;
            if (at_ == end_ || !digit(*at_)) return false;
            while (at_ != end_ && digit(*at_)) ++at_;
            fraction = true;
        }
        if (!fraction) {
            std::uint64_t value = 0;
            bool overflow = false;
            for (const char* d = start + (negative ? 1 : 0); d != integer_end; ++d) {
                const auto next = static_cast<std::uint64_t>(*d - '0');
                if (value > (UINT64_MAX - next) / 10) overflow = true;
                value = value * 10 + next;
            }
            constexpr std::uint64_t most_negative = std::uint64_t{1} << 63;
            if (!overflow && !negative) return sax_.number_unsigned(value);
            if (!overflow && value <= most_negative)
                return sax_.number_integer(
                    value == most_negative ? INT64_MIN : -static_cast<std::int64_t>(value));
        }
        const std::string token(start, at_);
        const double value = std::strtod(token.c_str(), nullptr);
        if (!std::isfinite(value)) return false;  // nlohmann: "number overflow"
        return sax_.number_float(value, token);
    }

    /// A string after its opening quote, up to and past the closing one.
    bool string_body(std::string_view& out) {
        const char* start = at_;
        while (at_ != end_) {
            const auto c = static_cast<unsigned char>(*at_);
            if (c == '"') {
                out = std::string_view(start, static_cast<std::size_t>(at_ - start));
                ++at_;
                return true;
            }
            if (c < 0x20) return false;
            if (c == '\\' || c >= 0x80) break;
            ++at_;
        }
        scratch_.assign(start, at_);
        while (at_ != end_) {
            const auto c = static_cast<unsigned char>(*at_);
            if (c == '"') {
                ++at_;
                out = scratch_;
                return true;
            }
            if (c < 0x20) return false;
            if (c == '\\') {
                if (!escape()) return false;
            } else if (c >= 0x80) {
                if (!utf8_sequence()) return false;
            } else {
                scratch_.push_back(*at_++);
            }
        }
        return false;
    }

    bool hex4(std::uint32_t& value) {
        if (end_ - at_ < 4) return false;
        value = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = *at_++;
            std::uint32_t nibble = 0;
            if (c >= '0' && c <= '9')
                nibble = static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f')
                nibble = static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                nibble = static_cast<std::uint32_t>(c - 'A' + 10);
            else
                return false;
            value = value << 4 | nibble;
        }
        return true;
    }

    /// A backslash escape (RFC 8259 section 7), surrogate pairs joined.
    bool escape() {
        ++at_;
        if (at_ == end_) return false;
        const char c = *at_++;
        switch (c) {
            case '"':
            case '\\':
            case '/':
                scratch_.push_back(c);
                return true;
            case 'b':
                scratch_.push_back('\b');
                return true;
            case 'f':
                scratch_.push_back('\f');
                return true;
            case 'n':
                scratch_.push_back('\n');
                return true;
            case 'r':
                scratch_.push_back('\r');
                return true;
            case 't':
                scratch_.push_back('\t');
                return true;
            case 'u':
                break;
            default:
                return false;
        }
        std::uint32_t code = 0;
        if (!hex4(code)) return false;
        if (code >= 0xDC00 && code <= 0xDFFF) return false;  // a lone low surrogate
        if (code >= 0xD800 && code <= 0xDBFF) {
            std::uint32_t low = 0;
            if (end_ - at_ < 2 || at_[0] != '\\' || at_[1] != 'u') return false;
            at_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        const auto byte = [this](std::uint32_t b) { scratch_.push_back(static_cast<char>(b)); };
        if (code < 0x80) {
            byte(code);
        } else if (code < 0x800) {
            byte(0xC0 | code >> 6);
            byte(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            byte(0xE0 | code >> 12);
            byte(0x80 | (code >> 6 & 0x3F));
            byte(0x80 | (code & 0x3F));
        } else {
            byte(0xF0 | code >> 18);
            byte(0x80 | (code >> 12 & 0x3F));
            byte(0x80 | (code >> 6 & 0x3F));
            byte(0x80 | (code & 0x3F));
        }
        return true;
    }

    /// One well-formed UTF-8 character (RFC 3629 section 4), copied.
    bool utf8_sequence() {
        const auto lead = static_cast<unsigned char>(*at_);
        int continuation = 0;
        unsigned char second_low = 0x80, second_high = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            continuation = 1;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            continuation = 2;
            if (lead == 0xE0) second_low = 0xA0;
            if (lead == 0xED) second_high = 0x9F;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            continuation = 3;
            if (lead == 0xF0) second_low = 0x90;
            if (lead == 0xF4) second_high = 0x8F;
        } else {
            return false;
        }
        if (end_ - at_ <= continuation) return false;
        for (int i = 1; i <= continuation; ++i) {
            const auto c = static_cast<unsigned char>(at_[i]);
            const unsigned char low = i == 1 ? second_low : 0x80;
            const unsigned char high = i == 1 ? second_high : 0xBF;
            if (c < low || c > high) return false;
        }
        scratch_.append(at_, static_cast<std::size_t>(continuation) + 1);
        at_ += continuation + 1;
        return true;
    }

    const char* at_;
    const char* end_;
    TableSax& sax_;
    std::string scratch_;  ///< a string with escapes or non-ASCII characters
};

/// A reader for documents as ipvsctl prints them, in one pass straight into
/// a DocumentTable: no SAX calls, strings and keys compared where they lie
/// in the text. It gives up (false) at anything else: a string with an
/// escape or a non-ASCII byte, a repeated key, a negative or fractional
/// number where the schema wants a count, a value of the wrong kind, any
/// problem with the schema or the JSON, nesting deeper than 64. The caller
/// then reads the text again with StrictReader and TableSax, whose
/// messages are the ones reported. Fields are checked by the same functions
/// (read_service, read_destination).
class FastReader {
  public:
    explicit FastReader(std::string_view text)
        : at_(text.data()), end_(text.data() + text.size()) {}

    bool read(DocumentTable& table) {
        // As TableSax::reserve, from the text's size.
        const auto size = static_cast<std::size_t>(end_ - at_);
        table.reserve(size / 400 + 4, size / 120 + 4);
        seen_.reserve(size / 400 + 4);
        if (!expect('{')) return false;
        bool services = false;
        if (peek('}')) return false;  // no "services": TableSax words it
        do {
            std::string_view key;
            if (!key_colon(key)) return false;
            if (key == "services") {
                if (services) return false;
                services = true;
                if (!service_array(table)) return false;
            } else if (!skip_value(0)) {
                return false;
            }
        } while (next_member());
        if (!expect('}') || !services) return false;
        blanks();
        return at_ == end_;
    }

  private:
    void blanks() {
        while (at_ != end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) ++at_;
    }
    /// After blanks: is the next character `c`? (Consumes it if so.)
    bool peek(char c) {
        blanks();
        if (at_ != end_ && *at_ == c) {
            ++at_;
            return true;
        }
        return false;
    }
    bool expect(char c) { return peek(c); }
    /// After a member or element: true for ',', false otherwise (not consumed).
    bool next_member() {
        blanks();
        if (at_ != end_ && *at_ == ',') {
            ++at_;
            return true;
        }
        return false;
    }

    /// A string of plain ASCII without escapes, after blanks.
    bool string(std::string_view& out) {
        blanks();
        if (at_ == end_ || *at_ != '"') return false;
        const char* start = ++at_;
        while (at_ != end_) {
            const auto c = static_cast<unsigned char>(*at_);
            if (c == '"') {
                out = std::string_view(start, static_cast<std::size_t>(at_ - start));
                ++at_;
                return true;
            }
            if (c < 0x20 || c == '\\' || c >= 0x80) return false;
            ++at_;
        }
        return false;
    }
    bool key_colon(std::string_view& key) { return string(key) && expect(':'); }

    bool literal(std::string_view word) {
        if (static_cast<std::size_t>(end_ - at_) < word.size() ||
            std::string_view(at_, word.size()) != word)
            return false;
        at_ += word.size();
        return true;
    }

    /// A non-negative integer of at most 19 digits (no fraction, exponent
    /// or leading zero).
    bool count(std::uint64_t& value) {
        const char* start = at_;
        if (at_ != end_ && *at_ == '0') {
            ++at_;
        } else {
            while (at_ != end_ && *at_ >= '0' && *at_ <= '9') ++at_;
        }
        const auto digits = at_ - start;
        if (digits == 0 || digits > 19) return false;
        if (at_ != end_ &&
            (*at_ == '.' || *at_ == 'e' || *at_ == 'E' || (*at_ >= '0' && *at_ <= '9')))
            return false;
        value = 0;
        for (const char* d = start; d != at_; ++d)
            value = value * 10 + static_cast<std::uint64_t>(*d - '0');
        return true;
    }

    /// A scalar field's value: a string, a count, true, false or null.
    bool scalar(Raw& raw) {
        if (raw.present()) return false;  // a repeated key
        blanks();
        if (at_ == end_) return false;
        const char c = *at_;
        if (c == '"') {
            raw.kind = Kind::String;
            return string(raw.text);
        }
        if (c >= '0' && c <= '9') {
            raw.kind = Kind::Unsigned;
            return count(raw.number);
        }
        if (literal("true") || literal("false")) {
            raw.kind = Kind::Boolean;
            raw.boolean = at_[-1] == 'e' && at_[-2] == 'u';
            return true;
        }
        if (literal("null")) {
            raw.kind = Kind::Null;
            return true;
        }
        return false;
    }

    /// Any value of a key nobody reads (counters, "version"), checked.
    bool skip_value(int depth) {
        if (depth > 64) return false;
        blanks();
        if (at_ == end_) return false;
        const char c = *at_;
        if (c == '"') {
            std::string_view ignored;
            return string(ignored);
        }
        if (c == '{' || c == '[') {
            ++at_;
            const bool object = c == '{';
            if (peek(object ? '}' : ']')) return true;
            do {
                std::string_view key;
                if (object && !key_colon(key)) return false;
                if (!skip_value(depth + 1)) return false;
            } while (next_member());
            return expect(object ? '}' : ']');
        }
        if (c == '-') {
            ++at_;
            std::uint64_t ignored = 0;
            return at_ != end_ && *at_ >= '0' && *at_ <= '9' && count(ignored);
        }
        if (c >= '0' && c <= '9') {
            std::uint64_t ignored = 0;
            return count(ignored);
        }
        return literal("true") || literal("false") || literal("null");
    }

    bool service_array(DocumentTable& table) {
        if (!expect('[')) return false;
        if (peek(']')) return true;
        do {
            if (!service(table)) return false;
        } while (next_member());
        return expect(']');
    }

    bool service(DocumentTable& table) {
        if (!expect('{')) return false;
        ServiceFields& f = service_;
        forget(f);
        destinations_.clear();
        if (!peek('}')) {
            do {
                std::string_view key;
                if (!key_colon(key)) return false;
                bool ok = true;
                if (key == "address")
                    ok = scalar(f.address);
                else if (key == "port")
                    ok = scalar(f.port);
                else if (key == "protocol")
                    ok = scalar(f.protocol);
                else if (key == "scheduler")
                    ok = scalar(f.scheduler);
                else if (key == "one_packet")
                    ok = scalar(f.one_packet);
                else if (key == "destinations")
                    ok = destination_array(f.destinations);
                else if (key == "fwmark")
                    ok = scalar(f.fwmark);
                else if (key == "family")
                    ok = scalar(f.family);
                else if (key == "pe")
                    ok = scalar(f.pe);
                else if (key == "persistence")
                    ok = persistence(f);
                else if (key == "scheduler_flags")
                    ok = flags(f);
                else
                    ok = skip_value(0);
                if (!ok) return false;
            } while (next_member());
            if (!expect('}')) return false;
        }
        try {
            const Service s = read_service(f, Where{});
            if (!seen_.insert(s.key).second) return false;
            table.append(s, destinations_);
        } catch (Bad&) {
            return false;
        }
        return true;
    }

    bool persistence(ServiceFields& f) {
        if (f.persistence.present() || !expect('{')) return false;
        f.persistence.kind = Kind::Object;
        PersistenceFields& p = f.persistence_fields;
        if (peek('}')) return true;
        do {
            std::string_view key;
            if (!key_colon(key)) return false;
            const bool ok = key == "timeout"   ? scalar(p.timeout)
                            : key == "netmask" ? scalar(p.netmask)
                                               : skip_value(0);
            if (!ok) return false;
        } while (next_member());
        return expect('}');
    }

    bool flags(ServiceFields& f) {
        if (f.scheduler_flags.present() || !expect('[')) return false;
        f.scheduler_flags.kind = Kind::Array;
        if (peek(']')) return true;
        do {
            std::string_view name;
            if (!string(name)) return false;
            f.flag_names.push_back(name);
        } while (next_member());
        return expect(']');
    }

    bool destination_array(Raw& raw) {
        if (raw.present() || !expect('[')) return false;
        raw.kind = Kind::Array;
        if (peek(']')) return true;
        do {
            if (!destination()) return false;
        } while (next_member());
        return expect(']');
    }

    bool destination() {
        if (!expect('{')) return false;
        DestinationFields& f = destination_;
        forget(f);
        if (!peek('}')) {
            do {
                std::string_view key;
                if (!key_colon(key)) return false;
                bool ok = true;
                if (key == "address")
                    ok = scalar(f.address);
                else if (key == "port")
                    ok = scalar(f.port);
                else if (key == "forward")
                    ok = scalar(f.forward);
                else if (key == "weight")
                    ok = scalar(f.weight);
                else if (key == "upper_threshold")
                    ok = scalar(f.upper_threshold);
                else if (key == "lower_threshold")
                    ok = scalar(f.lower_threshold);
                else if (key == "tunnel")
                    ok = tunnel(f);
                else
                    ok = skip_value(0);
                if (!ok) return false;
            } while (next_member());
            if (!expect('}')) return false;
        }
        try {
            const Destination d = read_destination(f, Where{});
            for (const auto& other : destinations_)
                if (other.same_endpoint(d)) return false;
            destinations_.push_back(d);
        } catch (Bad&) {
            return false;
        }
        return true;
    }

    bool tunnel(DestinationFields& f) {
        if (f.tunnel.present() || !expect('{')) return false;
        f.tunnel.kind = Kind::Object;
        TunnelFields& t = f.tunnel_fields;
        if (peek('}')) return true;
        do {
            std::string_view key;
            if (!key_colon(key)) return false;
            const bool ok = key == "type"       ? scalar(t.type)
                            : key == "port"     ? scalar(t.port)
                            : key == "checksum" ? scalar(t.checksum)
                                                : skip_value(0);
            if (!ok) return false;
        } while (next_member());
        return expect('}');
    }

    const char* at_;
    const char* end_;
    ServiceFields service_;
    DestinationFields destination_;
    std::vector<Destination> destinations_;  ///< of the open service
    std::unordered_set<ServiceKey, ServiceKeyHash> seen_;
};

}  // namespace

json service_to_json(const ServiceEntry& entry, const JsonOptions& options) {
    const Service& s = entry.service;
    json out = json::object();
    if (s.key.is_fwmark()) {
        out["fwmark"] = s.key.fwmark;
        out["family"] = s.key.family == Family::Inet6 ? "inet6" : "inet";
    } else {
        out["protocol"] = lower(to_string(s.key.protocol));
        out["address"] = s.key.address.to_string();
        out["port"] = s.key.port;
    }
    out["scheduler"] = s.scheduler;
    if (const auto flags = scheduler_flag_list(s); !flags.empty()) out["scheduler_flags"] = flags;
    if (s.persistent()) {
        json p{{"timeout", s.timeout}};
        if (s.key.family == Family::Inet6)
            p["netmask"] = s.netmask;
        else
            p["netmask"] = Address::v4(s.netmask).to_string();
        out["persistence"] = p;
    }
    if (!s.pe_name.empty()) out["pe"] = s.pe_name;
    out["one_packet"] = (s.flags & service_flags::one_packet) != 0;
    if (options.counters) {
        out["stats"] = stats_to_json(s.stats);
        out["rates"] = rates_to_json(s.stats);
    }
    json dests = json::array();
    for (const auto& d : entry.destinations) {
        json j{{"address", d.address.to_string()},     {"port", d.port},
               {"forward", forward_name(d.method)},    {"weight", d.weight},
               {"upper_threshold", d.upper_threshold}, {"lower_threshold", d.lower_threshold}};
        if (d.method == ForwardMethod::Tunnel) {
            json t{{"type", std::string(to_string(d.tunnel_type))},
                   {"checksum", checksum_name(d.tunnel_flags)}};
            if (d.tunnel_type == TunnelType::GUE) t["port"] = d.tunnel_port;
            j["tunnel"] = t;
        }
        if (options.counters) {
            j["active_conns"] = d.active_conns;
            j["inactive_conns"] = d.inactive_conns;
            j["persistent_conns"] = d.persistent_conns;
            j["stats"] = stats_to_json(d.stats);
            j["rates"] = rates_to_json(d.stats);
        }
        dests.push_back(j);
    }
    out["destinations"] = dests;
    return out;
}

json table_to_json(const Table& table, const JsonOptions& options) {
    json services = json::array();
    for (const auto& entry : table.services) services.push_back(service_to_json(entry, options));
    return json{{"services", services}};
}

json timeouts_to_json(const Timeouts& timeouts) {
    return json{{"tcp", timeouts.tcp}, {"tcp_fin", timeouts.tcp_fin}, {"udp", timeouts.udp}};
}

json daemons_to_json(const std::vector<SyncDaemon>& daemons) {
    json out = json::array();
    for (const auto& d : daemons) {
        if (d.state == SyncState::None) continue;
        json j{{"state", std::string(to_string(d.state))},
               {"interface", d.interface},
               {"sync_id", d.sync_id}};
        if (d.max_len) j["max_len"] = d.max_len;
        if (d.group) j["group"] = d.group->to_string();
        if (d.port) j["port"] = d.port;
        if (d.ttl) j["ttl"] = d.ttl;
        out.push_back(j);
    }
    return out;
}

json connections_to_json(const std::vector<Connection>& connections) {
    json out = json::array();
    for (const auto& c : connections) {
        json j{
            {"protocol", lower(c.protocol)},
            {"client", {{"address", c.client.to_string()}, {"port", c.client_port}}},
            {"virtual", {{"address", c.virtual_address.to_string()}, {"port", c.virtual_port}}},
            {"destination", {{"address", c.destination.to_string()}, {"port", c.destination_port}}},
            {"state", c.state},
            {"expires", c.expires}};
        if (!c.pe_name.empty()) j["pe"] = {{"name", c.pe_name}, {"data", c.pe_data}};
        out.push_back(j);
    }
    return out;
}

namespace {

std::variant<Table, JsonProblem, JsonSyntaxError> as_table(
    std::variant<DocumentTable, JsonProblem, JsonSyntaxError>&& read) {
    if (auto* table = std::get_if<DocumentTable>(&read)) return table->to_table();
    if (auto* problem = std::get_if<JsonProblem>(&read)) return std::move(*problem);
    return std::move(std::get<JsonSyntaxError>(read));
}

std::variant<DocumentTable, JsonProblem, JsonSyntaxError> read_document_json_nlohmann(
    std::string_view text) {
    TableSax sax(text.size());
    nlohmann::json::sax_parse(text.begin(), text.end(), &sax);
    return std::move(sax).result();
}

}  // namespace

std::variant<DocumentTable, JsonProblem, JsonSyntaxError> read_document_json(
    std::string_view text) {
    {
        DocumentTable table;
        if (FastReader(text).read(table)) return table;
    }
    {
        TableSax sax(text.size());
        if (StrictReader(text, sax).read()) return std::move(sax).result();
    }
    // Not JSON: nlohmann's parser finds the same error and words it, with
    // line and column.
    return read_document_json_nlohmann(text);
}

std::variant<Table, JsonProblem, JsonSyntaxError> read_table_json(std::string_view text) {
    return as_table(read_document_json(text));
}

std::variant<Table, JsonProblem, JsonSyntaxError> read_table_json_nlohmann(std::string_view text) {
    return as_table(read_document_json_nlohmann(text));
}

std::variant<Table, JsonProblem> table_from_json(const json& document) {
    auto read = read_table_json(document.dump());
    if (auto* table = std::get_if<Table>(&read)) return std::move(*table);
    if (auto* problem = std::get_if<JsonProblem>(&read)) return std::move(*problem);
    // dump() always prints valid JSON.
    return JsonProblem{"document", std::get<JsonSyntaxError>(read).what};
}

}  // namespace ipvsctl::cli
