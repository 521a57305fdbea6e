// SPDX-License-Identifier: GPL-2.0-or-later
#include "control/server.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace ipvsctl::control {
namespace {

namespace asio = boost::asio;
using asio::local::stream_protocol;

/// One client connection: read a line, answer it, repeat until it closes.
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(stream_protocol::socket socket, std::shared_ptr<const Server::Handler> handler)
        : socket_(std::move(socket)), buffer_(kMaxRequestBytes), handler_(std::move(handler)) {}

    void read() {
        // A full buffer with no newline ends the read with an error: the connection closes.
        asio::async_read_until(
            socket_, buffer_, '\n',
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                if (!ec) self->reply_to(n);
            });
    }

  private:
    void reply_to(std::size_t line_bytes) {
        const auto begin = asio::buffers_begin(buffer_.data());
        const std::string line(begin, begin + static_cast<std::ptrdiff_t>(line_bytes));
        buffer_.consume(line_bytes);
        reply_ = answer(*handler_, line) + "\n";
        asio::async_write(
            socket_, asio::buffer(reply_),
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                if (!ec) self->read();
            });
    }

    stream_protocol::socket socket_;
    asio::streambuf buffer_;
    std::shared_ptr<const Server::Handler> handler_;
    std::string reply_;
};

nlohmann::json failure(const std::string& error) {
    return {{"ok", false}, {"error", error}};
}

}  // namespace

std::string answer(const Server::Handler& handler, std::string_view line) {
    nlohmann::json reply;
    try {
        const auto request = nlohmann::json::parse(line);
        reply = request.is_object() ? handler(request) : failure("request is not a JSON object");
    } catch (const nlohmann::json::exception& e) {
        reply = failure(std::string("bad request: ") + e.what());
    }
    // Names from config files need not be UTF-8: replace rather than throw.
    return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Server::Server(asio::io_context& io, std::string path, Handler handler)
    : path_(std::move(path)),
      handler_(std::make_shared<const Handler>(std::move(handler))),
      acceptor_(io) {
    std::error_code ignored;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ignored);
    ::unlink(path_.c_str());
    try {
        acceptor_.open(stream_protocol());
        acceptor_.bind(stream_protocol::endpoint(path_));  // a path too long throws too
        ::chmod(path_.c_str(), 0660);                      // root and the admin group only
        acceptor_.listen();
    } catch (const boost::system::system_error& e) {
        boost::system::error_code close_ignored;
        acceptor_.close(close_ignored);
        ::unlink(path_.c_str());
        throw std::runtime_error("control socket " + path_ + ": " + e.code().message());
    }
    accept();
}

Server::~Server() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    ::unlink(path_.c_str());
}

void Server::accept() {
    acceptor_.async_accept(
        [this](const boost::system::error_code& ec, stream_protocol::socket socket) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) std::make_shared<Connection>(std::move(socket), handler_)->read();
            accept();
        });
}

}  // namespace ipvsctl::control
