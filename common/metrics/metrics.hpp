// SPDX-License-Identifier: GPL-2.0-or-later
// Prometheus text exposition (format 0.0.4) for the daemons' opt-in metrics:
// a Writer that builds the text and an HttpExporter that serves it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipvsctl::metrics {

struct Label {
    std::string name;
    std::string value;
};

enum class Type { gauge, counter };

/// Builds one exposition. Declare a family once, then add its samples.
class Writer {
  public:
    void family(std::string_view name, Type type, std::string_view help);
    void sample(std::string_view name, const std::vector<Label>& labels, double value);
    void sample(std::string_view name, double value) { sample(name, {}, value); }

    [[nodiscard]] const std::string& text() const { return text_; }
    /// Room for `bytes` of text (a render that knows its last size).
    void reserve(std::size_t bytes) { text_.reserve(bytes); }
    /// Hands the text over (the writer is empty after).
    std::string take() { return std::exchange(text_, {}); }

  private:
    std::string text_;
};

/// "1", "0.25", "NaN", "+Inf": the shortest text that reads back to `value`.
std::string format_value(double value);

/// A label value with backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view value);

struct RequestLine {
    std::string method;
    std::string target;
};

/// Parses "METHOD SP TARGET SP HTTP/x.y" (RFC 9112 section 3); nullopt when malformed.
std::optional<RequestLine> parse_request_line(std::string_view line);

/// Serves GET /metrics over HTTP/1.x on one TCP endpoint of the daemon's own
/// io_context, so `render` runs on the daemon's thread and needs no locking.
class HttpExporter {
  public:
    using Render = std::function<std::string()>;
    /// Renders in its own time (in slices on the loop, say) and then calls
    /// its argument with the text, on the loop.
    using AsyncRender = std::function<void(std::function<void(std::string)>)>;

    /// Binds and listens at once; errors throw boost::system::system_error.
    HttpExporter(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
                 Render render);
    HttpExporter(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
                 AsyncRender render);
    ~HttpExporter();
    HttpExporter(const HttpExporter&) = delete;
    HttpExporter& operator=(const HttpExporter&) = delete;

    /// The bound port (useful when constructed with port 0).
    [[nodiscard]] std::uint16_t port() const;

  private:
    void accept();

    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<AsyncRender> render_;
};

}  // namespace ipvsctl::metrics
