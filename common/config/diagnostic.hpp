// SPDX-License-Identifier: GPL-2.0-or-later
// Where a configuration object came from, and what the loader said about it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ipvsctl::config {

/// A position in a configuration file; line and column count from 1.
///
/// Locations never take part in equality: two objects that differ only in
/// where they were written compare equal, so moving a block inside a file is
/// not a change on reload.
/// A configuration file's name, kept once per process: every token, statement
/// and object carries one, and a string copy in each was a large share of the
/// time and memory of loading a file with 200,000 lines.
class FileName {
  public:
    FileName() : name_(&empty()) {}
    FileName(std::string_view name) : name_(&intern(name)) {}                // NOLINT: implicit
    FileName(const std::string& name) : FileName(std::string_view(name)) {}  // NOLINT
    FileName(const char* name) : FileName(std::string_view(name)) {}         // NOLINT

    [[nodiscard]] const std::string& str() const { return *name_; }
    operator const std::string&() const { return *name_; }  // NOLINT: implicit

    friend bool operator==(const FileName& a, const FileName& b) { return a.name_ == b.name_; }
    friend bool operator==(const FileName& a, const std::string& b) { return *a.name_ == b; }
    friend bool operator==(const FileName& a, const char* b) { return *a.name_ == b; }

  private:
    /// The one stored copy of NAME; never freed, the set of file names is small.
    static const std::string& intern(std::string_view name);
    /// intern({}) once: every default-made location (most tokens,
    /// statements and objects start as one) would otherwise take the lock.
    static const std::string& empty() {
        static const std::string& name = intern({});
        return name;
    }
    const std::string* name_;
};

struct SourceLocation {
    FileName file;
    int line = 0;
    int column = 0;

    /// "file:line:col"
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const SourceLocation&, const SourceLocation&) { return true; }
};

enum class Severity { error, warning };

/// One message from the loader, pointing at the text it is about.
struct Diagnostic {
    Severity severity = Severity::error;
    SourceLocation where;
    std::string message;

    /// "file:line:col: message" for errors, "file:line:col: warning: message"
    /// for warnings.
    [[nodiscard]] std::string to_string() const;
};

/// Collects diagnostics while a file is read, parsed and validated.
class Diagnostics {
  public:
    void error(const SourceLocation& where, std::string message);
    void warning(const SourceLocation& where, std::string message);

    [[nodiscard]] bool has_errors() const { return error_count_ > 0; }
    [[nodiscard]] std::size_t error_count() const { return error_count_; }
    [[nodiscard]] const std::vector<Diagnostic>& all() const { return items_; }
    std::vector<Diagnostic> take() { return std::move(items_); }

    /// Upper bound on collected errors; past it further errors are dropped so
    /// a garbage file cannot produce megabytes of output.
    static constexpr std::size_t kMaxErrors = 200;

  private:
    std::vector<Diagnostic> items_;
    std::size_t error_count_ = 0;
};

}  // namespace ipvsctl::config
