// SPDX-License-Identifier: GPL-2.0-or-later
// Socket helpers shared by the TCP-based checkers (private to the library).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include "healthcheck/probe_spec.hpp"
#include "healthcheck/session.hpp"

namespace ipvsctl::healthcheck::detail {

inline boost::asio::ip::address to_asio(const config::IpAddress& address) {
    if (address.is_v6()) {
        boost::asio::ip::address_v6::bytes_type bytes;
        std::copy(address.bytes.begin(), address.bytes.end(), bytes.begin());
        return boost::asio::ip::address_v6(bytes);
    }
    boost::asio::ip::address_v4::bytes_type bytes;
    std::copy(address.bytes.begin(), address.bytes.begin() + 4, bytes.begin());
    return boost::asio::ip::address_v4(bytes);
}

inline boost::asio::ip::tcp::endpoint target_endpoint(const ProbeSpec& spec) {
    return {to_asio(spec.address), spec.port};
}

/// Opens `socket` for the target's family and binds it to bindto/bind_port.
inline boost::system::error_code open_socket(boost::asio::ip::tcp::socket& socket,
                                             const ProbeSpec& spec) {
    boost::system::error_code ec;
    const auto target = target_endpoint(spec);
    socket.open(target.protocol(), ec);
    if (ec) return ec;
    if (spec.bindto || spec.bind_port) {
        const auto local =
            spec.bindto ? to_asio(*spec.bindto)
                        : (target.address().is_v6()
                               ? boost::asio::ip::address(boost::asio::ip::address_v6::any())
                               : boost::asio::ip::address(boost::asio::ip::address_v4::any()));
        socket.set_option(boost::asio::socket_base::reuse_address(true), ec);
        socket.bind({local, spec.bind_port.value_or(0)}, ec);
    }
    return ec;
}

/// Closes `socket` with a reset (SO_LINGER {on, 0}) instead of a FIN
/// handshake: a finished probe then costs no TIME_WAIT on either end and
/// about half the packets (RFC 793 section 3.5 allows aborting with RST).
inline void close_with_reset(boost::asio::ip::tcp::socket& socket) {
    if (!socket.is_open()) return;
    boost::system::error_code ignored;
    socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
}

/// A socket error as a failure reason.
inline FailureReason classify(const boost::system::error_code& ec) {
    namespace error = boost::asio::error;
    if (ec == error::connection_refused || ec == error::connection_reset)
        return FailureReason::refused;
    if (ec == error::host_unreachable || ec == error::network_unreachable)
        return FailureReason::unreachable;
    if (ec == error::timed_out) return FailureReason::timeout;
    return FailureReason::network;
}

}  // namespace ipvsctl::healthcheck::detail
