// SPDX-License-Identifier: GPL-2.0-or-later
#include "control.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace ipvsctl::vrrp {
namespace {

using boost::asio::local::stream_protocol;

/// One client connection: read a line, answer a line, until EOF.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(stream_protocol::socket socket, const ControlSocket::Handler& handler)
        : socket_(std::move(socket)), handler_(handler) {}

    void read() {
        auto self = shared_from_this();
        boost::asio::async_read_until(
            socket_, buffer_, '\n', [self](const boost::system::error_code& ec, std::size_t n) {
                if (ec || n > 65536) return;
                std::string line(boost::asio::buffers_begin(self->buffer_.data()),
                                 boost::asio::buffers_begin(self->buffer_.data()) +
                                     static_cast<std::ptrdiff_t>(n));
                self->buffer_.consume(n);
                nlohmann::json reply;
                auto request = nlohmann::json::parse(line, nullptr, false);
                if (request.is_discarded() || !request.is_object()) {
                    reply = {{"ok", false}, {"error", "request is not a JSON object"}};
                } else {
                    reply = self->handler_(request);
                }
                self->out_ =
                    reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
                boost::asio::async_write(self->socket_, boost::asio::buffer(self->out_),
                                         [self](const boost::system::error_code& wec, std::size_t) {
                                             if (!wec) self->read();
                                         });
            });
    }

  private:
    stream_protocol::socket socket_;
    const ControlSocket::Handler& handler_;
    boost::asio::streambuf buffer_;
    std::string out_;
};

}  // namespace

ControlSocket::ControlSocket(boost::asio::io_context& io, std::string path, Handler handler)
    : path_(std::move(path)), handler_(std::move(handler)), acceptor_(io) {}

std::variant<std::unique_ptr<ControlSocket>, Error> ControlSocket::open(boost::asio::io_context& io,
                                                                        const std::string& path,
                                                                        Handler handler) {
    std::unique_ptr<ControlSocket> c(new ControlSocket(io, path, std::move(handler)));
    std::error_code fec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), fec);
    ::unlink(path.c_str());
    boost::system::error_code ec;
    c->acceptor_.open(stream_protocol(), ec);
    if (!ec) c->acceptor_.bind(stream_protocol::endpoint(path), ec);
    if (!ec) ::chmod(path.c_str(), 0660);
    if (!ec) c->acceptor_.listen(16, ec);
    if (ec) return Error{ec.value(), "control socket " + path};
    c->accept();
    return c;
}

ControlSocket::~ControlSocket() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    ::unlink(path_.c_str());
}

void ControlSocket::accept() {
    acceptor_.async_accept(
        [this](const boost::system::error_code& ec, stream_protocol::socket socket) {
            if (ec == boost::asio::error::operation_aborted) return;
            if (!ec) std::make_shared<Session>(std::move(socket), handler_)->read();
            accept();
        });
}

}  // namespace ipvsctl::vrrp
