// SPDX-License-Identifier: GPL-2.0-or-later
#include "control.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <filesystem>
#include <istream>
#include <memory>

namespace ipvsctl::healthcheck {
namespace {

namespace asio = boost::asio;
using asio::local::stream_protocol;

constexpr std::size_t kMaxRequestBytes = 64 * 1024;

/// One client connection: read a line, answer it, repeat until it closes.
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(stream_protocol::socket socket, ControlServer::Handler& handler)
        : socket_(std::move(socket)), buffer_(kMaxRequestBytes), handler_(handler) {}

    void read() {
        asio::async_read_until(
            socket_, buffer_, '\n',
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                if (!ec) self->answer();
            });
    }

  private:
    void answer() {
        std::istream in(&buffer_);
        std::string line;
        std::getline(in, line);
        nlohmann::json reply;
        try {
            reply = handler_(nlohmann::json::parse(line));
        } catch (const nlohmann::json::exception& e) {
            reply = {{"ok", false}, {"error", std::string("bad request: ") + e.what()}};
        }
        reply_ = reply.dump() + "\n";
        asio::async_write(
            socket_, asio::buffer(reply_),
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                if (!ec) self->read();
            });
    }

    stream_protocol::socket socket_;
    asio::streambuf buffer_;
    ControlServer::Handler& handler_;
    std::string reply_;
};

}  // namespace

ControlServer::ControlServer(asio::io_context& io, std::string path, Handler handler)
    : path_(std::move(path)), handler_(std::move(handler)), acceptor_(io) {
    std::error_code ignored;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ignored);
    ::unlink(path_.c_str());
    acceptor_.open(stream_protocol());
    acceptor_.bind(stream_protocol::endpoint(path_));
    ::chmod(path_.c_str(), 0660);  // root and the admin group only
    acceptor_.listen();
    accept();
}

ControlServer::~ControlServer() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    ::unlink(path_.c_str());
}

void ControlServer::accept() {
    acceptor_.async_accept(
        [this](const boost::system::error_code& ec, stream_protocol::socket socket) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) std::make_shared<Connection>(std::move(socket), handler_)->read();
            accept();
        });
}

}  // namespace ipvsctl::healthcheck
