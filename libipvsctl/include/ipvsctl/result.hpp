// SPDX-License-Identifier: LGPL-2.1-or-later
// Errors as values: every fallible library call returns Result<T>.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace ipvsctl {

/// What went wrong: the errno (0 when the failure is not a system error),
/// the operation that was attempted, the object it was about and a sentence
/// a user can act on.
struct Error {
    int errnum = 0;
    std::string operation;  ///< e.g. "add service"
    std::string object;     ///< e.g. "TCP 10.0.0.1:80"
    std::string detail;     ///< human readable reason
    /// Index of the failing request inside a batch, when there was a batch.
    std::optional<std::size_t> request_index;

    /// "add service TCP 10.0.0.1:80: service already exists"
    [[nodiscard]] std::string message() const;
};

/// Builds an Error from an errno, using the kernel's IPVS meaning of that
/// errno for the given operation when one is known.
Error make_error(int errnum, std::string operation, std::string object, std::string detail = {});

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
    Result(Error error) : state_(std::move(error)) {}

    [[nodiscard]] bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    // Rvalues hand out their value, so `for (x : *f())` never dangles.
    T value() && { return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    [[nodiscard]] const Error& error() const { return std::get<1>(state_); }
    Error&& take_error() && { return std::get<1>(std::move(state_)); }

  private:
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

    [[nodiscard]] bool ok() const { return !error_.has_value(); }
    explicit operator bool() const { return ok(); }
    [[nodiscard]] const Error& error() const { return *error_; }
    Error&& take_error() && { return std::move(*error_); }

  private:
    std::optional<Error> error_;
};

}  // namespace ipvsctl
