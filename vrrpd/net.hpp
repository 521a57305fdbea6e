// SPDX-License-Identifier: GPL-2.0-or-later
// Kernel-facing adapters: interface facts, virtual addresses through
// rtnetlink (libnl-route), gratuitous ARP and unsolicited Neighbor
// Advertisements, and the raw IP protocol 112 sockets.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "instance.hpp"

namespace ipvsctl::vrrp {

/// A value or an Error.
template <typename T>
using Expected = std::variant<T, Error>;

/// Interface index by name.
Expected<int> interface_index(const std::string& name);
/// Whether an interface is administratively up and has carrier
/// (IFF_UP and IFF_RUNNING); false when it does not exist.
bool interface_up(const std::string& name);
/// The first IPv4 address (v4) or link-local IPv6 address (v6) on an interface.
Expected<Address> interface_primary_address(const std::string& name, Family family);

/// VIPs via rtnetlink; announcements via AF_PACKET (ARP) and ICMPv6 (NA).
class KernelAddressControl : public AddressControl {
  public:
    KernelAddressControl();
    ~KernelAddressControl() override;
    KernelAddressControl(const KernelAddressControl&) = delete;
    KernelAddressControl& operator=(const KernelAddressControl&) = delete;

    Status add(const std::string& interface, const VirtualAddress& address) override;
    Status remove(const std::string& interface, const VirtualAddress& address) override;
    Status announce(const std::string& interface, const VirtualAddress& address,
                    int count) override;
    /// Whether the address is on the interface now (to restore deleted VIPs).
    Expected<bool> present(const std::string& interface, const VirtualAddress& address);

  private:
    Status change(bool add, const std::string& interface, const VirtualAddress& address);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The raw sockets of one instance: one receiving (joined to the group, bound
/// to the device) and one sending (bound to the source address, TTL 255).
class VrrpSocket : public Transport {
  public:
    /// Opens both sockets; `source` is our primary address on `interface`.
    static Expected<std::unique_ptr<VrrpSocket>> open(const std::string& interface, Family family,
                                                      const Address& source);
    ~VrrpSocket() override;
    VrrpSocket(const VrrpSocket&) = delete;
    VrrpSocket& operator=(const VrrpSocket&) = delete;

    Status send(const Address& destination, std::span<const std::uint8_t> message) override;

    /// The receiving descriptor (for the event loop).
    [[nodiscard]] int receive_fd() const { return recv_fd_; }
    /// Reads one datagram without blocking; calls `deliver` with the VRRP
    /// message and IP facts, or returns a rejection from the IPv4 header.
    /// Returns false when nothing was waiting.
    bool receive(
        const std::function<void(std::span<const std::uint8_t>, const IpContext&)>& deliver,
        const std::function<void(const Rejection&)>& rejected);

  private:
    VrrpSocket(int recv_fd, int send_fd, Family family, int ifindex)
        : recv_fd_(recv_fd), send_fd_(send_fd), family_(family), ifindex_(ifindex) {}
    int recv_fd_;
    int send_fd_;
    Family family_;
    int ifindex_;
};

}  // namespace ipvsctl::vrrp
