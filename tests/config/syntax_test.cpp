// SPDX-License-Identifier: GPL-2.0-or-later
// The untyped layer: comments, quotes, blocks, includes, conditionals, parameters.
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "config/address.hpp"
#include "config/syntax.hpp"
#include "helpers.hpp"

using namespace config_test;
using ipvsctl::config::Diagnostics;
using ipvsctl::config::ReadOptions;
using ipvsctl::config::Token;

namespace {

std::vector<Token> lex(std::string_view text, Diagnostics& diagnostics) {
    ReadOptions options;
    options.config_id = "lb1";
    return ipvsctl::config::read_tokens_from_text(text, kFile, options, diagnostics);
}

std::vector<std::string> words(std::string_view text) {
    Diagnostics diagnostics;
    std::vector<std::string> out;
    for (const auto& token : lex(text, diagnostics)) out.push_back(token.text);
    for (const auto& d : diagnostics.all()) out.push_back("DIAG " + d.to_string());
    return out;
}

/// A temporary directory removed at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "ipvsctl-config-XXXXXX").string();
        path = mkdtemp(pattern.data());
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    void write(const std::string& name, const std::string& text) const {
        std::filesystem::create_directories((path / name).parent_path());
        std::ofstream(path / name) << text;
    }
};

}  // namespace

TEST_CASE("comments start with # or ! outside quotes", "[syntax]") {
    CHECK(words("a b # c\nd ! e\n") == std::vector<std::string>{"a", "b", "d"});
    CHECK(words("script \"kill -0 x # not a comment\"\n") ==
          std::vector<std::string>{"script", "kill -0 x # not a comment"});
    CHECK(words("x '!bang'\n") == std::vector<std::string>{"x", "!bang"});
}

TEST_CASE("lines end at \\n or \\r\\n; what follows the last line end is no line", "[syntax]") {
    const auto lines = [](std::string_view text) {
        Diagnostics diagnostics;
        std::vector<std::string> out;
        for (const auto& token : lex(text, diagnostics))
            out.push_back(token.text + "@" + std::to_string(token.where.line));
        return out;
    };
    CHECK(lines("a\r\nb\r\n\r\nc") == std::vector<std::string>{"a@1", "b@2", "c@4"});
    CHECK(lines("a\n\n\nb\n") == std::vector<std::string>{"a@1", "b@4"});
    CHECK(lines("a\r").size() == 1);
    CHECK(lines("\n\r").empty());
    CHECK(lines("").empty());
    CHECK(words("x \"abc\r\ny\n") ==
          std::vector<std::string>{"x", "abc", "y",
                                   "DIAG test.conf:1:3: unterminated quoted string"});
}

TEST_CASE("quoted parts join the word they touch", "[syntax]") {
    CHECK(words("abcd\" efg h jkl \"mnop\n") == std::vector<std::string>{"abcd efg h jkl mnop"});
    CHECK(words("abcd \"efg h jkl\" mnop\n") ==
          std::vector<std::string>{"abcd", "efg h jkl", "mnop"});
}

TEST_CASE("escapes inside quotes follow keepalived.conf(5)", "[syntax]") {
    CHECK(words(R"("a\tb" "\x41\102" "\\" "\"" "\cA")") ==
          std::vector<std::string>{"a\tb", "AB", "\\", "\"", "\x01"});
}

TEST_CASE("an unterminated quote is an error at the quote", "[syntax]") {
    CHECK(words("x \"abc\n") ==
          std::vector<std::string>{"x", "abc", "DIAG test.conf:1:3: unterminated quoted string"});
}

TEST_CASE("braces are tokens even when they touch words", "[syntax]") {
    CHECK(words("a{b}c\n") == std::vector<std::string>{"a", "{", "b", "}", "c"});
    Diagnostics diagnostics;
    const auto tokens = lex("x \"{\"\n", diagnostics);
    REQUIRE(tokens.size() == 2);
    CHECK_FALSE(tokens[1].is_open());
}

TEST_CASE("tokens carry file, line and column", "[syntax]") {
    Diagnostics diagnostics;
    const auto tokens = lex("\n  alpha\tbeta\n", diagnostics);
    REQUIRE(tokens.size() == 2);
    CHECK(tokens[0].where.to_string() == "test.conf:2:3");
    CHECK(tokens[1].where.to_string() == "test.conf:2:9");
}

TEST_CASE("blocks: same line, next line, one line", "[syntax]") {
    const auto result = parse(R"(global_defs
{
    router_id a
}
vrrp_script s { script "/bin/true" }
)");
    INFO(joined(result));
    REQUIRE(result.ok());
    CHECK(result.config->global_defs.router_id == "a");
    CHECK(result.config->vrrp_scripts.at(0).script == "/bin/true");
}

TEST_CASE("unbalanced braces are reported where they are", "[syntax]") {
    CHECK(messages(parse("global_defs {\n  router_id a\n")) ==
          std::vector<std::string>{"test.conf:1:13: this '{' is never closed (missing '}')"});
    CHECK(messages(parse("}\n")) ==
          std::vector<std::string>{"test.conf:1:1: unexpected '}' without a matching '{'"});
    CHECK(messages(parse("global_defs {\n}\n{\n}\n")) ==
          std::vector<std::string>{"test.conf:3:1: unexpected '{' without a keyword before it"});
}

TEST_CASE("deep nesting is refused, not recursed into", "[syntax]") {
    std::string text;
    for (int i = 0; i < 100; ++i) text += "a {\n";
    for (int i = 0; i < 100; ++i) text += "}\n";
    const auto result = parse(text);
    CHECK_FALSE(result.ok());
    CHECK(joined(result).find("blocks nested more than 32 deep") != std::string::npos);
}

TEST_CASE("conditional lines match the config id", "[syntax]") {
    CHECK(words("@lb1 a\n@lb2 b\n@^lb1 c\n@^lb2 d\n") == std::vector<std::string>{"a", "d"});
    CHECK(words("@ a\n") ==
          std::vector<std::string>{
              "DIAG test.conf:1:1: a conditional line needs a config id right after '@'"});
}

TEST_CASE("parameters: definition, substitution, recursion at use time", "[syntax]") {
    CHECK(words("$A=1\nx $A\ny ${A}0\n") == std::vector<std::string>{"x", "1", "y", "10"});
    CHECK(words("$BASE=10.2.${SUB}\n$SUB=0\n${BASE}.100/32\n$SUB=10\n${BASE}.100/32\n") ==
          std::vector<std::string>{"10.2.0.100/32", "10.2.10.100/32"});
    // Undefined parameters and $ not followed by a space stay as written.
    CHECK(words("x ${UNDEF} $HOME \"$1\"\n") ==
          std::vector<std::string>{"x", "${UNDEF}", "$HOME", "$1"});
    // Empty values are allowed.
    CHECK(words("$E=\nx $E y\n") == std::vector<std::string>{"x", "y"});
    CHECK(words("x ${_HASH} ${_BANG}\n") == std::vector<std::string>{"x", "#", "!"});
}

TEST_CASE("parameters combine with conditionals", "[syntax]") {
    CHECK(words("@lb1 $P=240\n@lb2 $P=200\npriority $P\n") ==
          std::vector<std::string>{"priority", "240"});
    CHECK(words("$IF=@lb1\n$IF x\n$NOT=@lb2\n$NOT y\n") == std::vector<std::string>{"x"});
}

TEST_CASE("multi-line parameters expand into lines", "[syntax]") {
    const auto text = R"($RS= \
    real_server 10.0.1.${N} 80 { \
        weight ${N} \
    }
$N=1
$RS
$N=2
$RS
)";
    CHECK(words(text) == std::vector<std::string>{"real_server", "10.0.1.1", "80", "{", "weight",
                                                  "1", "}", "real_server", "10.0.1.2", "80", "{",
                                                  "weight", "2", "}"});
}

TEST_CASE("self-referential parameters stop with an error", "[syntax]") {
    const auto out = words("$A=x${A}\ny ${A}\n");
    REQUIRE(!out.empty());
    CHECK(out.back() ==
          "DIAG test.conf:2:3: parameter substitution does not end (does a definition refer to "
          "itself?)");
}

TEST_CASE("nested multi-line parameters cannot expand without bound", "[syntax]") {
    // Each level doubles the lines: 2^30 lines unless the reader stops it.
    std::string text = "$L0= \\\n    x\n";
    for (int i = 1; i <= 30; ++i) {
        const auto prev = "$L" + std::to_string(i - 1);
        text += "$L" + std::to_string(i) + "= \\\n    " + prev + " \\\n    " + prev + "\n";
    }
    text += "$L30\n";
    const auto result = parse(text);
    CHECK(joined(result).find("multi-line parameters expand to more than 100000 lines") !=
          std::string::npos);
}

TEST_CASE("~SEQ and ~LST are reported as not implemented", "[syntax]") {
    CHECK(words("~SEQ(i, 1, 3) x\n") ==
          std::vector<std::string>{"DIAG test.conf:1:1: '~SEQ' lines are a keepalived feature "
                                   "ipvsctl does not implement yet"});
}

TEST_CASE("include: globs relative to the including file, in sorted order", "[syntax]") {
    TempDir dir;
    dir.write("main.conf", "global_defs {\n  router_id main\n}\ninclude conf.d/*.conf\n");
    dir.write("conf.d/20-b.conf", "vrrp_script b {\n  script /bin/b\n}\n");
    dir.write("conf.d/10-a.conf", "include ../scripts/a.inc\n");
    dir.write("scripts/a.inc", "vrrp_script a {\n  script ${_PWD}/a\n}\n");
    const auto result = ipvsctl::config::load_config(dir.path / "main.conf");
    INFO(joined(result));
    REQUIRE(result.ok());
    REQUIRE(result.config->vrrp_scripts.size() == 2);
    CHECK(result.config->vrrp_scripts[0].name == "a");
    CHECK(result.config->vrrp_scripts[0].script ==
          (dir.path / "conf.d/../scripts").string() + "/a");
    CHECK(result.config->vrrp_scripts[1].name == "b");
}

TEST_CASE("include: errors name the included file and line", "[syntax]") {
    TempDir dir;
    dir.write("main.conf", "include missing.conf\ninclude nothing/*.conf\ninclude bad.conf\n");
    dir.write("bad.conf", "\npriority 5\n");
    const auto result = ipvsctl::config::load_config(dir.path / "main.conf");
    const auto main = (dir.path / "main.conf").string();
    const auto bad = (dir.path / "bad.conf").string();
    CHECK(messages(result) ==
          std::vector<std::string>{
              main + ":1:1: include 'missing.conf' matches no file",
              bad + ":2:1: 'priority' is not valid in the top level; it belongs in vrrp_instance"});
}

TEST_CASE("include: a file including itself stops", "[syntax]") {
    TempDir dir;
    dir.write("loop.conf", "include loop.conf\n");
    const auto result = ipvsctl::config::load_config(dir.path / "loop.conf");
    CHECK_FALSE(result.ok());
    CHECK(joined(result).find("includes nested more than 32 deep") != std::string::npos);
}

TEST_CASE("include can be disabled", "[syntax]") {
    ipvsctl::config::LoadOptions options;
    options.allow_include = false;
    const auto result = ipvsctl::config::parse_config("include /etc/passwd\n", kFile, options);
    CHECK(messages(result) == std::vector<std::string>{"test.conf:1:1: include is disabled here"});
}

TEST_CASE("a missing file is an error, not an exception", "[syntax]") {
    const auto result = ipvsctl::config::load_config("/nonexistent/ipvsctl.conf");
    CHECK(messages(result) ==
          std::vector<std::string>{"/nonexistent/ipvsctl.conf:1:1: cannot open "
                                   "'/nonexistent/ipvsctl.conf': No such file or directory"});
}

TEST_CASE("a file is read whole: regular, empty, or not regular (a pipe)", "[syntax]") {
    TempDir dir;
    // Larger than any one read() of a pipe, with a last line that ends at
    // the file's end.
    std::string text = "global_defs {\n  router_id big\n}\n";
    for (int i = 0; i < 2000; ++i)
        text += "vrrp_script s" + std::to_string(i) + " {\n  script /bin/s" + std::to_string(i) +
                "\n}\n";
    dir.write("big.conf", text);
    const auto regular = ipvsctl::config::load_config(dir.path / "big.conf");
    INFO(joined(regular));
    REQUIRE(regular.ok());
    REQUIRE(regular.config->vrrp_scripts.size() == 2000);
    CHECK(regular.config->vrrp_scripts.back().script == "/bin/s1999");

    dir.write("empty.conf", "");
    CHECK(ipvsctl::config::load_config(dir.path / "empty.conf").ok());

    const auto fifo = dir.path / "pipe.conf";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::thread writer([&] { std::ofstream(fifo) << text; });
    const auto piped = ipvsctl::config::load_config(fifo);
    writer.join();
    INFO(joined(piped));
    REQUIRE(piped.ok());
    CHECK(piped.config->vrrp_scripts.size() == 2000);
}

TEST_CASE("IPv4 addresses format as dotted quads, as inet_ntop does", "[syntax]") {
    for (const unsigned first : {0U, 1U, 9U, 10U, 99U, 100U, 199U, 200U, 255U}) {
        for (unsigned octet = 0; octet < 256; ++octet) {
            ipvsctl::config::IpAddress address;
            address.family = ipvsctl::config::AddressFamily::inet;
            address.bytes[0] = static_cast<std::uint8_t>(first);
            address.bytes[1] = static_cast<std::uint8_t>(octet);
            address.bytes[2] = static_cast<std::uint8_t>(255 - octet);
            address.bytes[3] = static_cast<std::uint8_t>(octet * 7);
            char expected[INET_ADDRSTRLEN] = {};
            ::inet_ntop(AF_INET, address.bytes.data(), expected, sizeof expected);
            REQUIRE(address.to_string() == expected);
        }
    }
    const auto v6 = ipvsctl::config::IpAddress::parse("2001:db8::10");
    REQUIRE(v6);
    CHECK(v6->to_string() == "2001:db8::10");
}
