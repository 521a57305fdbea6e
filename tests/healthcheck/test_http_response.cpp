// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch.hpp>

#include "healthcheck/http_response.hpp"

using namespace ipvsctl::healthcheck::http;

TEST_CASE("content-length body", "[http]") {
    const std::string text =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    const auto result = parse_response(text, false);
    REQUIRE(result.status == ParseStatus::complete);
    CHECK(result.response.version_major == 1);
    CHECK(result.response.version_minor == 1);
    CHECK(result.response.status == 200);
    CHECK(result.response.reason == "OK");
    CHECK(result.response.body == "hello");
    CHECK(result.response.header("content-type") == "text/plain");
    CHECK_FALSE(result.response.header("X-Missing"));
}

TEST_CASE("every prefix of a response is incomplete, never invalid", "[http]") {
    const std::string text =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n"
        "0\r\nX-Trailer: yes\r\n\r\n";
    for (std::size_t n = 0; n < text.size(); ++n) {
        INFO("prefix " << n);
        CHECK(parse_response(std::string_view(text).substr(0, n), false).status ==
              ParseStatus::incomplete);
    }
    const auto result = parse_response(text, false);
    REQUIRE(result.status == ParseStatus::complete);
    CHECK(result.response.body == "Wikipedia");
}

TEST_CASE("body to end of connection without framing (HTTP/1.0)", "[http]") {
    const std::string text = "HTTP/1.0 503 Service Unavailable\nServer: x\n\nbusy\n";
    CHECK(parse_response(text, false).status == ParseStatus::incomplete);
    const auto result = parse_response(text, true);
    REQUIRE(result.status == ParseStatus::complete);
    CHECK(result.response.status == 503);
    CHECK(result.response.version_minor == 0);
    CHECK(result.response.body == "busy\n");
}

TEST_CASE("responses without a body", "[http]") {
    CHECK(parse_response("HTTP/1.1 204 No Content\r\n\r\n", false).status == ParseStatus::complete);
    CHECK(parse_response("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false).status ==
          ParseStatus::complete);
    const auto bare = parse_response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", false);
    REQUIRE(bare.status == ParseStatus::complete);
    CHECK(bare.response.reason.empty());
}

TEST_CASE("malformed responses are invalid with a reason", "[http]") {
    const char* cases[] = {
        "SSH-2.0-OpenSSH_9.2\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
    };
    for (const char* text : cases) {
        INFO(text);
        const auto result = parse_response(std::string_view(text), false);
        CHECK(result.status == ParseStatus::invalid);
        CHECK_FALSE(result.error.empty());
    }
}

TEST_CASE("a closed connection completes or breaks a response", "[http]") {
    CHECK(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true).status ==
          ParseStatus::invalid);
    CHECK(parse_response("HTTP/1.1 200 OK\r\n", true).status == ParseStatus::invalid);
    CHECK(parse_response("", true).status == ParseStatus::invalid);
}

TEST_CASE("limits bound the header and the body", "[http]") {
    ParseLimits limits;
    limits.max_header_bytes = 64;
    limits.max_body_bytes = 4;
    const std::string long_header = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a');
    CHECK(parse_response(long_header, false, limits).status == ParseStatus::invalid);
    CHECK(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, limits).status ==
          ParseStatus::invalid);
    CHECK(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "ffffffffffffffffff\r\n",
                         false, limits)
              .status == ParseStatus::invalid);
}

TEST_CASE("status ranges default to 2xx", "[http]") {
    CHECK(status_accepted(200, {}));
    CHECK(status_accepted(299, {}));
    CHECK_FALSE(status_accepted(301, {}));
    const std::vector<std::pair<int, int>> ranges{{200, 200}, {300, 302}};
    CHECK(status_accepted(301, ranges));
    CHECK_FALSE(status_accepted(204, ranges));
}

TEST_CASE("GET requests per protocol", "[http]") {
    CHECK(build_get_request("/healthz", "www.example.com", "1.0") ==
          "GET /healthz HTTP/1.0\r\nUser-Agent: healthcheckd\r\nHost: www.example.com\r\n\r\n");
    CHECK(build_get_request("/", "h", "1.0C").find("Connection: close\r\n") != std::string::npos);
    const auto v11 = build_get_request("", "h", "1.1");
    CHECK(v11.rfind("GET / HTTP/1.1\r\n", 0) == 0);
    CHECK(v11.find("Connection: close\r\n") != std::string::npos);
    const auto kept = build_get_request("/", "h", "1.1", true);
    CHECK(kept.rfind("GET / HTTP/1.1\r\n", 0) == 0);
    CHECK(kept.find("Connection") == std::string::npos);
}

TEST_CASE("a connection is reusable after a framed HTTP/1.1 reply", "[http][reuse]") {
    const auto reusable = [](const std::string& head, bool at_eof = false) {
        const auto result = parse_response(head, at_eof);
        REQUIRE(result.status == ParseStatus::complete);
        return connection_reusable(result.response);
    };
    CHECK(reusable("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    CHECK(reusable("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"));
    CHECK(reusable("HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"));
    // The server says it closes, or the close is the body's end, or HTTP/1.0.
    CHECK_FALSE(reusable("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"));
    CHECK_FALSE(
        reusable("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n"));
    CHECK_FALSE(reusable("HTTP/1.1 200 OK\r\n\r\nok", true));
    CHECK_FALSE(reusable("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"));
}

TEST_CASE("genhash-compatible digest: MD5 of the body in lowercase hex", "[http][digest]") {
    CHECK(body_digest("") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(body_digest("The quick brown fox jumps over the lazy dog") ==
          "9e107d9d372bb6826bd81d3542a419d6");
    CHECK(digest_matches("9E107D9D372BB6826BD81D3542A419D6 ", "9e107d9d372bb6826bd81d3542a419d6"));
    CHECK_FALSE(digest_matches("00", "9e107d9d372bb6826bd81d3542a419d6"));
    // The digest is over the de-chunked body, as genhash hashes it.
    const auto chunked = parse_response(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nThe\r\n0\r\n\r\n", false);
    REQUIRE(chunked.status == ParseStatus::complete);
    CHECK(body_digest(chunked.response.body) == body_digest("The"));
}
