// SPDX-License-Identifier: GPL-2.0-or-later
// The control socket: newline-delimited JSON requests and replies on a Unix
// stream socket. {"command": "status"} answers with the monitor's status.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace ipvsctl::healthcheck {

class ControlServer {
  public:
    using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

    /// Listens on `path` (an old socket file is replaced); errors throw.
    ControlServer(boost::asio::io_context& io, std::string path, Handler handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

  private:
    void accept();

    std::string path_;
    Handler handler_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
};

}  // namespace ipvsctl::healthcheck
