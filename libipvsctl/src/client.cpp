// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ipvsctl/client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <map>
#include <string_view>
#include <unordered_map>

#include "proc_table.hpp"
#include "wire.hpp"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

extern char** environ;

namespace ipvsctl {
namespace {

constexpr std::size_t receive_buffer_size = 64 * 1024;
/// Large enough that acknowledgements of a whole batch chunk never overflow.
constexpr int socket_buffer_size = 8 * 1024 * 1024;

/// Closes a file descriptor on scope exit.
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    [[nodiscard]] int get() const { return fd_; }

  private:
    int fd_;
};

struct SockFree {
    void operator()(nl_sock* sock) const noexcept { nl_socket_free(sock); }
};
using SockPtr = std::unique_ptr<nl_sock, SockFree>;

Error system_error(const std::string& operation, const std::string& object, int errnum) {
    return make_error(errnum, operation, object, std::strerror(errnum));
}

std::string netns_path(const std::string& netns) {
    return netns.find('/') != std::string::npos ? netns : "/run/netns/" + netns;
}

/// Runs "modprobe -q -- ip_vs" the way ipvsadm does when IPVS is missing.
void load_ipvs_module() {
    const char* argv[] = {"modprobe", "-q", "--", "ip_vs", nullptr};
    pid_t pid = 0;
    if (posix_spawnp(&pid, "modprobe", nullptr, nullptr, const_cast<char**>(argv), environ) != 0)
        return;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

Result<SockPtr> connect_socket(const ClientOptions& options) {
    SockPtr sock(nl_socket_alloc());
    if (!sock) return system_error("open netlink socket", {}, ENOMEM);
    if (const int rc = genl_connect(sock.get()); rc < 0)
        return make_error(EIO, "open netlink socket", {}, nl_geterror(rc));
    const int fd = nl_socket_get_fd(sock.get());
    int size = socket_buffer_size;
    // FORCE works for CAP_NET_ADMIN, which IPVS needs anyway; fall back otherwise.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    const int one = 1;
    // Error acks without the echoed request, with the kernel's text when it has one.
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(options.timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((options.timeout.count() % 1000) * 1000);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return sock;
}

/// A small text file (a /proc file whose size stat() does not give) read
/// whole; nothing when it cannot be read.
std::optional<std::string> read_small_file(const char* path) {
    Fd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return std::nullopt;
    std::string text;
    char chunk[16384];
    for (;;) {
        const ssize_t n = ::read(fd.get(), chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) return text;
        text.append(chunk, static_cast<std::size_t>(n));
    }
}

/// /proc/net/ip_vs of the calling thread's namespace, or -1.
int open_proc_table() {
    return ::open("/proc/thread-self/net/ip_vs", O_RDONLY | O_CLOEXEC);
}

/// A socket for IPVS's getsockopt() interface in the calling thread's
/// namespace, or -1 (it needs CAP_NET_RAW; callers then use netlink).
int open_sockopt_socket() {
    return ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
}

/// Creates the socket inside another network namespace; the socket stays
/// bound to it after this thread returns to its own namespace.
Result<SockPtr> connect_in_netns(const ClientOptions& options, int& proc_table, int& sockopt) {
    const std::string path = netns_path(options.netns);
    Fd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (target.get() < 0) return system_error("open network namespace", options.netns, errno);
    Fd own(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (own.get() < 0) return system_error("open own network namespace", {}, errno);
    if (setns(target.get(), CLONE_NEWNET) != 0)
        return system_error("enter network namespace", options.netns, errno);
    auto sock = connect_socket(options);
    proc_table = open_proc_table();
    sockopt = open_sockopt_socket();
    if (setns(own.get(), CLONE_NEWNET) != 0) {
        // Staying in the wrong namespace would silently misdirect later work.
        std::perror("libipvsctl: cannot return to the original network namespace");
        std::abort();
    }
    return sock;
}

}  // namespace

struct Client::Impl {
    SockPtr sock;
    std::uint16_t family = 0;
    std::uint32_t next_seq = 1;
    std::chrono::milliseconds timeout{};
    std::function<void(bool, std::span<const std::uint8_t>)> trace;
    std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(receive_buffer_size);
    int proc_table = -1;  ///< /proc/net/ip_vs of the handle's namespace
    int sockopt = -1;     ///< raw IPv4 socket for getsockopt(IP_VS_SO_GET_*)
    /// How the last has_services_beyond_sockopt() decided, for diagnostics.
    const char* last_beyond_check = "";

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        if (proc_table >= 0) ::close(proc_table);
        if (sockopt >= 0) ::close(sockopt);
    }

    /// At most `asked` IPv4 services with their settings and real-server
    /// counts, from one getsockopt(IP_VS_SO_GET_SERVICES).
    std::optional<wire::SockoptServices> sockopt_service_entries(std::size_t asked) {
        if (sockopt < 0) return std::nullopt;
        const std::size_t head = sizeof(ip_vs_get_services);
        std::vector<std::uint8_t> reply(head + asked * wire::sockopt_service_size());
        // The request is the reply's head; no object of the kernel's type is
        // declared, since its trailing zero-length array is not standard C++.
        const auto num_services = static_cast<unsigned>(asked);
        std::memcpy(reply.data() + offsetof(ip_vs_get_services, num_services), &num_services,
                    sizeof(num_services));
        auto length = static_cast<socklen_t>(reply.size());
        if (::getsockopt(sockopt, IPPROTO_IP, IP_VS_SO_GET_SERVICES, reply.data(), &length) != 0)
            return std::nullopt;
        return wire::decode_sockopt_services(std::span<const std::uint8_t>(reply).subspan(head),
                                             asked);
    }

    /// How many real servers each IPv4 service has, from one getsockopt();
    /// `expected` is how many IPv4 services the netlink dump listed.
    std::optional<std::unordered_map<ServiceKey, std::size_t, ServiceKeyHash>>
    sockopt_destination_counts(std::size_t expected) {
        // One slot more, so that a new service shows.
        auto decoded = sockopt_service_entries(expected + 1);
        if (!decoded) return std::nullopt;
        std::unordered_map<ServiceKey, std::size_t, ServiceKeyHash> counts;
        counts.reserve(decoded->entries.size());
        for (std::size_t i = 0; i < decoded->entries.size(); ++i)
            counts.emplace(decoded->entries[i].service.key, decoded->destination_counts[i]);
        return counts;
    }

    /// Every IPv4 service of the namespace with its settings and real-server
    /// count through getsockopt(IP_VS_SO_GET_INFO) and
    /// getsockopt(IP_VS_SO_GET_SERVICES); nothing when the two disagree (the
    /// table changed in between) or either fails.
    std::optional<wire::SockoptServices> sockopt_services() {
        if (sockopt < 0) return std::nullopt;
        ip_vs_getinfo info{};
        auto info_length = static_cast<socklen_t>(sizeof(info));
        if (::getsockopt(sockopt, IPPROTO_IP, IP_VS_SO_GET_INFO, &info, &info_length) != 0)
            return std::nullopt;
        // num_services counts the namespace's IPv4 services only, as the
        // reply lists them; one slot more shows a service added since.
        auto decoded = sockopt_service_entries(std::size_t{info.num_services} + 1);
        if (!decoded || decoded->entries.size() != info.num_services) return std::nullopt;
        return decoded;
    }

    /// Whether the namespace has services that getsockopt() cannot describe:
    /// IPv6 ones, which it does not list, or ones bound to a persistence
    /// engine, which it does not name, given that getsockopt() listed
    /// `ipv4_services`. When ip_vs's module references count exactly that
    /// many services on the whole host, none other exists; otherwise from a
    /// netlink dump of the services read only that far (the kernel restarts
    /// its walk of the global table for every reply: ~175 ms for 10,000 in
    /// the guest). Nothing when the dump fails.
    std::optional<bool> has_services_beyond_sockopt(std::size_t ipv4_services) {
        last_beyond_check = "dump";
        if (ipv4_services > 0) {
            // The counts are read after getsockopt(): a service added in
            // between shows as one more here, and the dump decides.
            const auto modules = read_small_file("/proc/modules");
            const auto counted =
                modules ? proc::ipvs_services_from_modules(*modules) : std::nullopt;
            if (counted && *counted == ipv4_services) {
                last_beyond_check = "module references";
                return false;
            }
        }
        bool found = false;
        auto rc = dump(IPVS_CMD_GET_SERVICE, nullptr, "list services",
                       [&](const wire::Message& m) -> Result<void> {
                           const auto outline = wire::service_message_outline(m);
                           if (!outline) return make_error(EPROTO, "list services", {});
                           found = found || outline->family != Family::Inet || outline->has_engine;
                           return {};
                       });
        if (!rc) return std::nullopt;
        return found;
    }

    /// The real servers of an IPv4 service through getsockopt(), when the
    /// kernel returns exactly `expected` of them, none of them tunnels.
    /// Anything else (IPv6 members it skips, a change since `expected` was
    /// read, tunnel parameters it does not carry) is left to netlink.
    std::optional<std::vector<Destination>> sockopt_destinations(const ServiceKey& key,
                                                                 std::size_t expected) {
        if (sockopt < 0 || key.family != Family::Inet) return std::nullopt;
        // One slot more than expected, so that an extra server shows.
        const std::size_t asked = expected + 1;
        const std::size_t head = sizeof(ip_vs_get_dests);
        std::vector<std::uint8_t> reply(head + asked * wire::sockopt_destination_size());
        // Fields written in place, as for the services request above.
        auto put = [&reply](std::size_t offset, const auto& value) {
            std::memcpy(reply.data() + offset, &value, sizeof(value));
        };
        if (key.is_fwmark()) {
            put(offsetof(ip_vs_get_dests, fwmark), static_cast<std::uint32_t>(key.fwmark));
        } else {
            put(offsetof(ip_vs_get_dests, protocol), static_cast<std::uint16_t>(key.protocol));
            std::memcpy(reply.data() + offsetof(ip_vs_get_dests, addr), key.address.bytes.data(),
                        4);
            put(offsetof(ip_vs_get_dests, port), static_cast<std::uint16_t>(htons(key.port)));
        }
        put(offsetof(ip_vs_get_dests, num_dests), static_cast<unsigned>(asked));
        auto length = static_cast<socklen_t>(reply.size());
        if (::getsockopt(sockopt, IPPROTO_IP, IP_VS_SO_GET_DESTS, reply.data(), &length) != 0)
            return std::nullopt;
        auto dests = wire::decode_sockopt_destinations(
            std::span<const std::uint8_t>(reply).subspan(head), asked);
        if (!dests || dests->size() != expected) return std::nullopt;
        for (const auto& d : *dests)
            if (d.method == ForwardMethod::Tunnel) return std::nullopt;
        return dests;
    }

    /// The whole text of /proc/net/ip_vs, or nothing when it cannot be read.
    std::optional<std::string> read_proc_table() const {
        if (proc_table < 0 || ::lseek(proc_table, 0, SEEK_SET) != 0) return std::nullopt;
        std::string text;
        char chunk[65536];
        for (;;) {
            const ssize_t n = ::read(proc_table, chunk, sizeof(chunk));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return std::nullopt;
            if (n == 0) return text;
            text.append(chunk, static_cast<std::size_t>(n));
        }
    }

    std::uint32_t take_seq(std::uint32_t count = 1) {
        const std::uint32_t seq = next_seq;
        next_seq += count;
        if (next_seq < seq) next_seq = 1;  // wrapped: start over, past 0
        return seq;
    }

    Result<void> send(const wire::Bytes& bytes) {
        if (trace) trace(true, bytes);
        const int rc = nl_sendto(sock.get(), const_cast<std::uint8_t*>(bytes.data()), bytes.size());
        if (rc < 0) return make_error(EIO, "send to kernel", {}, nl_geterror(rc));
        return {};
    }

    /// Receives one datagram; its messages stay valid until the next call.
    Result<std::vector<wire::Message>> receive() {
        for (;;) {
            const ssize_t n = ::recv(nl_socket_get_fd(sock.get()), buffer.data(), buffer.size(), 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return make_error(ETIMEDOUT, "receive from kernel", {},
                                      "no reply within " + std::to_string(timeout.count()) + " ms");
                return system_error("receive from kernel", {}, errno);
            }
            if (trace)
                trace(false,
                      std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)));
            bool malformed = false;
            auto messages = wire::split_messages(
                std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)),
                &malformed);
            if (malformed) return make_error(EPROTO, "receive from kernel", {}, "malformed reply");
            return messages;
        }
    }

    /// Sends a dump request and hands every reply message to `each`.
    Result<void> dump(std::uint8_t command, const ServiceKey* key, const std::string& what,
                      const std::function<Result<void>(const wire::Message&)>& each) {
        const std::uint32_t seq = take_seq();
        wire::Bytes request;
        wire::append_get(request, family, seq, command, true, key);
        if (auto sent = send(request); !sent) return sent;
        for (;;) {
            auto messages = receive();
            if (!messages) return std::move(messages).take_error();
            for (const auto& message : *messages) {
                if (message.seq != seq) continue;  // a late reply to an abandoned request
                if (message.type == NLMSG_DONE) {
                    int status = 0;
                    if (message.bytes.size() >= NLMSG_HDRLEN + sizeof(int))
                        std::memcpy(&status, message.bytes.data() + NLMSG_HDRLEN, sizeof(int));
                    if (status < 0) return make_error(-status, what, key ? key->to_string() : "");
                    return {};
                }
                if (auto ack = wire::decode_ack(message)) {
                    if (ack->errnum != 0)
                        return make_error(ack->errnum, what, key ? key->to_string() : "",
                                          ack->text);
                    continue;
                }
                if (auto handled = each(message); !handled) return handled;
            }
        }
    }

    /// Sends a non-dump GET; hands the reply to `each`, then waits for the ack.
    Result<void> get(std::uint8_t command, const ServiceKey* key, const std::string& what,
                     const std::function<Result<void>(const wire::Message&)>& each) {
        const std::uint32_t seq = take_seq();
        wire::Bytes request;
        wire::append_get(request, family, seq, command, false, key);
        if (auto sent = send(request); !sent) return sent;
        for (;;) {
            auto messages = receive();
            if (!messages) return std::move(messages).take_error();
            for (const auto& message : *messages) {
                if (message.seq != seq) continue;
                if (auto ack = wire::decode_ack(message)) {
                    if (ack->errnum != 0)
                        return make_error(ack->errnum, what, key ? key->to_string() : "",
                                          ack->text);
                    return {};
                }
                if (auto handled = each(message); !handled) return handled;
            }
        }
    }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

std::uint16_t Client::family_id() const {
    return impl_->family;
}

Result<Client> Client::open(const ClientOptions& options) {
    int proc_table = -1;
    int sockopt = -1;
    auto sock = options.netns.empty() ? connect_socket(options)
                                      : connect_in_netns(options, proc_table, sockopt);
    if (!sock) {
        if (proc_table >= 0) ::close(proc_table);
        if (sockopt >= 0) ::close(sockopt);
        return std::move(sock).take_error();
    }
    int family = genl_ctrl_resolve(sock->get(), "IPVS");
    if (family < 0 && options.load_module) {
        load_ipvs_module();
        family = genl_ctrl_resolve(sock->get(), "IPVS");
    }
    if (family < 0) {
        if (proc_table >= 0) ::close(proc_table);
        if (sockopt >= 0) ::close(sockopt);
        return make_error(ENOPROTOOPT, "open IPVS", options.netns,
                          "the kernel has no IPVS (is the ip_vs module available?)");
    }
    auto impl = std::make_unique<Impl>();
    impl->sock = std::move(*sock);
    impl->family = static_cast<std::uint16_t>(family);
    impl->timeout = options.timeout;
    impl->trace = options.trace;
    // Opened after the IPVS family exists (the module may just have loaded).
    impl->proc_table = options.netns.empty() ? open_proc_table() : proc_table;
    impl->sockopt = options.netns.empty() ? open_sockopt_socket() : sockopt;
    // Start sequence numbers somewhere unlikely to collide with old replies.
    impl->next_seq = static_cast<std::uint32_t>(::getpid()) << 16 | 1;
    return Client(std::move(impl));
}

Result<Info> Client::info() {
    Info info;
    bool got = false;
    auto rc = impl_->get(IPVS_CMD_GET_INFO, nullptr, "get IPVS info",
                         [&](const wire::Message& m) -> Result<void> {
                             auto decoded = wire::decode_info_message(m);
                             if (!decoded) return std::move(decoded).take_error();
                             info = *decoded;
                             got = true;
                             return {};
                         });
    if (!rc) return std::move(rc).take_error();
    if (!got) return make_error(EPROTO, "get IPVS info", {}, "the kernel sent no reply");
    return info;
}

Result<std::vector<Service>> Client::services() {
    std::vector<Service> services;
    auto rc = impl_->dump(IPVS_CMD_GET_SERVICE, nullptr, "list services",
                          [&](const wire::Message& m) -> Result<void> {
                              auto decoded = wire::decode_service_message(m);
                              if (!decoded) return std::move(decoded).take_error();
                              services.push_back(std::move(*decoded));
                              return {};
                          });
    if (!rc) return std::move(rc).take_error();
    return services;
}

Result<Service> Client::service(const ServiceKey& key) {
    std::optional<Service> service;
    auto rc = impl_->get(IPVS_CMD_GET_SERVICE, &key, "get service",
                         [&](const wire::Message& m) -> Result<void> {
                             auto decoded = wire::decode_service_message(m);
                             if (!decoded) return std::move(decoded).take_error();
                             service = std::move(*decoded);
                             return {};
                         });
    if (!rc) return std::move(rc).take_error();
    if (!service) return make_error(ESRCH, "get service", key.to_string());
    return std::move(*service);
}

namespace {
Result<std::vector<Destination>> dump_destinations(Client::Impl& impl, const ServiceKey& key) {
    std::vector<Destination> dests;
    auto rc = impl.dump(IPVS_CMD_GET_DEST, &key, "list destinations of service",
                        [&](const wire::Message& m) -> Result<void> {
                            auto decoded = wire::decode_destination_message(m, key.family);
                            if (!decoded) return std::move(decoded).take_error();
                            dests.push_back(std::move(*decoded));
                            return {};
                        });
    if (!rc) return std::move(rc).take_error();
    return dests;
}

/// The real servers of the IPv4 services read through getsockopt(): one
/// getsockopt(IP_VS_SO_GET_DESTS) each, netlink for those it cannot give in
/// full. The kernel lists IPv4 services in the same order in both interfaces.
Result<Table> with_sockopt_destinations(Client::Impl& impl, wire::SockoptServices services) {
    // The services' entries become the table's, filled in place.
    Table table;
    table.services = std::move(services.entries);
    for (std::size_t i = 0; i < table.services.size(); ++i) {
        ServiceEntry& entry = table.services[i];
        if (auto dests =
                impl.sockopt_destinations(entry.service.key, services.destination_counts[i])) {
            entry.destinations = std::move(*dests);
            continue;
        }
        auto dests = dump_destinations(impl, entry.service.key);
        if (!dests) return std::move(dests).take_error();
        entry.destinations = std::move(*dests);
    }
    return table;
}

/// TableDetail::Settings without decoding a netlink dump of the services:
/// IPv4 services and their settings from one
/// getsockopt(IP_VS_SO_GET_SERVICES), their real servers as
/// with_sockopt_destinations() reads them. Nothing when the namespace may
/// have services that this read cannot describe (IPv6 ones, persistence
/// engines), or when the table changed while it was read.
std::optional<Result<Table>> sockopt_settings_table(Client::Impl& impl) {
    if (impl.sockopt < 0) return std::nullopt;
    auto services = impl.sockopt_services();
    if (!services) return std::nullopt;
    // Asked before the real servers: when it says no, they are not read.
    const auto beyond = impl.has_services_beyond_sockopt(services->entries.size());
    if (!beyond || *beyond) return std::nullopt;
    return with_sockopt_destinations(impl, std::move(*services));
}

}  // namespace

Result<std::vector<Destination>> Client::destinations(const ServiceKey& key) {
    auto dests = dump_destinations(*impl_, key);
    // The kernel answers a missing service's dump with an empty list; tell
    // the two apart, at one more round trip only when the list is empty.
    if (dests.ok() && dests->empty()) {
        auto exists = service(key);
        if (!exists) return std::move(exists).take_error();
    }
    return dests;
}

std::optional<Result<Table>> Client::ipv4_settings_table() {
    if (impl_->sockopt < 0) return std::nullopt;
    auto services = impl_->sockopt_services();
    if (!services) return std::nullopt;
    return with_sockopt_destinations(*impl_, std::move(*services));
}

std::optional<bool> Client::has_services_beyond_ipv4_settings(const Table& ipv4_half) {
    return impl_->has_services_beyond_sockopt(ipv4_half.services.size());
}

const char* Client::last_beyond_ipv4_check() const {
    return impl_->last_beyond_check;
}

Result<Table> Client::table(TableDetail detail) {
    if (detail == TableDetail::Settings)
        if (auto table = sockopt_settings_table(*impl_)) return std::move(*table);
    auto services_result = services();
    if (!services_result) return std::move(services_result).take_error();

    // Real-server lists from one read of /proc/net/ip_vs, for services whose
    // text row says everything that Basic detail promises.
    // Settings: how many real servers each IPv4 service has, so that the
    // per-service getsockopt() below can tell when it missed some.
    std::unordered_map<ServiceKey, std::size_t, ServiceKeyHash> counts;
    if (detail == TableDetail::Settings) {
        const auto inet = static_cast<std::size_t>(
            std::count_if(services_result->begin(), services_result->end(),
                          [](const Service& s) { return s.key.family == Family::Inet; }));
        if (inet > 0)
            if (auto read = impl_->sockopt_destination_counts(inet)) counts = std::move(*read);
    }

    std::map<ServiceKey, std::vector<Destination>> from_text;
    if (detail == TableDetail::Basic) {
        if (const auto text = impl_->read_proc_table()) {
            std::map<std::uint32_t, int> marks;  // the text does not give a fwmark's family
            for (const auto& service : *services_result)
                if (service.key.is_fwmark()) ++marks[service.key.fwmark];
            for (auto& row : proc::parse_ip_vs(*text)) {
                if (row.has_tunnel) continue;
                if (row.key.is_fwmark()) {
                    if (marks[row.key.fwmark] != 1) continue;
                    for (const auto& service : *services_result)
                        if (service.key.is_fwmark() && service.key.fwmark == row.key.fwmark)
                            row.key.family = service.key.family;
                }
                from_text.emplace(row.key, std::move(row.destinations));
            }
        }
    }

    Table table;
    table.services.reserve(services_result->size());
    for (auto& service : *services_result) {
        if (const auto found = from_text.find(service.key); found != from_text.end()) {
            table.services.push_back(ServiceEntry{std::move(service), std::move(found->second)});
            continue;
        }
        if (const auto found = counts.find(service.key); found != counts.end()) {
            if (auto dests = impl_->sockopt_destinations(service.key, found->second)) {
                table.services.push_back(ServiceEntry{std::move(service), std::move(*dests)});
                continue;
            }
        }
        // A service deleted between the two dumps lists no destinations.
        auto dests = dump_destinations(*impl_, service.key);
        if (!dests) return std::move(dests).take_error();
        table.services.push_back(ServiceEntry{std::move(service), std::move(*dests)});
    }
    return table;
}

Result<void> Client::add_service(const Service& service) {
    return execute(Operation::add_service(service));
}
Result<void> Client::edit_service(const Service& service) {
    return execute(Operation::edit_service(service));
}
Result<void> Client::delete_service(const ServiceKey& key) {
    return execute(Operation::delete_service(key));
}
Result<void> Client::add_destination(const ServiceKey& key, const Destination& destination) {
    return execute(Operation::add_destination(key, destination));
}
Result<void> Client::edit_destination(const ServiceKey& key, const Destination& destination) {
    return execute(Operation::edit_destination(key, destination));
}
Result<void> Client::delete_destination(const ServiceKey& key, const Destination& destination) {
    return execute(Operation::delete_destination(key, destination));
}
Result<void> Client::zero(const ServiceKey& key) {
    return execute(Operation::zero(key));
}
Result<void> Client::zero_all() {
    return execute(Operation::zero_all());
}
Result<void> Client::flush() {
    return execute(Operation::flush());
}
Result<void> Client::set_timeouts(const Timeouts& timeouts) {
    return execute(Operation::set_timeouts(timeouts));
}
Result<void> Client::start_daemon(const SyncDaemon& daemon) {
    return execute(Operation::start_daemon(daemon));
}
Result<void> Client::stop_daemon(SyncState state) {
    return execute(Operation::stop_daemon(state));
}

Result<Timeouts> Client::timeouts() {
    Timeouts timeouts;
    auto rc = impl_->get(IPVS_CMD_GET_CONFIG, nullptr, "get timeouts",
                         [&](const wire::Message& m) -> Result<void> {
                             auto decoded = wire::decode_timeouts_message(m);
                             if (!decoded) return std::move(decoded).take_error();
                             timeouts = *decoded;
                             return {};
                         });
    if (!rc) return std::move(rc).take_error();
    return timeouts;
}

Result<std::vector<SyncDaemon>> Client::daemons() {
    std::vector<SyncDaemon> daemons;
    auto rc = impl_->dump(IPVS_CMD_GET_DAEMON, nullptr, "list sync daemons",
                          [&](const wire::Message& m) -> Result<void> {
                              auto decoded = wire::decode_daemon_message(m);
                              if (!decoded) return std::move(decoded).take_error();
                              daemons.push_back(std::move(*decoded));
                              return {};
                          });
    if (!rc) return std::move(rc).take_error();
    return daemons;
}

namespace {

/// Checks what the kernel would refuse with a less helpful errno.
Result<void> validate(const Operation& op) {
    const auto fail = [&](std::string detail) -> Result<void> {
        return make_error(EINVAL, std::string(op.verb()), op.object(), std::move(detail));
    };
    const ServiceKey& key = op.service.key;
    const bool has_service = op.kind != OpKind::ZeroAll && op.kind != OpKind::Flush &&
                             op.kind != OpKind::SetTimeouts && op.kind != OpKind::StartDaemon &&
                             op.kind != OpKind::StopDaemon;
    if (has_service) {
        if (key.family != Family::Inet && key.family != Family::Inet6)
            return fail("service address family must be IPv4 or IPv6");
        if (!key.is_fwmark() && key.address.family != key.family)
            return fail("service address family does not match the service's family");
    }
    if (op.kind == OpKind::AddService || op.kind == OpKind::EditService) {
        if (op.service.scheduler.empty() || op.service.scheduler.size() >= IP_VS_SCHEDNAME_MAXLEN)
            return fail("scheduler name '" + op.service.scheduler + "' is empty or too long");
        if (op.service.pe_name.size() >= IP_VS_PENAME_MAXLEN)
            return fail("persistence engine name '" + op.service.pe_name + "' is too long");
        if (key.family == Family::Inet6 && (op.service.netmask < 1 || op.service.netmask > 128))
            return fail("IPv6 persistence prefix must be 1 to 128");
    }
    if (op.kind == OpKind::AddDestination || op.kind == OpKind::EditDestination ||
        op.kind == OpKind::DeleteDestination) {
        const auto family = op.destination.address.family;
        if (family != Family::Inet && family != Family::Inet6)
            return fail("destination address family must be IPv4 or IPv6");
        if (op.kind != OpKind::DeleteDestination && op.destination.weight < 0)
            return fail("weight must not be negative");
    }
    if (op.kind == OpKind::StartDaemon) {
        if (op.daemon.interface.empty() || op.daemon.interface.size() >= IP_VS_IFNAME_MAXLEN)
            return fail("interface name '" + op.daemon.interface + "' is empty or too long");
        if (op.daemon.state != SyncState::Master && op.daemon.state != SyncState::Backup)
            return fail("sync daemon state must be master or backup");
    }
    return {};
}

bool module_loaded(const std::string& name) {
    struct stat st {};
    return ::stat(("/sys/module/" + name).c_str(), &st) == 0;
}

/// Turns a kernel refusal of `op` into an Error a user can act on.
Error refusal(const Operation& op, int errnum, const std::string& kernel_text) {
    Error error = make_error(errnum, std::string(op.verb()), op.object(), kernel_text);
    if (errnum == ENOENT && (op.kind == OpKind::AddService || op.kind == OpKind::EditService)) {
        // The kernel loads ip_vs_<name> on demand; if it is loaded, the
        // scheduler exists and the persistence engine is what is missing.
        const std::string& sched = op.service.scheduler;
        if (!op.service.pe_name.empty() && module_loaded("ip_vs_" + sched))
            error.detail =
                "persistence engine '" + op.service.pe_name + "' is not available in this kernel";
        else
            error.detail = "scheduler '" + sched + "' is not available in this kernel";
    }
    return error;
}

}  // namespace

Result<void> Client::execute(const Operation& operation) {
    auto report = execute_batch(std::span<const Operation>(&operation, 1));
    if (!report) return std::move(report).take_error();
    if (!report->ok()) {
        Error error = batch_error(std::span<const Operation>(&operation, 1), *report);
        error.request_index.reset();
        return error;
    }
    return {};
}

Result<BatchReport> Client::execute_batch(std::span<const Operation> operations,
                                          const BatchOptions& options) {
    for (std::size_t i = 0; i < operations.size(); ++i) {
        if (auto valid = validate(operations[i]); !valid) {
            Error error = std::move(valid).take_error();
            error.request_index = i;
            return error;
        }
    }
    constexpr int pending = -1;
    BatchReport report;
    report.status.assign(operations.size(), pending);
    const std::size_t chunk = std::max<std::size_t>(1, options.requests_per_send);
    wire::Bytes request;
    request.reserve(std::min(chunk, operations.size()) * 160);
    // The kernel's extended-ack texts of refused requests only (a string per
    // request meant 50,000 empty strings for a 10000x4 restore).
    std::vector<std::pair<std::size_t, std::string>> texts;

    for (std::size_t begin = 0; begin < operations.size(); begin += chunk) {
        const std::size_t end = std::min(operations.size(), begin + chunk);
        const auto count = static_cast<std::uint32_t>(end - begin);
        const std::uint32_t seq_base = impl_->take_seq(count);
        request.clear();
        // Only the chunk's last request asks for an acknowledgement: the
        // kernel handles a sendmsg()'s requests in order before it returns
        // and answers every refusal regardless, so once that last answer is
        // in, every request without an error reply succeeded. That saves
        // the kernel an ack message per request and us reading them.
        for (std::size_t i = begin; i < end; ++i) {
            auto appended = wire::append_operation(request, impl_->family,
                                                   seq_base + static_cast<std::uint32_t>(i - begin),
                                                   operations[i], i + 1 == end);
            if (!appended) return std::move(appended).take_error();
        }
        if (auto sent = impl_->send(request); !sent) return std::move(sent).take_error();

        bool failed = false;
        bool last_answered = false;
        while (!last_answered) {
            auto messages = impl_->receive();
            if (!messages) return std::move(messages).take_error();
            for (const auto& message : *messages) {
                auto ack = wire::decode_ack(message);
                if (!ack) continue;
                const std::uint32_t offset = message.seq - seq_base;
                if (offset >= count) continue;  // not one of this chunk's requests
                const std::size_t index = begin + offset;
                if (report.status[index] != pending) continue;
                report.status[index] = ack->errnum;
                if (ack->errnum > 0 && !ack->text.empty())
                    texts.emplace_back(index, std::move(ack->text));
                failed = failed || ack->errnum != 0;
                last_answered = last_answered || offset + 1 == count;
            }
        }
        for (std::size_t i = begin; i < end; ++i)
            if (report.status[i] == pending) report.status[i] = 0;
        if (failed && options.stop_on_error) {
            report.not_sent = operations.size() - end;
            break;
        }
    }
    // Keep the kernel's extended-ack texts for batch_error, in request order.
    std::sort(texts.begin(), texts.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [index, text] : texts)
        if (report.status[index] > 0) report.kernel_text.emplace_back(index, std::move(text));
    return report;
}

bool BatchReport::ok() const {
    return not_sent == 0 && std::all_of(status.begin(), status.end(), [](int s) { return s == 0; });
}

std::optional<std::size_t> BatchReport::first_failure() const {
    for (std::size_t i = 0; i < status.size(); ++i)
        if (status[i] != 0) return i;
    return std::nullopt;
}

std::size_t BatchReport::succeeded() const {
    return static_cast<std::size_t>(std::count(status.begin(), status.end(), 0));
}

Error batch_error(std::span<const Operation> operations, const BatchReport& report) {
    const auto index = report.first_failure();
    if (!index || *index >= operations.size()) return make_error(0, "batch", {}, "no failure");
    std::string text;
    for (const auto& [i, t] : report.kernel_text)
        if (i == *index) text = t;
    const int errnum = report.status[*index] > 0 ? report.status[*index] : ECANCELED;
    Error error = refusal(operations[*index], errnum, text);
    error.request_index = *index;
    return error;
}

}  // namespace ipvsctl
