// SPDX-License-Identifier: GPL-2.0-or-later
#include "control/server.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

using boost::asio::local::stream_protocol;
using ipvsctl::control::answer;
using ipvsctl::control::kMaxRequestBytes;
using ipvsctl::control::Server;
using nlohmann::json;

namespace {

/// Echoes the command back; "throw" makes it use a request field the wrong way.
json echo(const json& request) {
    const auto command = request.value("command", std::string());
    if (command == "throw") return {{"ok", true}, {"n", request.at("n").get<int>()}};
    if (command == "bytes") return {{"ok", true}, {"name", std::string("a\xff")}};
    return {{"ok", true}, {"command", command}};
}

/// A fresh directory under /tmp, removed with its contents at scope exit.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "ctl-test.XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

/// Runs the server's io_context on its own thread for the test's lifetime.
struct Running {
    boost::asio::io_context& io;
    std::thread thread;
    explicit Running(boost::asio::io_context& context)
        : io(context), thread([this] { io.run_for(std::chrono::seconds(20)); }) {}
    ~Running() {
        io.stop();
        thread.join();
    }
};

}  // namespace

TEST_CASE("answer: JSON objects go to the handler, everything else is refused") {
    CHECK(json::parse(answer(echo, "{\"command\":\"status\"}\n")) ==
          json{{"ok", true}, {"command", "status"}});
    CHECK(json::parse(answer(echo, "{\"command\":\"x\"}")) == json{{"ok", true}, {"command", "x"}});

    for (const char* not_object : {"[1,2]\n", "3\n", "\"status\"\n", "null\n"}) {
        INFO(not_object);
        CHECK(json::parse(answer(echo, not_object)) ==
              json{{"ok", false}, {"error", "request is not a JSON object"}});
    }
    for (const char* not_json : {"{\"command\":\n", "status\n", "\n", ""}) {
        INFO(not_json);
        const auto reply = json::parse(answer(echo, not_json));
        CHECK(reply["ok"] == false);
        CHECK(reply["error"].get<std::string>().rfind("bad request: ", 0) == 0);
        CHECK(reply["error"].get<std::string>().find("parse error") != std::string::npos);
    }
}

TEST_CASE("answer: a handler's JSON type errors become a refusal, not a crash") {
    const auto wrong_type = json::parse(answer(echo, R"({"command": 5})"));
    CHECK(wrong_type["ok"] == false);
    CHECK(wrong_type["error"].get<std::string>().rfind("bad request: ", 0) == 0);
    const auto missing = json::parse(answer(echo, R"({"command": "throw"})"));
    CHECK(missing["ok"] == false);
    CHECK(missing["error"].get<std::string>().find("key 'n' not found") != std::string::npos);
}

TEST_CASE("answer: bytes that are not UTF-8 are replaced, the reply is one line") {
    const auto text = answer(echo, R"({"command": "bytes"})");
    CHECK(text.find('\n') == std::string::npos);
    CHECK(json::parse(text)["name"] == "a\xEF\xBF\xBD");
}

TEST_CASE("server: a real Unix socket answers line by line and cleans up") {
    TempDir dir;
    const auto path = (dir.path / "sub" / "d.sock").string();
    std::filesystem::create_directories(dir.path / "sub");
    std::ofstream(path) << "stale";  // a leftover file is replaced

    boost::asio::io_context io;
    {
        Server server(io, path, echo);
        CHECK(server.path() == path);
        struct stat st {};
        REQUIRE(::stat(path.c_str(), &st) == 0);
        CHECK(S_ISSOCK(st.st_mode));
        CHECK((st.st_mode & 0777) == 0660);
        Running running(io);

        boost::asio::io_context client_io;
        stream_protocol::socket client(client_io);
        client.connect(stream_protocol::endpoint(path));
        // Two requests in one write, then a third: three replies, in order.
        boost::asio::write(
            client,
            boost::asio::buffer(std::string("{\"command\":\"a\"}\n[1]\n{\"command\":\"c\"}\n")));
        boost::asio::streambuf in;
        std::istream lines(&in);
        std::string line;
        for (const char* expected : {R"({"command":"a","ok":true})",
                                     R"({"error":"request is not a JSON object","ok":false})",
                                     R"({"command":"c","ok":true})"}) {
            boost::asio::read_until(client, in, '\n');
            std::getline(lines, line);
            CHECK(line == expected);
        }

        // A line longer than the limit, with no newline in it: the connection closes.
        stream_protocol::socket flooder(client_io);
        flooder.connect(stream_protocol::endpoint(path));
        boost::system::error_code ec;
        boost::asio::write(flooder, boost::asio::buffer(std::string(kMaxRequestBytes + 10, ' ')),
                           ec);
        std::string rest;
        boost::asio::read(flooder, boost::asio::dynamic_buffer(rest), ec);
        // Closed with the client's bytes unread: end of file or a reset, never a reply.
        CHECK((ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset));
        CHECK(rest.empty());

        // The first client is still served.
        boost::asio::write(client, boost::asio::buffer(std::string("{}\n")));
        boost::asio::read_until(client, in, '\n');
        std::getline(lines, line);
        CHECK(line == R"({"command":"","ok":true})");
    }
    CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("server: a path it cannot bind throws, naming the path") {
    TempDir dir;
    boost::asio::io_context io;
    // A socket path longer than sockaddr_un allows.
    const auto too_long = (dir.path / std::string(200, 'x')).string();
    try {
        Server server(io, too_long, echo);
        FAIL("no exception");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).rfind("control socket " + too_long + ": ", 0) == 0);
    }
    // A directory where the socket's directory should be is a file.
    std::ofstream(dir.path / "file") << "x";
    const auto under_file = (dir.path / "file" / "d.sock").string();
    CHECK_THROWS_WITH(Server(io, under_file, echo),
                      Catch::StartsWith("control socket " + under_file + ": "));
}
