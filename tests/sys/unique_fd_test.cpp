// SPDX-License-Identifier: GPL-2.0-or-later
#include "sys/unique_fd.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <utility>

using ipvsctl::sys::UniqueFd;

namespace {

bool is_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1;
}

int open_null() {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    return fd;
}

}  // namespace

TEST_CASE("UniqueFd closes what it owns, once") {
    const int raw = open_null();
    {
        UniqueFd fd(raw);
        CHECK(fd.valid());
        CHECK(fd.get() == raw);
        CHECK(is_open(raw));
    }
    CHECK_FALSE(is_open(raw));

    UniqueFd none;
    CHECK_FALSE(none.valid());
    CHECK(none.get() == -1);
    UniqueFd failed(::open("/nonexistent/x", O_RDONLY));
    CHECK_FALSE(failed.valid());
}

TEST_CASE("UniqueFd moves ownership; release gives it up; reset replaces it") {
    const int first = open_null();
    const int second = open_null();
    UniqueFd a(first);
    UniqueFd b(std::move(a));
    CHECK(b.get() == first);
    CHECK(a.get() == -1);  // NOLINT(bugprone-use-after-move): moved-from state is defined
    UniqueFd c(second);
    c = std::move(b);  // closes `second`, takes `first`
    CHECK_FALSE(is_open(second));
    CHECK(c.get() == first);
    CHECK(is_open(first));

    const int released = c.release();
    CHECK(released == first);
    CHECK_FALSE(c.valid());
    CHECK(is_open(first));  // released: still open
    c.reset(released);
    c.reset(released);  // the same descriptor again is not closed
    CHECK(is_open(first));
    c.reset();
    CHECK_FALSE(is_open(first));
}
