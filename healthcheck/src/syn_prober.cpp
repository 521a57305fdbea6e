// SPDX-License-Identifier: GPL-2.0-or-later
#include "syn_prober.hpp"

#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/asio/defer.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>

#include "healthcheck/schedule.hpp"
#include "socket_util.hpp"

namespace ipvsctl::healthcheck::detail {
namespace {

constexpr std::uint16_t kPortCount = 32;
/// Enough for the probes of one target in flight together (a target runs
/// one probe at a time; a port is rotated away from the last answer).
constexpr std::size_t kFewestPorts = 4;
/// A burst of 10,000 answers must not overflow the receive queue (each
/// queued segment costs about 1 KiB of it): dropped answers are false downs.
constexpr int kReceiveBuffer = 8 << 20;
constexpr int kSendBuffer = 2 << 20;
/// How long routing's source address for a destination is trusted; a probe
/// that times out forgets it at once (the route may have changed).
constexpr auto kRouteLifetime = std::chrono::minutes(5);
constexpr auto kLocalLifetime = std::chrono::seconds(30);
/// When a SYN without an answer is first sent again: TCP's initial
/// retransmission timeout (RFC 6298 section 2.1), as for connect().
constexpr auto kFirstRetransmit = std::chrono::seconds(1);
/// When SYNs that found the send queue full are tried again.
constexpr auto kSendRetry = std::chrono::milliseconds(1);

std::string errno_text(int error) {
    return std::strerror(error);
}

std::int64_t realtime_ns() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

/// Classic BPF (see Documentation/networking/filter.rst): pass only TCP
/// segments to a port of [first, last] with SYN+ACK or RST set, so the raw
/// socket copies no other TCP traffic of the host. `ipv4`: the packet
/// starts with the IP header (raw IPv4 sockets), else with the TCP header
/// (raw IPv6 sockets).
std::vector<sock_filter> answer_filter(bool ipv4, std::uint16_t first, std::uint16_t last) {
    std::vector<sock_filter> code;
    if (ipv4) {
        code.push_back(BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6));  // fragment offset
        code.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 0xff, 0));
        code.push_back(BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0));  // X = IP header length
        code.push_back(BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2));   // TCP destination port
    } else {
        code.push_back(BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2));
    }
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, first, 0, 0xff));
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, last, 0xff, 0));
    if (ipv4)
        code.push_back(BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13));  // flags
    else
        code.push_back(BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13));
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, tcp::kRst, 0xfe, 0));
    code.push_back(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, tcp::kSyn | tcp::kAck));
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, tcp::kSyn | tcp::kAck, 0xfe, 0xff));
    const std::size_t drop = code.size();
    code.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
    code.push_back(BPF_STMT(BPF_RET | BPF_K, 0xffff));
    const std::size_t accept = drop + 1;
    // 0xff marks a jump to drop, 0xfe a jump to accept: relative offsets.
    for (std::size_t i = 0; i < drop; ++i) {
        for (std::uint8_t* jump : {&code[i].jt, &code[i].jf}) {
            if (*jump == 0xff) *jump = static_cast<std::uint8_t>(drop - i - 1);
            if (*jump == 0xfe) *jump = static_cast<std::uint8_t>(accept - i - 1);
        }
    }
    return code;
}

int set_buffer(int fd, int force, int plain, int bytes) {
    // The forcing option needs CAP_NET_ADMIN (the daemon has it); else the
    // plain one, capped by net.core.[rw]mem_max.
    if (::setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) == 0) return 0;
    return ::setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof bytes);
}

/// The host's ephemeral port range: the reserved source ports come from it,
/// where no service listens.
std::pair<std::uint16_t, std::uint16_t> ephemeral_ports() {
    std::ifstream file("/proc/sys/net/ipv4/ip_local_port_range");
    unsigned first = 32768, last = 60999;
    file >> first >> last;
    if (!file || first < 1024 || last > 65535 || last < first + kPortCount) return {32768, 60999};
    return {static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)};
}

}  // namespace

std::size_t SynProber::KeyHash::operator()(const Key& key) const noexcept {
    std::uint64_t a, b;
    std::memcpy(&a, key.address.data(), 8);
    std::memcpy(&b, key.address.data() + 8, 8);
    std::uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ b;
    h ^= (std::uint64_t{key.remote_port} << 16 | key.local_port | std::uint64_t{key.v6} << 32);
    h *= 0xbf58476d1ce4e5b9ULL;
    return static_cast<std::size_t>(h ^ (h >> 31));
}

SynProber::SynProber(boost::asio::execution_context& context)
    : service(context),
      io_(static_cast<boost::asio::io_context&>(context)),
      sweep_timer_(io_),
      read_timer_(io_),
      send_retry_(io_),
      receiving_(std::make_unique<Receiving>()) {
    Receiving& in = *receiving_;
    for (std::size_t i = 0; i < kBatch; ++i) {
        in.vectors[i] = {in.buffers[i].data(), in.buffers[i].size()};
        msghdr& header = in.messages[i].msg_hdr;
        header = {};
        header.msg_iov = &in.vectors[i];
        header.msg_iovlen = 1;
        header.msg_name = &in.sources[i];
        header.msg_control = in.controls[i].data();
    }
    if (::getrandom(&rng_state_, sizeof rng_state_, 0) != sizeof rng_state_)
        rng_state_ = std::random_device{}();
    std::string why;
    if (open(why)) {
        mode_ = "half-open SYN probes from a raw socket, source ports " +
                std::to_string(first_port_) + "-" + std::to_string(first_port_ + port_count_ - 1) +
                (raw6_ >= 0 ? "" : " (IPv6 targets connect(): " + why + ")");
        return;
    }
    shutdown();
    mode_ = "connect() (no half-open SYN probes: " + why + ")";
}

SynProber::~SynProber() {
    shutdown();
}

void SynProber::shutdown() {
    for (int* fd : {&raw4_, &raw6_}) {
        if (*fd >= 0) ::close(*fd);
        *fd = -1;
    }
    sweep_timer_.cancel();
    read_timer_.cancel();
    send_retry_.cancel();
    if (udp4_ >= 0) ::close(udp4_);
    udp4_ = -1;
    for (const int fd : port_holders_) ::close(fd);
    port_holders_.clear();
    pending_.clear();
    pending_v6_ = 0;
    out4_.clear();
    out6_.clear();
}

bool SynProber::open(std::string& why) {
    const int raw4 = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (raw4 < 0) {
        why = "raw socket: " + errno_text(errno);
        return false;
    }
    raw4_ = raw4;
    const int on = 1;
    if (::setsockopt(raw4, IPPROTO_IP, IP_HDRINCL, &on, sizeof on) != 0) {
        why = "IP_HDRINCL: " + errno_text(errno);
        return false;
    }
    udp4_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (udp4_ < 0) {
        why = "UDP socket: " + errno_text(errno);
        return false;
    }
    if (!reserve_ports(why)) return false;
    const auto attach = [&](int fd, bool ipv4) {
        auto code = answer_filter(ipv4, first_port_,
                                  static_cast<std::uint16_t>(first_port_ + port_count_ - 1));
        const sock_fprog program{static_cast<unsigned short>(code.size()), code.data()};
        if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0)
            return false;
        set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, kReceiveBuffer);
        set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, kSendBuffer);
        // Answers are read up to a grid step after they arrive: their
        // arrival time comes with them, for the probe's latency.
        ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
        return true;
    };
    if (!attach(raw4, true)) {
        why = "SO_ATTACH_FILTER: " + errno_text(errno);
        return false;
    }
    // IPv6 is optional: a host without it probes IPv6 targets by connect().
    const int raw6 = ::socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (raw6 < 0) {
        why = errno_text(errno);
        return true;
    }
    raw6_ = raw6;
    // RFC 3542 section 3.1: the kernel computes the TCP checksum at offset 16.
    const int offset = 16;
    if (::setsockopt(raw6, IPPROTO_IPV6, IPV6_CHECKSUM, &offset, sizeof offset) != 0 ||
        !attach(raw6, false)) {
        why = errno_text(errno);
        ::close(raw6_);
        raw6_ = -1;
    }
    return true;
}

bool SynProber::reserve_ports(std::string& why) {
    const auto [low, high] = ephemeral_ports();
    // One dual-stack socket holds a port for IPv4 and IPv6 alike.
    const bool dual = [] {
        const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return false;
        ::close(fd);
        return true;
    }();
    const auto close_all = [](std::vector<int>& fds) {
        for (const int fd : fds) ::close(fd);
        fds.clear();
    };
    // Every port of the range is tried once, from a random one on, for a
    // run of kPortCount free ports in a row; failing that the longest run
    // found, if it has at least kFewestPorts. A host that makes many
    // connections (another checker, say) can leave a TIME_WAIT on most
    // ports: twenty random tries of one fixed-size run then all failed
    // and every TCP_CHECK fell back to connect().
    const std::uint32_t span = std::uint32_t{high} - low + 1;
    const std::uint32_t start = next_isn() % span;
    std::vector<int> run, best;
    std::uint16_t run_first = 0, best_first = 0;
    // The run in progress has ended: it becomes the best if longer.
    const auto end_run = [&] {
        if (run.size() > best.size()) {
            close_all(best);
            best.swap(run);
            best_first = run_first;
        }
        close_all(run);
    };
    int fd = -1;
    for (std::uint32_t i = 0; i < span && run.size() < kPortCount; ++i) {
        const auto port = static_cast<std::uint16_t>(low + (start + i) % span);
        // A run does not wrap from the top of the range to its bottom.
        if (!run.empty() && port != run_first + run.size()) {
            end_run();
        }
        if (fd < 0) {
            fd = ::socket(dual ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                why = "TCP socket: " + errno_text(errno);
                close_all(run);
                close_all(best);
                return false;
            }
            if (dual) {
                const int off = 0;
                ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
            }
        }
        config::IpAddress any;
        any.family = dual ? config::AddressFamily::inet6 : config::AddressFamily::inet;
        sockaddr_storage address;
        const socklen_t length = to_sockaddr(any, port, address);
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) == 0) {
            if (run.empty()) run_first = port;
            run.push_back(fd);
            fd = -1;
            continue;
        }
        // Taken: this socket tries the next port (a failed bind leaves it unbound).
        end_run();
    }
    if (fd >= 0) ::close(fd);
    end_run();
    if (best.size() < kFewestPorts) {
        close_all(best);
        why = "no free run of " + std::to_string(kFewestPorts) + " source ports in " +
              std::to_string(low) + "-" + std::to_string(high);
        return false;
    }
    port_holders_ = std::move(best);
    first_port_ = best_first;
    port_count_ = static_cast<std::uint16_t>(port_holders_.size());
    return true;
}

std::uint32_t SynProber::next_isn() {
    // splitmix64: ISNs an off-path host cannot guess from the previous ones
    // without the seed (RFC 6528 asks for unpredictable ISNs).
    std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<std::uint32_t>(z ^ (z >> 31));
}

int SynProber::source_for(const config::IpAddress& destination, std::uint16_t port,
                          std::array<std::uint8_t, 4>& source) {
    std::uint32_t destination_key;
    std::memcpy(&destination_key, destination.bytes.data(), 4);
    const auto now = std::chrono::steady_clock::now();
    if (const auto found = routes_.find(destination_key);
        found != routes_.end() && found->second.expires > now) {
        source = found->second.source;
        return 0;
    }
    // Routing's choice, as connect() would make it: a UDP socket connected
    // to the destination (no packet is sent), then disconnected (AF_UNSPEC)
    // so that the next connect chooses afresh.
    sockaddr_storage address;
    const socklen_t length = to_sockaddr(destination, port, address);
    int error = 0;
    if (::connect(udp4_, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
        error = errno;
    } else {
        sockaddr_in local{};
        socklen_t local_length = sizeof local;
        if (::getsockname(udp4_, reinterpret_cast<sockaddr*>(&local), &local_length) != 0)
            error = errno;
        else
            std::memcpy(source.data(), &local.sin_addr, 4);
    }
    sockaddr unspecified{};
    unspecified.sa_family = AF_UNSPEC;
    ::connect(udp4_, &unspecified, sizeof unspecified);
    if (error == 0) routes_[destination_key] = {source, now + kRouteLifetime};
    return error;
}

int SynProber::check_local(const config::IpAddress& address) {
    Key local;
    local.address = address.bytes;
    local.v6 = address.is_v6();
    const auto now = std::chrono::steady_clock::now();
    if (const auto found = locals_.find(local);
        found != locals_.end() && found->second.expires > now)
        return found->second.error;
    // What bind() in connect()'s place would say: EADDRNOTAVAIL when not ours.
    const int fd = ::socket(local.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int error = fd < 0 ? errno : 0;
    if (fd >= 0) {
        sockaddr_storage sa;
        const socklen_t length = to_sockaddr(address, 0, sa);
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), length) != 0) error = errno;
        ::close(fd);
    }
    locals_[local] = {error, now + kLocalLifetime};
    return error;
}

int SynProber::start(const ProbeSpec& spec, Duration deadline, Waiter& waiter, Ticket& ticket) {
    cancel(ticket);
    const bool v6 = spec.address.is_v6();
    if (!enabled() || spec.bind_port || (v6 && raw6_ < 0)) return -1;
    if (spec.bindto && spec.bindto->is_v6() != v6) return EAFNOSUPPORT;
    Outgoing out;
    std::array<std::uint8_t, 4> source4{};
    if (spec.bindto) {
        if (const int error = check_local(*spec.bindto)) return error;
        if (v6) out.source = spec.bindto;
        std::copy_n(spec.bindto->bytes.begin(), 4, source4.begin());
    } else if (!v6) {
        if (const int error = source_for(spec.address, spec.port, source4)) return error;
    }
    // A free source port for this target: rotating spreads a target's
    // probes over the range, so a late answer to the last one is unlikely
    // to meet the next one (and is dropped anyway: its ack differs).
    out.key.address = spec.address.bytes;
    out.key.remote_port = spec.port;
    out.key.v6 = v6;
    const std::uint32_t isn = next_isn();
    const std::int64_t started_ns = realtime_ns();
    Pending* placed = nullptr;
    for (std::uint16_t i = 0; i < port_count_ && placed == nullptr; ++i) {
        out.key.local_port = static_cast<std::uint16_t>(first_port_ + port_cursor_++ % port_count_);
        const auto [at, inserted] =
            pending_.try_emplace(out.key, Pending{&waiter, &ticket, isn, started_ns, {}});
        if (inserted) placed = &at->second;
    }
    if (placed == nullptr) return -1;
    if (v6) ++pending_v6_;
    ticket.key = out.key;
    ticket.active = true;
    // A probe in flight is work of the loop (the waits for answers and
    // deadlines are not: see arm).
    io_.get_executor().on_work_started();
    const auto now = std::chrono::steady_clock::now();
    deadlines_.push({std::min(now + kFirstRetransmit, now + deadline), out.key, isn, now + deadline,
                     kFirstRetransmit});
    arm_sweep();
    if (v6) {
        tcp::build_syn(std::span(out.bytes).first<tcp::kTcpHeaderSize>(), out.key.local_port,
                       spec.port, isn);
        out.length = tcp::kTcpHeaderSize;
    } else {
        config::IpAddress source;
        std::copy(source4.begin(), source4.end(), source.bytes.begin());
        tcp::build_ipv4_syn(out.bytes, source, spec.address, out.key.local_port, spec.port, isn);
        out.length = static_cast<std::uint8_t>(out.bytes.size());
    }
    placed->syn = out;
    queue(std::move(out));
    arm_read();
    return 0;
}

void SynProber::cancel(Ticket& ticket) {
    if (!ticket.active) return;
    ticket.active = false;
    if (pending_.erase(ticket.key) != 0) {
        if (ticket.key.v6) --pending_v6_;
        io_.get_executor().on_work_finished();
    }
    // Given up on: the route may have changed.
    if (!ticket.key.v6) {
        std::uint32_t destination_key;
        std::memcpy(&destination_key, ticket.key.address.data(), 4);
        routes_.erase(destination_key);
    }
}

void SynProber::queue(Outgoing outgoing) {
    (outgoing.key.v6 ? out6_ : out4_).push_back(std::move(outgoing));
    if (flush_posted_) return;
    // The SYNs of this loop turn leave together, in one sendmmsg. Deferred,
    // not posted: a post from the loop's own thread wakes its reactor (an
    // epoll_ctl and a loop turn), a continuation does not.
    flush_posted_ = true;
    boost::asio::defer(io_, [this] { flush(); });
}

void SynProber::flush() {
    flush_posted_ = false;
    // Sent from sending_, which keeps its capacity: a fresh vector per
    // flush grew (and reallocated) on every loop turn that sent SYNs.
    if (send_blocked_) return;
    if (!out4_.empty()) {
        sending_.swap(out4_);
        send(false, sending_);
        sending_.clear();
    }
    if (!send_blocked_ && !out6_.empty()) {
        sending_.swap(out6_);
        send(true, sending_);
        sending_.clear();
    }
}

void SynProber::send(bool v6, std::vector<Outgoing>& batch) {
    std::size_t done = 0;
    while (done < batch.size()) {
        const std::size_t count = std::min(kBatch, batch.size() - done);
        // Left uninitialised: each message used is set up below (zeroing all
        // 64, about 8 KiB, cost more than the two or three SYNs of a step).
        std::array<mmsghdr, kBatch> messages;
        std::array<iovec, kBatch> vectors;
        std::array<sockaddr_storage, kBatch> addresses;
        std::array<std::array<char, CMSG_SPACE(sizeof(in6_pktinfo))>, kBatch> controls;
        for (std::size_t i = 0; i < count; ++i) {
            Outgoing& out = batch[done + i];
            messages[i] = {};
            config::IpAddress destination;
            destination.family = v6 ? config::AddressFamily::inet6 : config::AddressFamily::inet;
            destination.bytes = out.key.address;
            // Raw sockets take no port (IPv6: 0 or the protocol, RFC 3542).
            const socklen_t length = to_sockaddr(destination, 0, addresses[i]);
            vectors[i] = {out.bytes.data(), out.length};
            msghdr& header = messages[i].msg_hdr;
            header.msg_name = &addresses[i];
            header.msg_namelen = length;
            header.msg_iov = &vectors[i];
            header.msg_iovlen = 1;
            if (out.source) {
                // bindto for IPv6: the source address of this SYN (RFC 3542 section 6).
                header.msg_control = controls[i].data();
                header.msg_controllen = controls[i].size();
                controls[i] = {};
                cmsghdr* control = CMSG_FIRSTHDR(&header);
                control->cmsg_level = IPPROTO_IPV6;
                control->cmsg_type = IPV6_PKTINFO;
                control->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
                in6_pktinfo info{};
                std::memcpy(&info.ipi6_addr, out.source->bytes.data(), 16);
                std::memcpy(CMSG_DATA(control), &info, sizeof info);
            }
        }
        const int sent = ::sendmmsg(v6 ? raw6_ : raw4_, messages.data(),
                                    static_cast<unsigned>(count), MSG_DONTWAIT);
        if (sent > 0) {
            done += static_cast<std::size_t>(sent);
            continue;
        }
        const int error = errno;
        if (error == EINTR) continue;
        if (error == EAGAIN || error == ENOBUFS) {
            // The send queue is full: the rest leaves when it drains.
            auto& out = v6 ? out6_ : out4_;
            out.insert(out.begin(),
                       std::make_move_iterator(batch.begin() + static_cast<long>(done)),
                       std::make_move_iterator(batch.end()));
            // Tried again shortly (the socket is not in the loop's epoll set
            // to say when there is room, see raw4_).
            send_blocked_ = true;
            send_retry_.expires_after(kSendRetry);
            send_retry_.async_wait([this](const boost::system::error_code& ec) {
                send_blocked_ = false;
                if (!ec) flush();
            });
            return;
        }
        // This SYN cannot leave (its first message is the one that failed):
        // the probe fails as connect() would have.
        fail(batch[done].key, error);
        ++done;
    }
}

void SynProber::fail(const Key& probe, int error) {
    const auto found = pending_.find(probe);
    if (found != pending_.end()) finish(found, error);
}

void SynProber::finish(PendingMap::iterator probe, int result, Duration latency) {
    Waiter* const waiter = probe->second.waiter;
    probe->second.ticket->active = false;
    if (probe->first.v6) --pending_v6_;
    pending_.erase(probe);
    waiter->on_answer(result, latency);
    // After the waiter: it may start its next probe, keeping the loop busy.
    io_.get_executor().on_work_finished();
}

void SynProber::arm_sweep() {
    // Answered probes leave their deadline behind: skip those first, so the
    // sweep wakes the loop only for a probe still in flight (about once per
    // connect_timeout when answers are fast, not once per probe).
    while (!deadlines_.empty()) {
        const Deadline& top = deadlines_.top();
        const auto found = pending_.find(top.key);
        if (found != pending_.end() && found->second.isn == top.isn) break;
        deadlines_.pop();
    }
    if (deadlines_.empty()) return;
    const auto at = deadlines_.top().at;
    // Armed for no later than that already (deadlines mostly come in order).
    if (sweep_at_ && *sweep_at_ <= at) return;
    sweep_at_ = at;
    sweep_timer_.expires_at(at);  // cancels the wait armed for later, if any
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
        io_.get_executor().on_work_started();  // see below
        if (ec) return;                        // re-armed earlier, or closed
        sweep_at_.reset();
        sweep();
    });
    // Not work of the loop: the probes in flight are (see start).
    io_.get_executor().on_work_finished();
}

void SynProber::sweep() {
    // Answers not yet read are not timeouts.
    read_answers();
    const auto now = std::chrono::steady_clock::now();
    while (!deadlines_.empty() && deadlines_.top().at <= now) {
        const Deadline due = deadlines_.top();
        deadlines_.pop();
        const auto found = pending_.find(due.key);
        if (found == pending_.end() || found->second.isn != due.isn) continue;
        if (due.at < due.final) {
            // No answer yet: the SYN or its answer may have been lost. Send
            // it again and double the wait, as connect() would (RFC 6298
            // section 5.5; 1 s first, section 2.1).
            const auto wait = due.retransmit_after * 2;
            deadlines_.push(
                {std::min(due.at + wait, due.final), due.key, due.isn, due.final, wait});
            queue(found->second.syn);
            continue;
        }
        // No answer: the route may have changed (learn it afresh next time).
        if (!due.key.v6) {
            std::uint32_t destination_key;
            std::memcpy(&destination_key, due.key.address.data(), 4);
            routes_.erase(destination_key);
        }
        finish(found, ETIMEDOUT);
    }
    arm_sweep();
}

void SynProber::arm_read() {
    if (read_armed_ || pending_.empty()) return;
    read_armed_ = true;
    // The next step of the grid on which the checks wake up: the answers
    // to this step's SYNs are read then, with the next step's SYNs, in the
    // same loop turn. Waiting on the socket instead woke the loop again for
    // every few answers, in the guest as often as the timer did.
    read_timer_.expires_at(
        wake_grid_ceiling(std::chrono::steady_clock::now() + std::chrono::nanoseconds(1)));
    read_timer_.async_wait([this](const boost::system::error_code& ec) {
        io_.get_executor().on_work_started();  // see below
        read_armed_ = false;
        if (ec) return;  // closed
        read_answers();
        arm_read();
    });
    // Not work of the loop: the probes in flight are (see start).
    io_.get_executor().on_work_finished();
}

void SynProber::read_answers() {
    if (pending_.size() > pending_v6_) drain(false);
    if (pending_v6_ > 0 && raw6_ >= 0) drain(true);
}

void SynProber::drain(bool v6) {
    Receiving& in = *receiving_;
    // As many messages as answers are expected (a few per step): the
    // kernel fills the ones asked for, and each asked for is set up here.
    // After a full read, all: more than expected were waiting.
    const std::size_t expected = v6 ? pending_v6_ : pending_.size() - pending_v6_;
    std::size_t asked = std::clamp<std::size_t>(expected, 8, kBatch);
    for (;;) {
        for (std::size_t i = 0; i < asked; ++i) {
            msghdr& header = in.messages[i].msg_hdr;
            header.msg_namelen = sizeof in.sources[i];
            header.msg_controllen = in.controls[i].size();
            header.msg_flags = 0;
        }
        const int count = ::recvmmsg(v6 ? raw6_ : raw4_, in.messages.data(),
                                     static_cast<unsigned>(asked), MSG_DONTWAIT, nullptr);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) return;
        for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) {
            const std::span<const std::uint8_t> bytes(
                in.buffers[i].data(), std::min<std::size_t>(in.messages[i].msg_len, kReadSize));
            std::optional<tcp::Segment> segment;
            if (v6) {
                config::IpAddress source;
                source.family = config::AddressFamily::inet6;
                std::memcpy(source.bytes.data(), &in.sources[i].sin6_addr, 16);
                segment = tcp::parse_tcp(bytes, source);
            } else {
                segment = tcp::parse_ipv4(bytes);
            }
            if (!segment) continue;
            std::int64_t arrived_ns = 0;
            for (cmsghdr* control = CMSG_FIRSTHDR(&in.messages[i].msg_hdr); control != nullptr;
                 control = CMSG_NXTHDR(&in.messages[i].msg_hdr, control)) {
                if (control->cmsg_level != SOL_SOCKET || control->cmsg_type != SCM_TIMESTAMPNS)
                    continue;
                timespec stamp;
                std::memcpy(&stamp, CMSG_DATA(control), sizeof stamp);
                arrived_ns = std::int64_t{stamp.tv_sec} * 1'000'000'000 + stamp.tv_nsec;
            }
            answer(*segment, v6, arrived_ns);
        }
        // Fewer than asked: the queue is empty for now.
        if (static_cast<std::size_t>(count) < asked) return;
        asked = kBatch;
    }
}

void SynProber::answer(const tcp::Segment& segment, bool v6, std::int64_t arrived_realtime_ns) {
    Key probe;
    probe.address = segment.source.bytes;
    probe.remote_port = segment.source_port;
    probe.local_port = segment.destination_port;
    probe.v6 = v6;
    const auto found = pending_.find(probe);
    if (found == pending_.end()) return;
    // RFC 9293 section 3.10.7.3 (SYN-SENT): an answer counts only when it
    // acknowledges our SYN (ACK = ISN + 1); then SYN-ACK is established
    // and RST is "connection refused".
    if (segment.ack != found->second.isn + 1 || (segment.flags & tcp::kAck) == 0) return;
    int result;
    if ((segment.flags & tcp::kRst) != 0)
        result = ECONNREFUSED;
    else if ((segment.flags & tcp::kSyn) != 0)
        result = 0;
    else
        return;
    // Zero (unknown) when the stamp is missing or the wall clock was set
    // back in between: the session then times the probe itself.
    const Duration latency = std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(
        std::max<std::int64_t>(0, arrived_realtime_ns - found->second.started_realtime_ns)));
    finish(found, result, arrived_realtime_ns > 0 ? latency : Duration{});
}

}  // namespace ipvsctl::healthcheck::detail
