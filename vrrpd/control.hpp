// SPDX-License-Identifier: GPL-2.0-or-later
// vrrpd's control socket: newline-delimited JSON requests and replies on a
// Unix stream socket (/run/ipvsctl/vrrpd.sock by default).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <nlohmann/json.hpp>

#include "instance.hpp"

namespace ipvsctl::vrrp {

class ControlSocket {
  public:
    using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

    /// Listens on `path`, replacing a stale socket file.
    static std::variant<std::unique_ptr<ControlSocket>, Error> open(boost::asio::io_context& io,
                                                                    const std::string& path,
                                                                    Handler handler);
    ~ControlSocket();
    ControlSocket(const ControlSocket&) = delete;
    ControlSocket& operator=(const ControlSocket&) = delete;

  private:
    ControlSocket(boost::asio::io_context& io, std::string path, Handler handler);
    void accept();

    std::string path_;
    Handler handler_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
};

}  // namespace ipvsctl::vrrp
