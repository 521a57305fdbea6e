// SPDX-License-Identifier: GPL-2.0-or-later
#include "metrics/metrics.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <thread>

using namespace ipvsctl::metrics;

TEST_CASE("writer produces the text exposition format") {
    Writer writer;
    writer.family("vrrp_state", Type::gauge, "State: 0 init, 1 backup, 2 master.\nSecond line \\");
    writer.sample("vrrp_state", {{"instance", "VI_1"}}, 2);
    writer.family("vrrp_adverts_total", Type::counter, "Adverts sent.");
    writer.sample("vrrp_adverts_total", {{"instance", "a\"b\\c\nd"}, {"dir", "tx"}}, 12345678901.0);
    writer.sample("up", 1);
    CHECK(writer.text() ==
          "# HELP vrrp_state State: 0 init, 1 backup, 2 master.\\nSecond line \\\\\n"
          "# TYPE vrrp_state gauge\n"
          "vrrp_state{instance=\"VI_1\"} 2\n"
          "# HELP vrrp_adverts_total Adverts sent.\n"
          "# TYPE vrrp_adverts_total counter\n"
          "vrrp_adverts_total{instance=\"a\\\"b\\\\c\\nd\",dir=\"tx\"} 12345678901\n"
          "up 1\n");
}

TEST_CASE("values print as Prometheus reads them") {
    CHECK(format_value(0) == "0");
    CHECK(format_value(0.25) == "0.25");
    CHECK(format_value(-3) == "-3");
    CHECK(format_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
    CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
    CHECK(std::stod(format_value(0.1 + 0.2)) == 0.1 + 0.2);
}

TEST_CASE("request lines are parsed strictly") {
    auto get = parse_request_line("GET /metrics HTTP/1.1");
    REQUIRE(get);
    CHECK(get->method == "GET");
    CHECK(get->target == "/metrics");
    CHECK_FALSE(parse_request_line(""));
    CHECK_FALSE(parse_request_line("GET /metrics"));
    CHECK_FALSE(parse_request_line("GET  HTTP/1.1"));
    CHECK_FALSE(parse_request_line("get /metrics HTTP/1.1"));
    CHECK_FALSE(parse_request_line("GET /metrics HTTP/1.10"));
    CHECK_FALSE(parse_request_line("GET /me\ttrics HTTP/1.1"));
    CHECK_FALSE(parse_request_line(" /metrics HTTP/1.1"));
}

namespace {

/// Sends `request` to the exporter on 127.0.0.1 and returns the whole reply.
std::string fetch(std::uint16_t port, const std::string& request) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    boost::asio::write(socket, boost::asio::buffer(request));
    std::string reply;
    boost::system::error_code ec;
    boost::asio::read(socket, boost::asio::dynamic_buffer(reply), ec);
    return reply;
}

}  // namespace

TEST_CASE("the exporter serves /metrics and refuses everything else") {
    boost::asio::io_context io;
    int renders = 0;
    HttpExporter exporter(io, {boost::asio::ip::make_address("127.0.0.1"), 0}, [&renders] {
        ++renders;
        Writer writer;
        writer.family("scrapes", Type::counter, "Scrapes served.");
        writer.sample("scrapes", renders);
        return writer.text();
    });
    const auto port = exporter.port();
    REQUIRE(port != 0);
    std::thread server([&io] { io.run_for(std::chrono::seconds(10)); });

    const auto ok = fetch(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto again = fetch(port, "GET /metrics HTTP/1.0\r\n\r\n");
    const auto missing = fetch(port, "GET / HTTP/1.1\r\n\r\n");
    const auto post = fetch(port, "POST /metrics HTTP/1.1\r\n\r\n");
    const auto garbage = fetch(port, "hello\r\n\r\n");
    io.stop();
    server.join();

    CHECK(ok.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(ok.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
    CHECK(ok.find("\r\n\r\n# HELP scrapes Scrapes served.\n# TYPE scrapes counter\nscrapes 1\n") !=
          std::string::npos);
    CHECK(again.find("\nscrapes 2\n") != std::string::npos);
    CHECK(missing.rfind("HTTP/1.1 404 ", 0) == 0);
    CHECK(post.rfind("HTTP/1.1 405 ", 0) == 0);
    CHECK(garbage.rfind("HTTP/1.1 400 ", 0) == 0);
    CHECK(renders == 2);
}

TEST_CASE("the exporter answers when an asynchronous render is done") {
    boost::asio::io_context io;
    int renders = 0;
    // Renders in three handlers posted one after the other, as a sliced render does.
    HttpExporter exporter(
        io, {boost::asio::ip::make_address("127.0.0.1"), 0},
        HttpExporter::AsyncRender([&](std::function<void(std::string)> done) {
            ++renders;
            auto text = std::make_shared<std::string>("# HELP big Big.\n# TYPE big gauge\n");
            boost::asio::post(io, [&io, text, done = std::move(done)] {
                // A body of megabytes goes out whole.
                for (int i = 0; i < 100'000; ++i)
                    *text += "big{i=\"" + std::to_string(i) + "\"} 1\n";
                boost::asio::post(io, [text, done] { done(std::move(*text)); });
            });
        }));
    std::thread server([&io] { io.run_for(std::chrono::seconds(10)); });
    const auto ok = fetch(exporter.port(), "GET /metrics HTTP/1.1\r\n\r\n");
    const auto head = fetch(exporter.port(), "HEAD /metrics HTTP/1.1\r\n\r\n");
    io.stop();
    server.join();

    REQUIRE(ok.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    const auto body = ok.substr(ok.find("\r\n\r\n") + 4);
    CHECK(ok.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
    CHECK(body.size() > 1'000'000);
    CHECK(body.rfind("# HELP big Big.\n", 0) == 0);
    const std::string last = "big{i=\"99999\"} 1\n";
    CHECK(body.find(last) == body.size() - last.size());
    CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(head.find("\r\n\r\n") == head.size() - 4);  // HEAD: no body
    CHECK(renders == 2);
}
