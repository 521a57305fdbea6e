// SPDX-License-Identifier: GPL-2.0-or-later
#include "net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/socket.h>

namespace ipvsctl::vrrp {
namespace {

Error sys_error(std::string context) {
    return Error{errno, std::move(context)};
}

int af(Family f) {
    return f == Family::inet ? AF_INET : AF_INET6;
}

/// setsockopt with a typed value.
template <typename T>
Status set_option(int fd, int level, int name, const T& value, const char* what) {
    if (setsockopt(fd, level, name, &value, sizeof value) != 0) {
        return sys_error(std::string("setsockopt ") + what);
    }
    return std::nullopt;
}

Expected<std::array<std::uint8_t, 6>> hardware_address(const std::string& interface) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return sys_error("socket for SIOCGIFHWADDR");
    ifreq req{};
    std::strncpy(req.ifr_name, interface.c_str(), IFNAMSIZ - 1);
    const int rc = ioctl(fd, SIOCGIFHWADDR, &req);
    const int saved = errno;
    close(fd);
    if (rc != 0) return Error{saved, "SIOCGIFHWADDR " + interface};
    std::array<std::uint8_t, 6> mac{};
    std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, mac.size());
    return mac;
}

sockaddr_in to_sockaddr4(const Address& a) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, a.bytes.data(), 4);
    return sin;
}

sockaddr_in6 to_sockaddr6(const Address& a, int ifindex) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, a.bytes.data(), 16);
    if (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80) {
        sin6.sin6_scope_id = static_cast<std::uint32_t>(ifindex);
    }
    return sin6;
}

/// Gratuitous ARP request for `vip` (RFC 5227 section 3 "ARP Announcement").
Status send_garp(const std::string& interface, int ifindex, const Address& vip, int count) {
    auto mac = hardware_address(interface);
    if (auto* e = std::get_if<Error>(&mac)) return *e;
    const auto& hw = std::get<0>(mac);
    const int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
    if (fd < 0) return sys_error("AF_PACKET socket");
    std::array<std::uint8_t, 28> arp{};
    arp[0] = 0x00, arp[1] = 0x01;  // hardware type Ethernet
    arp[2] = 0x08, arp[3] = 0x00;  // protocol IPv4
    arp[4] = 6, arp[5] = 4;
    arp[6] = 0x00, arp[7] = 0x01;  // request
    std::memcpy(&arp[8], hw.data(), 6);
    std::memcpy(&arp[14], vip.bytes.data(), 4);  // sender = VIP
    std::memcpy(&arp[24], vip.bytes.data(), 4);  // target = VIP
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_ARP);
    ll.sll_ifindex = ifindex;
    ll.sll_halen = 6;
    std::memset(ll.sll_addr, 0xff, 6);
    Status status;
    for (int i = 0; i < count; ++i) {
        if (sendto(fd, arp.data(), arp.size(), 0, reinterpret_cast<const sockaddr*>(&ll),
                   sizeof ll) < 0) {
            status = sys_error("sending gratuitous ARP on " + interface);
            break;
        }
    }
    close(fd);
    return status;
}

/// Unsolicited Neighbor Advertisement to ff02::1 (RFC 4861 section 7.2.6).
Status send_unsolicited_na(const std::string& interface, int ifindex, const Address& vip,
                           int count) {
    auto mac = hardware_address(interface);
    if (auto* e = std::get_if<Error>(&mac)) return *e;
    const auto& hw = std::get<0>(mac);
    const int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (fd < 0) return sys_error("ICMPv6 socket");
    Status status = set_option(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255, "IPV6_MULTICAST_HOPS");
    if (!status)
        status = set_option(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex, "IPV6_MULTICAST_IF");
    // 24 bytes of NA + 8 bytes of Target Link-Layer Address option.
    std::array<std::uint8_t, 32> na{};
    na[0] = ND_NEIGHBOR_ADVERT;
    na[4] = 0x20;  // Override flag; the kernel fills in the checksum
    std::memcpy(&na[8], vip.bytes.data(), 16);
    na[24] = ND_OPT_TARGET_LINKADDR;
    na[25] = 1;  // length in units of 8 bytes
    std::memcpy(&na[26], hw.data(), 6);
    Address all_nodes;
    all_nodes.family = Family::inet6;
    all_nodes.bytes[0] = 0xff;
    all_nodes.bytes[1] = 0x02;
    all_nodes.bytes[15] = 0x01;
    const auto dst = to_sockaddr6(all_nodes, ifindex);
    for (int i = 0; !status && i < count; ++i) {
        if (sendto(fd, na.data(), na.size(), 0, reinterpret_cast<const sockaddr*>(&dst),
                   sizeof dst) < 0) {
            status = sys_error("sending unsolicited NA on " + interface);
        }
    }
    close(fd);
    return status;
}

}  // namespace

Expected<int> interface_index(const std::string& name) {
    const unsigned idx = if_nametoindex(name.c_str());
    if (idx == 0) return sys_error("interface " + name);
    return static_cast<int>(idx);
}

bool interface_up(const std::string& name) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    ifreq req{};
    std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
    const int rc = ioctl(fd, SIOCGIFFLAGS, &req);
    close(fd);
    if (rc != 0) return false;
    const auto flags = static_cast<unsigned>(static_cast<unsigned short>(req.ifr_flags));
    return (flags & IFF_UP) != 0 && (flags & IFF_RUNNING) != 0;
}

Expected<Address> interface_primary_address(const std::string& name, Family family) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return sys_error("getifaddrs");
    std::optional<Address> found;
    for (auto* i = list; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || name != i->ifa_name || i->ifa_addr->sa_family != af(family)) continue;
        Address a;
        a.family = family;
        if (family == Family::inet) {
            const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
            std::memcpy(a.bytes.data(), &sin->sin_addr, 4);
            found = a;
        } else {
            const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
            std::memcpy(a.bytes.data(), &sin6->sin6_addr, 16);
            // RFC 5798 section 5.1.2.1: the source is the link-local address.
            if (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80) found = a;
        }
    }
    freeifaddrs(list);
    if (!found) {
        return Error{EADDRNOTAVAIL, std::string("no ") +
                                        (family == Family::inet ? "IPv4" : "link-local IPv6") +
                                        " address on " + name};
    }
    return *found;
}

struct KernelAddressControl::Impl {
    nl_sock* sock = nullptr;
};

KernelAddressControl::KernelAddressControl() : impl_(std::make_unique<Impl>()) {}

KernelAddressControl::~KernelAddressControl() {
    if (impl_->sock) nl_socket_free(impl_->sock);
}

Status KernelAddressControl::change(bool add, const std::string& interface,
                                    const VirtualAddress& address) {
    if (!impl_->sock) {
        impl_->sock = nl_socket_alloc();
        if (!impl_->sock) return Error{ENOMEM, "nl_socket_alloc"};
        if (const int rc = nl_connect(impl_->sock, NETLINK_ROUTE); rc < 0) {
            nl_socket_free(impl_->sock);
            impl_->sock = nullptr;
            return Error{0, std::string("rtnetlink connect: ") + nl_geterror(rc)};
        }
    }
    auto idx = interface_index(interface);
    if (auto* e = std::get_if<Error>(&idx)) return *e;
    const int family = af(address.address.family);
    nl_addr* local = nl_addr_build(family, address.address.bytes.data(), address.address.size());
    rtnl_addr* addr = rtnl_addr_alloc();
    if (!local || !addr) {
        if (local) nl_addr_put(local);
        if (addr) rtnl_addr_put(addr);
        return Error{ENOMEM, "libnl allocation"};
    }
    nl_addr_set_prefixlen(local, address.prefix_length);
    rtnl_addr_set_ifindex(addr, std::get<0>(idx));
    rtnl_addr_set_family(addr, family);
    rtnl_addr_set_local(addr, local);
    rtnl_addr_set_prefixlen(addr, address.prefix_length);
    // A VIP must not wait for duplicate address detection.
    if (family == AF_INET6) rtnl_addr_set_flags(addr, IFA_F_NODAD);
    const int rc =
        add ? rtnl_addr_add(impl_->sock, addr, 0) : rtnl_addr_delete(impl_->sock, addr, 0);
    rtnl_addr_put(addr);
    nl_addr_put(local);
    if (rc == 0) return std::nullopt;
    // Already there (add) or already gone (remove) is what we wanted.
    if (add && rc == -NLE_EXIST) return std::nullopt;
    if (!add && (rc == -NLE_NOADDR || rc == -NLE_OBJ_NOTFOUND)) return std::nullopt;
    return Error{0, std::string(add ? "adding " : "removing ") + address.address.to_string() + "/" +
                        std::to_string(address.prefix_length) + " on " + interface + ": " +
                        nl_geterror(rc)};
}

Status KernelAddressControl::add(const std::string& interface, const VirtualAddress& address) {
    return change(true, interface, address);
}

Status KernelAddressControl::remove(const std::string& interface, const VirtualAddress& address) {
    return change(false, interface, address);
}

Status KernelAddressControl::announce(const std::string& interface, const VirtualAddress& address,
                                      int count) {
    auto idx = interface_index(interface);
    if (auto* e = std::get_if<Error>(&idx)) return *e;
    if (address.address.family == Family::inet) {
        return send_garp(interface, std::get<0>(idx), address.address, count);
    }
    return send_unsolicited_na(interface, std::get<0>(idx), address.address, count);
}

Expected<bool> KernelAddressControl::present(const std::string& interface,
                                             const VirtualAddress& address) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return sys_error("getifaddrs");
    bool found = false;
    for (auto* i = list; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || interface != i->ifa_name ||
            i->ifa_addr->sa_family != af(address.address.family)) {
            continue;
        }
        if (address.address.family == Family::inet) {
            found = std::memcmp(&reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr,
                                address.address.bytes.data(), 4) == 0;
        } else {
            found = std::memcmp(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr,
                                address.address.bytes.data(), 16) == 0;
        }
    }
    freeifaddrs(list);
    return found;
}

Expected<std::unique_ptr<VrrpSocket>> VrrpSocket::open(const std::string& interface, Family family,
                                                       const Address& source) {
    auto idx = interface_index(interface);
    if (auto* e = std::get_if<Error>(&idx)) return *e;
    const int ifindex = std::get<0>(idx);
    const int recv_fd = socket(af(family), SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, kIpProtoVrrp);
    if (recv_fd < 0) return sys_error("raw socket (protocol 112)");
    const int send_fd = socket(af(family), SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, kIpProtoVrrp);
    if (send_fd < 0) {
        const Error e = sys_error("raw socket (protocol 112)");
        close(recv_fd);
        return e;
    }
    std::unique_ptr<VrrpSocket> s(new VrrpSocket(recv_fd, send_fd, family, ifindex));
    Status st;
    auto chain = [&](Status next) {
        if (!st) st = std::move(next);
    };
    if (setsockopt(recv_fd, SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(),
                   static_cast<socklen_t>(interface.size())) != 0) {
        chain(sys_error("SO_BINDTODEVICE " + interface));
    }
    if (setsockopt(send_fd, SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(),
                   static_cast<socklen_t>(interface.size())) != 0) {
        chain(sys_error("SO_BINDTODEVICE " + interface));
    }
    if (family == Family::inet) {
        ip_mreqn mreq{};
        std::memcpy(&mreq.imr_multiaddr, vrrp_group_v4().bytes.data(), 4);
        mreq.imr_ifindex = ifindex;
        chain(set_option(recv_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq, "IP_ADD_MEMBERSHIP"));
        ip_mreqn out{};
        out.imr_ifindex = ifindex;
        chain(set_option(send_fd, IPPROTO_IP, IP_MULTICAST_IF, out, "IP_MULTICAST_IF"));
        // RFC 5798 section 5.1.1.3: TTL MUST be 255.
        chain(set_option(send_fd, IPPROTO_IP, IP_MULTICAST_TTL, 255, "IP_MULTICAST_TTL"));
        chain(set_option(send_fd, IPPROTO_IP, IP_TTL, 255, "IP_TTL"));
        chain(set_option(send_fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP"));
        const auto src = to_sockaddr4(source);
        if (!st && bind(send_fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0) {
            chain(sys_error("binding to " + source.to_string()));
        }
    } else {
        ipv6_mreq mreq{};
        std::memcpy(&mreq.ipv6mr_multiaddr, vrrp_group_v6().bytes.data(), 16);
        mreq.ipv6mr_interface = static_cast<unsigned>(ifindex);
        chain(set_option(recv_fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, mreq, "IPV6_ADD_MEMBERSHIP"));
        chain(set_option(recv_fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO"));
        chain(set_option(recv_fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT"));
        chain(set_option(send_fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex, "IPV6_MULTICAST_IF"));
        // RFC 5798 section 5.1.2.3: Hop Limit MUST be 255.
        chain(set_option(send_fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255, "IPV6_MULTICAST_HOPS"));
        chain(set_option(send_fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255, "IPV6_UNICAST_HOPS"));
        chain(set_option(send_fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP"));
        const auto src = to_sockaddr6(source, ifindex);
        if (!st && bind(send_fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0) {
            chain(sys_error("binding to " + source.to_string() + "%" + interface));
        }
    }
    if (st) return *st;
    return s;
}

VrrpSocket::~VrrpSocket() {
    close(recv_fd_);
    close(send_fd_);
}

Status VrrpSocket::send(const Address& destination, std::span<const std::uint8_t> message) {
    ssize_t n = 0;
    if (family_ == Family::inet) {
        const auto dst = to_sockaddr4(destination);
        n = sendto(send_fd_, message.data(), message.size(), 0,
                   reinterpret_cast<const sockaddr*>(&dst), sizeof dst);
    } else {
        const auto dst = to_sockaddr6(destination, ifindex_);
        n = sendto(send_fd_, message.data(), message.size(), 0,
                   reinterpret_cast<const sockaddr*>(&dst), sizeof dst);
    }
    if (n < 0) return sys_error("sendto " + destination.to_string());
    return std::nullopt;
}

bool VrrpSocket::receive(
    const std::function<void(std::span<const std::uint8_t>, const IpContext&)>& deliver,
    const std::function<void(const Rejection&)>& rejected) {
    std::array<std::uint8_t, 2048> buf{};
    alignas(cmsghdr) std::array<char, 256> control{};
    sockaddr_storage from{};
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = recvmsg(recv_fd_, &msg, MSG_DONTWAIT);
    if (n < 0) return false;
    const auto data = std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n));
    if (family_ == Family::inet) {
        auto d = split_ipv4(data);
        if (!d) {
            rejected(d.error());
            return true;
        }
        deliver(d->payload, d->ip);
        return true;
    }
    // IPv6 raw sockets deliver no header: hop limit and destination come as
    // ancillary data (RFC 3542 sections 6.1 and 6.3).
    IpContext ip;
    ip.family = Family::inet6;
    ip.ttl = -1;
    ip.source.family = ip.destination.family = Family::inet6;
    std::memcpy(ip.source.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(&from)->sin6_addr,
                16);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != IPPROTO_IPV6) continue;
        if (c->cmsg_type == IPV6_HOPLIMIT) {
            int hops = 0;
            std::memcpy(&hops, CMSG_DATA(c), sizeof hops);
            ip.ttl = hops;
        } else if (c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            std::memcpy(ip.destination.bytes.data(), &info.ipi6_addr, 16);
        }
    }
    deliver(data, ip);
    return true;
}

}  // namespace ipvsctl::vrrp
