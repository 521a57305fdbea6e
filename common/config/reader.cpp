// SPDX-License-Identifier: GPL-2.0-or-later
// Files, comments, includes, conditional lines, parameters and tokens.
#include <fcntl.h>
#include <glob.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "config/syntax.hpp"

namespace ipvsctl::config {

namespace {

std::uint64_t rotl64(std::uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}
std::uint64_t fmix64(std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

}  // namespace

// MurmurHash3 x64-128's structure (public domain; written here, not
// byte-compatible with the reference for the tail). A non-cryptographic
// hash is enough: the configuration file and its includes are written by
// root and trusted, so nobody crafts colliding blocks, and an accidental
// collision of two different texts of the same length at 128 bits is out
// of reach. A reload hashes every self-contained block (the whole 6.7 MB of
// a 37,000-server file), so the cheaper hash is worth it.
BlockReuse::Key BlockReuse::key_of(std::string_view text) {
    constexpr std::uint64_t c1 = 0x87c37b91114253d5ULL;
    constexpr std::uint64_t c2 = 0x4cf5ad432745937fULL;
    std::uint64_t h1 = 0x9e3779b97f4a7c15ULL;
    std::uint64_t h2 = 0x6a09e667f3bcc909ULL;
    const auto mix = [&](std::uint64_t k1, std::uint64_t k2) {
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
    };
    const char* p = text.data();
    std::size_t left = text.size();
    for (; left >= 16; p += 16, left -= 16) {
        std::uint64_t k1;
        std::uint64_t k2;
        std::memcpy(&k1, p, 8);
        std::memcpy(&k2, p + 8, 8);
        mix(k1, k2);
        h1 = rotl64(h1, 27) + h2;
        h1 = h1 * 5 + 0x52dce729;
        h2 = rotl64(h2, 31) + h1;
        h2 = h2 * 5 + 0x38495ab5;
    }
    if (left > 0) {
        unsigned char tail[16] = {};
        std::memcpy(tail, p, left);
        std::uint64_t k1;
        std::uint64_t k2;
        std::memcpy(&k1, tail, 8);
        std::memcpy(&k2, tail + 8, 8);
        mix(k1, k2);
    }
    h1 ^= text.size();
    h2 ^= text.size();
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    Key key;
    key.hash = {h1, h2};
    key.length = text.size();
    return key;
}

namespace {

constexpr int kMaxIncludeDepth = 32;
constexpr int kMaxExpansionDepth = 32;
constexpr int kMaxSubstitutionsPerLine = 1024;
/// Bounds the lines that multi-line parameters may produce in total, so that
/// nested templates cannot expand exponentially.
constexpr std::size_t kMaxExpandedLines = 100000;
constexpr std::size_t kMaxLineLength = 64 * 1024;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n';
}
bool is_name_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_name_char(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/// Characters of a logical line with, for each, the column it came from.
/// Most lines keep their characters in place, so the columns are stored
/// only once a substitution has moved some: until then chars[i] came from
/// column first_column + i.
struct Text {
    std::string chars;
    std::vector<int> columns;  ///< empty while the columns run on from first_column
    int first_column = 1;

    [[nodiscard]] int column(std::size_t i) const {
        return columns.empty() ? first_column + static_cast<int>(i) : columns[i];
    }
    [[nodiscard]] Text substr(std::size_t from, std::size_t count = std::string::npos) const {
        Text part;
        if (from >= chars.size()) return part;
        count = std::min(count, chars.size() - from);
        part.chars = chars.substr(from, count);
        if (columns.empty()) {
            part.first_column = first_column + static_cast<int>(from);
        } else {
            const auto first = columns.begin() + static_cast<std::ptrdiff_t>(from);
            part.columns.assign(first, first + static_cast<std::ptrdiff_t>(count));
        }
        return part;
    }
    void append(const Text& other) {
        if (other.chars.empty()) return;
        if (chars.empty()) {
            *this = other;
            return;
        }
        if (columns.empty() && other.columns.empty() &&
            other.first_column == first_column + static_cast<int>(chars.size())) {
            chars += other.chars;  // still contiguous
            return;
        }
        spell_out_columns();
        for (std::size_t i = 0; i < other.chars.size(); ++i) columns.push_back(other.column(i));
        chars += other.chars;
    }
    void append(std::string_view text, int column) {
        if (text.empty()) return;
        spell_out_columns();
        chars.append(text);
        columns.insert(columns.end(), text.size(), column);
    }

  private:
    void spell_out_columns() {
        if (!columns.empty() || chars.empty()) return;
        columns.resize(chars.size());
        for (std::size_t i = 0; i < chars.size(); ++i)
            columns[i] = first_column + static_cast<int>(i);
    }
};

Text trim_left(const Text& text) {
    std::size_t first = 0;
    while (first < text.chars.size() && is_space(text.chars[first])) ++first;
    return text.substr(first);
}

std::string trim(std::string_view text) {
    std::size_t first = 0;
    std::size_t last = text.size();
    while (first < last && is_space(text[first])) ++first;
    while (last > first && is_space(text[last - 1])) --last;
    return std::string(text.substr(first, last - first));
}

/// The physical line without its comment; columns count from 1.
Text strip_comment(std::string_view line) {
    char quote = 0;
    std::size_t end = line.size();
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quote != 0) {
            if (c == '\\' && i + 1 < line.size()) {
                ++i;
            } else if (c == quote) {
                quote = 0;
            }
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '#' || c == '!') {
            end = i;
            break;
        }
    }
    Text text;
    text.chars = std::string(line.substr(0, end));
    return text;
}

/// The lines of `content`, one at a time, as views into it (it outlives
/// them: see read_text). A line's end ("\n" or "\r\n") is not part of it;
/// an empty piece after the last line end is no line. A vector of every
/// line's view was 3.6 MB for a 224,000-line file, fresh pages on each load.
struct Lines {
    std::string_view content;
    std::size_t pos = 0;     ///< where the next line starts
    std::size_t number = 0;  ///< lines taken so far: the last one's 1-based number

    /// Whether no line is left: nothing, or only a last "\r" (no search
    /// for the next line end, which take() does).
    [[nodiscard]] bool done() const {
        if (pos >= content.size()) return true;
        return content.size() - pos == 1 && content[pos] == '\r';
    }
    std::string_view take() {
        auto end = content.find('\n', pos);
        if (end == std::string_view::npos) end = content.size();
        std::string_view line = content.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = end + 1;
        ++number;
        return line;
    }
};

bool has_wildcard(std::string_view pattern) {
    return pattern.find_first_of("*?[{") != std::string_view::npos;
}

/// The characters that matter to a block's shape outside quotes: quotes,
/// comment starts and braces.
constexpr auto kBlockSyntax = [] {
    std::array<bool, 256> table{};
    for (const char c : {'"', '\'', '#', '!', '{', '}'})
        table[static_cast<unsigned char>(c)] = true;
    return table;
}();

/// One open file: its lines and where we are in them.
struct FileContext {
    FileName name;
    std::string directory;
    Lines lines;  ///< into the text being read
};

struct Parameter {
    std::vector<std::string> lines;
    bool multiline = false;
};

class Reader {
  public:
    Reader(const ReadOptions& options, Diagnostics& diagnostics)
        : options_(options), diagnostics_(diagnostics) {}

    void read_file(const std::filesystem::path& path, const SourceLocation& requested_at,
                   int depth) {
        if (read_regular_file(path, depth)) return;
        std::ifstream stream(path, std::ios::binary);
        if (!stream) {
            const int saved = errno;
            diagnostics_.error(requested_at,
                               "cannot open '" + path.string() + "': " + std::strerror(saved));
            return;
        }
        // One read of the whole file; a stringstream copy cost a second buffer.
        std::string content;
        stream.seekg(0, std::ios::end);
        const auto size = stream.tellg();
        stream.seekg(0, std::ios::beg);
        if (size > 0) {
            content.resize(static_cast<std::size_t>(size));
            stream.read(content.data(), static_cast<std::streamsize>(size));
            content.resize(static_cast<std::size_t>(stream.gcount()));
        }
        if (stream.bad() || size < 0) {
            // Not a regular file (a pipe, /dev/stdin): read it as a stream.
            stream.clear();
            std::ostringstream whole;
            whole << stream.rdbuf();
            content = whole.str();
        }
        read_text(content, path.string(), depth);
    }

    /// Reads a regular file into pages mapped present up front
    /// (MAP_POPULATE): a file of megabytes costs no page fault per page and
    /// no zero-fill before the read, both costly in a slow (emulated)
    /// machine. False when it is not one, or changed size while read: the
    /// caller then reads it as a stream (and reports errors).
    bool read_regular_file(const std::filesystem::path& path, int depth) {
        struct stat status {};
        // Not opened unless regular: opening a pipe would pair with its writer.
        if (::stat(path.c_str(), &status) != 0 || !S_ISREG(status.st_mode)) return false;
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return false;
        if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode) || status.st_size <= 0) {
            ::close(fd);
            return false;
        }
        // One byte more than the size: a file that grew shows as a full buffer.
        const auto room = static_cast<std::size_t>(status.st_size) + 1;
        void* mapped = ::mmap(nullptr, room, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (mapped == MAP_FAILED) {
            ::close(fd);
            return false;
        }
        // Unmapped however read_text() ends (it may throw: bad_alloc).
        const auto unmap = [room](void* address) { ::munmap(address, room); };
        const std::unique_ptr<void, decltype(unmap)> mapping(mapped, unmap);
        char* buffer = static_cast<char*>(mapped);
        std::size_t size = 0;
        bool failed = false;
        while (size < room) {
            const ssize_t n = ::read(fd, buffer + size, room - size);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                failed = n < 0;
                break;
            }
            size += static_cast<std::size_t>(n);
        }
        ::close(fd);
        const bool whole =
            !failed && size < room && size == static_cast<std::size_t>(status.st_size);
        if (whole) read_text({buffer, size}, path.string(), depth);
        return whole;
    }

    void read_text(std::string_view content, const std::string& name, int depth) {
        FileContext file;
        file.name = name;
        auto parent = std::filesystem::path(name).parent_path();
        file.directory = parent.empty() ? "." : parent.string();
        file.lines.content = content;
        // Room for every token up front (one per 8 bytes is more than real
        // files have): growing a vector of 400,000 tokens moved each many times.
        tokens_.reserve(tokens_.size() + content.size() / 8);
        while (!file.lines.done()) {
            if (options_.reuse != nullptr && depth_ == 0 && reuse_block(file)) continue;
            const auto raw = file.lines.take();
            const SourceLocation where{file.name, static_cast<int>(file.lines.number), 1};
            process_line(strip_comment(raw), where, file, depth, 0);
        }
    }

    std::vector<Token> take_tokens() { return std::move(tokens_); }

  private:
    /// At a line that starts at brace depth 0: when a self-contained block
    /// (see BlockReuse) starts here, registers it and, if the previous load
    /// built the same text, stands one token in for it and skips its lines
    /// (true). False: read the lines as usual (a new block's keyword token
    /// is marked so the builder can keep its result for the next load).
    bool reuse_block(FileContext& file) {
        const std::size_t first = file.lines.number;  // lines before this one
        Lines after = file.lines;
        const std::string_view first_line = Lines(file.lines).take();
        const auto last = self_contained_block(after);
        if (!last) return false;
        const char* begin = first_line.data();
        const char* stop = last->data() + last->size();
        // The text as it is in the file, line ends included up to the last line's.
        const std::string_view text(begin, static_cast<std::size_t>(stop - begin));
        BlockReuse& reuse = *options_.reuse;
        BlockReuse::Block block;
        block.file = file.name;
        block.first_line = static_cast<int>(first) + 1;
        block.key = BlockReuse::key_of(text);
        if (reuse.previous != nullptr) {
            const auto found = reuse.previous->find(block.key);
            if (found != reuse.previous->end() && found->second.file == file.name) {
                block.previous = &*found;
                reuse.blocks.push_back(std::move(block));
                Token token;
                token.text = "virtual_server";
                token.where = SourceLocation{file.name, static_cast<int>(first) + 1, 1};
                token.line_id = ++line_counter_;
                token.block = static_cast<std::uint32_t>(reuse.blocks.size());
                // Where the keyword is on its line.
                const auto& line = first_line;
                std::size_t column = 0;
                while (column < line.size() && is_space(line[column])) ++column;
                token.where.column = static_cast<int>(column) + 1;
                tokens_.push_back(std::move(token));
                file.lines = after;
                return true;
            }
        }
        reuse.blocks.push_back(std::move(block));
        mark_next_token_ = static_cast<std::uint32_t>(reuse.blocks.size());
        return false;
    }

    /// The last line of the self-contained `virtual_server` block that
    /// starts at the next line of `lines`, which is left after it; nullopt
    /// when none does (`lines` is then anywhere). Conservative: any
    /// `$` (even in a comment), a conditional, `~` or include line, an
    /// unterminated quote or anything after the closing brace on its line
    /// means "not self-contained", and the lines are read as usual.
    static std::optional<std::string_view> self_contained_block(Lines& lines) {
        int depth = 0;
        bool opened = false;
        for (bool first = true; !lines.done(); first = false) {
            const std::string_view raw = lines.take();
            if (raw.find('$') != std::string_view::npos) return std::nullopt;
            std::size_t i = 0;
            while (i < raw.size() && is_space(raw[i])) ++i;
            if (i < raw.size() && (raw[i] == '@' || raw[i] == '~')) return std::nullopt;
            std::size_t word_end = i;
            while (word_end < raw.size() && !is_space(raw[word_end]) && raw[word_end] != '{' &&
                   raw[word_end] != '}' && raw[word_end] != '#' && raw[word_end] != '!' &&
                   raw[word_end] != '"' && raw[word_end] != '\'')
                ++word_end;
            const std::string_view word = raw.substr(i, word_end - i);
            if (word.rfind("include", 0) == 0) return std::nullopt;
            if (first) {
                if (word != "virtual_server") return std::nullopt;
                std::size_t arg = word_end;
                while (arg < raw.size() && is_space(raw[arg])) ++arg;
                std::size_t arg_end = arg;
                while (arg_end < raw.size() && !is_space(raw[arg_end])) ++arg_end;
                const std::string_view target = raw.substr(arg, arg_end - arg);
                // A group's meaning depends on its virtual_server_group.
                if (target.empty() || target.rfind("group", 0) == 0 || target[0] == '{' ||
                    target[0] == '#' || target[0] == '!')
                    return std::nullopt;
            }
            char quote = 0;
            bool closed = false;
            for (std::size_t k = i; k < raw.size(); ++k) {
                const char c = raw[k];
                if (quote != 0) {
                    if (c == '\\' && k + 1 < raw.size()) {
                        ++k;
                    } else if (c == quote) {
                        quote = 0;
                    }
                    continue;
                }
                if (closed) {
                    if (c == '#' || c == '!') break;
                    if (!is_space(c)) return std::nullopt;
                    continue;
                }
                if (!kBlockSyntax[static_cast<unsigned char>(c)]) continue;  // most characters
                if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '#' || c == '!') {
                    break;
                } else if (c == '{') {
                    ++depth;
                    opened = true;
                } else if (c == '}') {
                    if (--depth < 0) return std::nullopt;
                    if (depth == 0) closed = true;
                }
            }
            if (quote != 0) return std::nullopt;
            if (closed) return raw;
            // The block opens on the keyword's line.
            if (!opened) return std::nullopt;
        }
        return std::nullopt;
    }

    SourceLocation at(const SourceLocation& line, const Text& text, std::size_t index) const {
        SourceLocation where = line;
        if (index < text.chars.size()) where.column = text.column(index);
        return where;
    }

    void process_line(Text text, const SourceLocation& line, FileContext& file, int depth,
                      int expansion_depth) {
        if (expansion_depth > kMaxExpansionDepth) {
            diagnostics_.error(line, "parameter expansion nested more than " +
                                         std::to_string(kMaxExpansionDepth) + " deep");
            return;
        }
        bool substituted = false;
        while (true) {
            text = trim_left(text);
            if (text.chars.empty()) return;
            if (text.chars[0] == '@') {
                if (!conditional_matches(text, line)) return;
                continue;
            }
            if (text.chars[0] == '~') {
                const auto word = text.chars.substr(0, text.chars.find('('));
                if (word == "~SEQ" || word == "~SEQx" || word == "~LST") {
                    diagnostics_.error(at(line, text, 0),
                                       "'" + word +
                                           "' lines are a keepalived feature ipvsctl does not "
                                           "implement yet");
                    return;
                }
            }
            if (define_parameter(text, line, file, expansion_depth)) return;
            if (substituted) break;
            substituted = true;
            if (!substitute(text, line, file, depth, expansion_depth)) return;
        }
        emit(text, line, file, depth);
    }

    /// Strips a matching `@id` prefix (true) or says the line is dropped (false).
    bool conditional_matches(Text& text, const SourceLocation& line) {
        std::size_t end = 1;
        while (end < text.chars.size() && !is_space(text.chars[end])) ++end;
        const bool negated = text.chars.size() > 1 && text.chars[1] == '^';
        const auto id = text.chars.substr(negated ? 2 : 1, end - (negated ? 2 : 1));
        if (id.empty()) {
            diagnostics_.error(at(line, text, 0),
                               "a conditional line needs a config id right after '@'");
            return false;
        }
        if ((id == options_.config_id) == negated) return false;
        text = text.substr(end);
        return true;
    }

    /// Handles `$NAME=value`; false when the line is not a definition.
    bool define_parameter(const Text& text, const SourceLocation& line, FileContext& file,
                          int expansion_depth) {
        const auto& chars = text.chars;
        if (chars.size() < 3 || chars[0] != '$' || !is_name_start(chars[1])) return false;
        std::size_t end = 1;
        while (end < chars.size() && is_name_char(chars[end])) ++end;
        if (end >= chars.size() || chars[end] != '=') return false;
        const auto name = chars.substr(1, end - 1);
        Parameter parameter;
        auto value = trim(std::string_view(chars).substr(end + 1));
        if (!value.empty() && value.back() == '\\') {
            if (expansion_depth > 0) {
                diagnostics_.error(at(line, text, 0),
                                   "a multi-line definition cannot come from a parameter");
                return true;
            }
            parameter.multiline = true;
            value.pop_back();
            value = trim(value);
            if (!value.empty()) parameter.lines.push_back(value);
            read_continuation_lines(file, parameter.lines);
        } else {
            parameter.lines.push_back(value);
        }
        parameters_[name] = std::move(parameter);
        return true;
    }

    static void read_continuation_lines(FileContext& file, std::vector<std::string>& lines) {
        while (!file.lines.done()) {
            auto stripped = strip_comment(file.lines.take()).chars;
            while (!stripped.empty() && is_space(stripped.back())) stripped.pop_back();
            if (trim(stripped).empty()) continue;
            if (stripped.back() == '\\') {
                stripped.pop_back();
                lines.push_back(stripped);
                continue;
            }
            lines.push_back(stripped);
            return;
        }
    }

    std::optional<std::string> lookup(const std::string& name, const FileContext& file) const {
        if (name == "_PWD") return file.directory;
        if (name == "_INSTANCE") return options_.config_id;
        if (name == "_HASH") return std::string("#");
        if (name == "_BANG") return std::string("!");
        if (name.rfind("_ENV ", 0) == 0) {
            const char* value = std::getenv(trim(name.substr(5)).c_str());
            return std::string(value != nullptr ? value : "");
        }
        const auto found = parameters_.find(name);
        if (found == parameters_.end() || found->second.multiline) return std::nullopt;
        return found->second.lines.empty() ? std::string() : found->second.lines.front();
    }

    /// Replaces defined parameters in `text`. Multi-line parameters split the
    /// line; the pieces are processed here and false is returned. False also
    /// when substitution runs away.
    bool substitute(Text& text, const SourceLocation& line, FileContext& file, int depth,
                    int expansion_depth) {
        int substitutions = 0;
        std::size_t i = 0;
        while (i < text.chars.size()) {
            if (text.chars[i] != '$') {
                ++i;
                continue;
            }
            std::string name;
            std::size_t end = 0;
            if (i + 1 < text.chars.size() && text.chars[i + 1] == '{') {
                const auto close = text.chars.find('}', i + 2);
                if (close == std::string::npos) {
                    ++i;
                    continue;
                }
                name = text.chars.substr(i + 2, close - i - 2);
                end = close + 1;
            } else {
                end = i + 1;
                while (end < text.chars.size() && is_name_char(text.chars[end])) ++end;
                name = text.chars.substr(i + 1, end - i - 1);
                if (name.empty() || !is_name_start(name[0]) ||
                    (end < text.chars.size() && !is_space(text.chars[end]))) {
                    ++i;
                    continue;
                }
            }
            if (const auto found = parameters_.find(name);
                found != parameters_.end() && found->second.multiline) {
                expand_multiline(text, i, end, found->second, line, file, depth, expansion_depth);
                return false;
            }
            const auto value = lookup(name, file);
            if (!value) {
                i = end;
                continue;
            }
            if (++substitutions > kMaxSubstitutionsPerLine ||
                text.chars.size() + value->size() > kMaxLineLength) {
                diagnostics_.error(at(line, text, i),
                                   "parameter substitution does not end (does a definition "
                                   "refer to itself?)");
                return false;
            }
            Text replaced = text.substr(0, i);
            replaced.append(*value, text.column(i));
            replaced.append(text.substr(end));
            text = std::move(replaced);
            // No advance: the inserted value is scanned again (recursive replacement).
        }
        return true;
    }

    void expand_multiline(const Text& text, std::size_t begin, std::size_t end,
                          const Parameter& parameter, const SourceLocation& line, FileContext& file,
                          int depth, int expansion_depth) {
        expanded_lines_ += parameter.lines.size();
        if (expanded_lines_ > kMaxExpandedLines) {
            if (!expansion_overflow_) {
                diagnostics_.error(at(line, text, begin),
                                   "multi-line parameters expand to more than " +
                                       std::to_string(kMaxExpandedLines) + " lines");
            }
            expansion_overflow_ = true;
            return;
        }
        const int column = text.column(begin);
        const SourceLocation use_site = at(line, text, begin);
        std::vector<Text> pieces;
        for (const auto& value_line : parameter.lines) {
            Text piece;
            piece.append(value_line, column);
            pieces.push_back(std::move(piece));
        }
        if (pieces.empty()) pieces.emplace_back();
        Text first = text.substr(0, begin);
        first.append(pieces.front());
        pieces.front() = std::move(first);
        pieces.back().append(text.substr(end));
        for (auto& piece : pieces) {
            process_line(std::move(piece), use_site, file, depth, expansion_depth + 1);
        }
    }

    void emit(const Text& text, const SourceLocation& line, FileContext& file, int depth) {
        std::size_t word_end = 0;
        while (word_end < text.chars.size() && !is_space(text.chars[word_end])) ++word_end;
        const auto word = text.chars.substr(0, word_end);
        if (word == "include" || word == "includer" || word == "includem" || word == "includew" ||
            word == "includeb" || word == "includea") {
            include(text, word_end, line, file, depth, word != "include");
            return;
        }
        tokenize(text, line);
    }

    void include(const Text& text, std::size_t word_end, const SourceLocation& line,
                 const FileContext& file, int depth, bool strict) {
        const auto where = at(line, text, 0);
        if (!options_.allow_include) {
            diagnostics_.error(where, "include is disabled here");
            return;
        }
        auto pattern = trim(std::string_view(text.chars).substr(word_end));
        if (pattern.size() >= 2 && (pattern.front() == '"' || pattern.front() == '\'') &&
            pattern.back() == pattern.front()) {
            pattern = pattern.substr(1, pattern.size() - 2);
        }
        if (pattern.empty()) {
            diagnostics_.error(where, "include needs a file name or pattern");
            return;
        }
        if (depth >= kMaxIncludeDepth) {
            diagnostics_.error(where, "includes nested more than " +
                                          std::to_string(kMaxIncludeDepth) +
                                          " deep (does a file include itself?)");
            return;
        }
        std::filesystem::path full(pattern);
        if (full.is_relative()) full = std::filesystem::path(file.directory) / full;
        glob_t matches{};
        const int status = glob(full.c_str(), GLOB_BRACE, nullptr, &matches);
        std::vector<std::string> paths;
        if (status == 0) {
            for (std::size_t i = 0; i < matches.gl_pathc; ++i)
                paths.emplace_back(matches.gl_pathv[i]);
        }
        globfree(&matches);
        if (paths.empty()) {
            if (!has_wildcard(pattern) || strict) {
                diagnostics_.error(where, "include '" + pattern + "' matches no file");
            }
            return;
        }
        for (const auto& path : paths) {
            std::error_code ignored;
            if (std::filesystem::is_directory(path, ignored)) continue;
            read_file(path, where, depth + 1);
        }
    }

    static char unescape(const std::string& chars, std::size_t& i) {
        // chars[i] is the character after the backslash; i ends on the last one used.
        const char c = chars[i];
        auto digit_value = [](char d, int base) {
            if (d >= '0' && d <= '9' && d - '0' < base) return d - '0';
            if (base == 16 && d >= 'a' && d <= 'f') return d - 'a' + 10;
            if (base == 16 && d >= 'A' && d <= 'F') return d - 'A' + 10;
            return -1;
        };
        switch (c) {
            case 'a':
                return '\a';
            case 'b':
                return '\b';
            case 'E':
                return '\x1b';
            case 'f':
                return '\f';
            case 'n':
                return '\n';
            case 'r':
                return '\r';
            case 't':
                return '\t';
            case 'v':
                return '\v';
            case 'c':
                if (i + 1 < chars.size()) return static_cast<char>(chars[++i] & 0x1f);
                return c;
            case 'x': {
                int value = 0;
                int used = 0;
                while (used < 2 && i + 1 < chars.size() && digit_value(chars[i + 1], 16) >= 0) {
                    value = value * 16 + digit_value(chars[++i], 16);
                    ++used;
                }
                return used == 0 ? 'x' : static_cast<char>(value);
            }
            default:
                if (digit_value(c, 8) >= 0) {
                    int value = digit_value(c, 8);
                    int used = 1;
                    while (used < 3 && i + 1 < chars.size() && digit_value(chars[i + 1], 8) >= 0) {
                        value = value * 8 + digit_value(chars[++i], 8);
                        ++used;
                    }
                    return static_cast<char>(value & 0xff);
                }
                return c;
        }
    }

    void tokenize(const Text& text, const SourceLocation& line) {
        const auto& chars = text.chars;
        const int line_id = ++line_counter_;
        std::size_t i = 0;
        while (i < chars.size()) {
            const char c = chars[i];
            if (is_space(c)) {
                ++i;
                continue;
            }
            Token token;
            token.where = at(line, text, i);
            token.line_id = line_id;
            if (mark_next_token_ != 0) {
                token.block = mark_next_token_;
                mark_next_token_ = 0;
            }
            if (c == '{' || c == '}') {
                token.text = std::string(1, c);
                // Depth as parse_statements will see it (a stray '}' at the
                // top level is an error there, and the level stays 0).
                if (c == '{') {
                    ++depth_;
                } else if (depth_ > 0) {
                    --depth_;
                }
                tokens_.push_back(std::move(token));
                ++i;
                continue;
            }
            while (i < chars.size()) {
                const char d = chars[i];
                if (d == '"' || d == '\'') {
                    token.quoted = true;
                    const std::size_t open = i++;
                    while (i < chars.size() && chars[i] != d) {
                        if (chars[i] == '\\' && i + 1 < chars.size()) {
                            ++i;
                            token.text += unescape(chars, i);
                            ++i;
                        } else {
                            token.text += chars[i++];
                        }
                    }
                    if (i >= chars.size()) {
                        diagnostics_.error(at(line, text, open), "unterminated quoted string");
                        break;
                    }
                    ++i;
                    continue;
                }
                if (d == '$' && i + 1 < chars.size() && chars[i + 1] == '{') {
                    // An undefined ${NAME} stays one word; its braces are not a block.
                    const auto close = chars.find('}', i + 2);
                    if (close != std::string::npos) {
                        token.text += chars.substr(i, close - i + 1);
                        i = close + 1;
                        continue;
                    }
                }
                if (is_space(d) || d == '{' || d == '}') break;
                token.text += d;
                ++i;
            }
            tokens_.push_back(std::move(token));
        }
    }

    const ReadOptions& options_;
    Diagnostics& diagnostics_;
    std::map<std::string, Parameter> parameters_;
    std::vector<Token> tokens_;
    int line_counter_ = 0;
    int depth_ = 0;                      ///< open braces among the tokens so far
    std::uint32_t mark_next_token_ = 0;  ///< block the next token is the keyword of
    std::size_t expanded_lines_ = 0;
    bool expansion_overflow_ = false;
};

}  // namespace

std::vector<Token> read_tokens_from_file(const std::filesystem::path& path,
                                         const ReadOptions& options, Diagnostics& diagnostics) {
    Reader reader(options, diagnostics);
    reader.read_file(path, SourceLocation{path.string(), 1, 1}, 0);
    return reader.take_tokens();
}

std::vector<Token> read_tokens_from_text(std::string_view text, const std::string& file_name,
                                         const ReadOptions& options, Diagnostics& diagnostics) {
    Reader reader(options, diagnostics);
    reader.read_text(text, file_name, 0);
    return reader.take_tokens();
}

}  // namespace ipvsctl::config
