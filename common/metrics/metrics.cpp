// SPDX-License-Identifier: GPL-2.0-or-later
#include "metrics/metrics.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace ipvsctl::metrics {

namespace {

constexpr std::string_view type_name(Type type) {
    return type == Type::counter ? "counter" : "gauge";
}

// HELP text escapes only backslash and newline (exposition format 0.0.4).
std::string escape_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

constexpr std::size_t kMaxRequestHead = 8192;
constexpr auto kClientTimeout = std::chrono::seconds(5);

/// One scrape: read the request head, answer, close.
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(boost::asio::ip::tcp::socket socket,
               std::shared_ptr<HttpExporter::AsyncRender> render)
        : socket_(std::move(socket)),
          timer_(socket_.get_executor()),
          render_(std::move(render)),
          buffer_(kMaxRequestHead) {}

    void start() {
        auto self = shared_from_this();
        arm_timeout();
        boost::asio::async_read_until(
            socket_, buffer_, "\r\n\r\n",
            [self](const boost::system::error_code& ec, std::size_t) { self->respond(ec); });
    }

  private:
    /// The client has kClientTimeout to send its request, and again to take
    /// the reply; the render in between takes what it takes (a sliced render
    /// of 10,000 servers on a busy loop took more than 5 s in the guest).
    void arm_timeout() {
        timer_.expires_after(kClientTimeout);
        timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) {
                boost::system::error_code ignored;
                self->socket_.close(ignored);
            }
        });
    }

    void respond(const boost::system::error_code& read_error) {
        timer_.cancel();
        if (read_error && read_error != boost::asio::error::not_found) return;
        std::string head(boost::asio::buffers_begin(buffer_.data()),
                         boost::asio::buffers_end(buffer_.data()));
        const auto line_end = head.find("\r\n");
        const auto request = read_error ? std::nullopt
                                        : parse_request_line(std::string_view(head).substr(
                                              0, line_end == std::string::npos ? 0 : line_end));
        constexpr const char* kPlain = "text/plain; charset=utf-8";
        if (!request) return send("400 Bad Request", kPlain, "bad request\n", true);
        if (request->method != "GET" && request->method != "HEAD")
            return send("405 Method Not Allowed", kPlain, "only GET\n", true);
        const bool with_body = request->method != "HEAD";
        if (request->target != "/metrics" && request->target.rfind("/metrics?", 0) != 0)
            return send("404 Not Found", kPlain, "metrics are at /metrics\n", with_body);
        (*render_)([self = shared_from_this(), with_body](std::string body) {
            self->send("200 OK", "text/plain; version=0.0.4; charset=utf-8", std::move(body),
                       with_body);
        });
    }

    void send(std::string_view status, std::string_view content_type, std::string body,
              bool with_body) {
        out_ =
            "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: " + std::string(content_type) +
            "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
        // Head and body as two buffers: a body of megabytes is not copied.
        if (with_body) body_ = std::move(body);
        arm_timeout();
        auto self = shared_from_this();
        const std::array buffers{boost::asio::buffer(out_), boost::asio::buffer(body_)};
        boost::asio::async_write(
            socket_, buffers, [self](const boost::system::error_code&, std::size_t) {
                boost::system::error_code ignored;
                self->socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
                self->socket_.close(ignored);
                self->timer_.cancel();
            });
    }

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    std::shared_ptr<HttpExporter::AsyncRender> render_;
    boost::asio::streambuf buffer_;
    std::string out_;
    std::string body_;
};

}  // namespace

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return {buffer.data(), result.ptr};
}

std::string escape_label_value(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

void Writer::family(std::string_view name, Type type, std::string_view help) {
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    text_ += escape_help(help);
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type_name(type);
    text_ += '\n';
}

void Writer::sample(std::string_view name, const std::vector<Label>& labels, double value) {
    text_ += name;
    if (!labels.empty()) {
        text_ += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (i != 0) text_ += ',';
            text_ += labels[i].name;
            text_ += "=\"";
            text_ += escape_label_value(labels[i].value);
            text_ += '"';
        }
        text_ += '}';
    }
    text_ += ' ';
    text_ += format_value(value);
    text_ += '\n';
}

std::optional<RequestLine> parse_request_line(std::string_view line) {
    const auto first_space = line.find(' ');
    if (first_space == std::string_view::npos || first_space == 0) return std::nullopt;
    const auto second_space = line.find(' ', first_space + 1);
    if (second_space == std::string_view::npos || second_space == first_space + 1) {
        return std::nullopt;
    }
    const auto method = line.substr(0, first_space);
    const auto target = line.substr(first_space + 1, second_space - first_space - 1);
    const auto version = line.substr(second_space + 1);
    for (char c : method) {
        if (c < 'A' || c > 'Z') return std::nullopt;
    }
    for (char c : target) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
        version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
        return std::nullopt;
    }
    return RequestLine{std::string(method), std::string(target)};
}

HttpExporter::HttpExporter(boost::asio::io_context& io,
                           const boost::asio::ip::tcp::endpoint& endpoint, Render render)
    : HttpExporter(
          io, endpoint,
          AsyncRender([render = std::move(render)](const std::function<void(std::string)>& done) {
              done(render());
          })) {}

HttpExporter::HttpExporter(boost::asio::io_context& io,
                           const boost::asio::ip::tcp::endpoint& endpoint, AsyncRender render)
    : acceptor_(io), render_(std::make_shared<AsyncRender>(std::move(render))) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(boost::asio::ip::tcp::acceptor::reuse_address(true));
    if (endpoint.address().is_v6()) acceptor_.set_option(boost::asio::ip::v6_only(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    accept();
}

HttpExporter::~HttpExporter() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

std::uint16_t HttpExporter::port() const {
    return acceptor_.local_endpoint().port();
}

void HttpExporter::accept() {
    acceptor_.async_accept(
        [this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
            if (ec == boost::asio::error::operation_aborted) return;
            if (!ec) std::make_shared<Connection>(std::move(socket), render_)->start();
            accept();
        });
}

}  // namespace ipvsctl::metrics
