// SPDX-License-Identifier: GPL-2.0-or-later
// The daemons' control socket: newline-delimited JSON requests and replies on
// a Unix stream socket, one reply line per request line, served on the
// daemon's own io_context. Shared by vrrpd and healthcheckd.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ipvsctl::control {

/// A request line longer than this (newline included) closes the connection.
inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;

/// Listens on a Unix socket path and answers each JSON object with `handler`'s
/// reply. Lines that are not JSON objects, and handlers that throw a
/// nlohmann::json::exception, get {"ok": false, "error": "..."}.
class Server {
  public:
    using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

    /// Listens on `path` at once, creating its directory and replacing a stale
    /// socket file (mode 0660); errors throw std::runtime_error naming the path.
    Server(boost::asio::io_context& io, std::string path, Handler handler);
    /// Stops listening and removes the socket file.
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }

  private:
    void accept();

    std::string path_;
    // Shared with the connections, which may outlive the server in the io_context.
    std::shared_ptr<const Handler> handler_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
};

/// The reply to one request line (its newline optional), as the server writes it back
/// before the newline.
std::string answer(const Server::Handler& handler, std::string_view line);

}  // namespace ipvsctl::control
