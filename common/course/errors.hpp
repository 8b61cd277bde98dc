/// @file errors.hpp
/// @brief The course's exceptions: `TodoError` for unfinished exercises, `ShapeError` and `ArgumentError`
/// for bad input, and `check_shape()`, which every layer calls before it touches its input.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#if __has_include(<version>)
#include <version>
#endif
#if defined(__cpp_lib_source_location)
#include <source_location>
#endif
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "course/tensor.hpp"

namespace course {

/// @brief Thrown by every unfinished exercise in `chapters/`.
///
/// Its message is a to-do item: the chapter, the function to write, the file and line of the
/// exercise, and where to read next. Catch2 prints it, so a learner's first test run reads as a list
/// of things to do rather than a crash.
class TodoError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

/// @brief Thrown when a tensor has the wrong shape. The message names the layer, the argument, the
/// expected shape and the actual shape.
class ShapeError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// @brief Thrown for a bad argument that is not a shape (a negative stride, a label out of range,
/// `backward` before `forward`, ...). The message names the layer and the argument.
class ArgumentError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

namespace detail {
#if defined(__cpp_lib_source_location)
using source_location = std::source_location;
#else
/// clang 14 with GCC 12's standard library (the fuzzers' build in fuzz/, clangd-14 in an editor) has no
/// std::source_location: these are the two members `todo()` uses, made from builtins both compilers have.
struct source_location {
    static constexpr source_location current(const char* file = __builtin_FILE(),
                                             unsigned line = __builtin_LINE()) noexcept {
        return source_location{file, line};
    }
    constexpr const char* file_name() const noexcept { return file_; }
    constexpr unsigned line() const noexcept { return line_; }
    const char* file_;
    unsigned line_;
};
#endif

/// Cuts an absolute path down to the part that starts at `chapters/` or `solutions/`, so messages show
/// the path a learner knows from the repository, wherever the build happens.
inline std::string course_relative_path(std::string_view path) {
    for (std::string_view root : {"chapters/", "solutions/", "tests/", "common/"}) {
        if (auto at = path.rfind(root); at != std::string_view::npos) {
            return std::string(path.substr(at));
        }
    }
    return std::string(path);
}
}  // namespace detail

/// @brief Marks an exercise the learner has not written yet: always throws `TodoError`.
///
/// @param chapter    the chapter tag, for example `"ch02"`
/// @param function   the function to implement, for example `"FullyConnected::backward"`
/// @param next_step  where to read or what to do next, for example `"read README.md section 3"`
/// @param where      filled in by the compiler: the file and line of the call
///
/// The message reads, for example:
/// @code{.txt}
/// TODO(ch02): implement FullyConnected::backward in chapters/02_fully_connected/fully_connected.hpp:LINE - read README.md section 3, then run ./course check 2
/// @endcode
[[noreturn]] inline void todo(std::string_view chapter, std::string_view function, std::string_view next_step,
                              detail::source_location where = detail::source_location::current()) {
    std::ostringstream message;
    std::string_view number = chapter.substr(chapter.find_first_of("0123456789"));
    if (number.size() > 1 && number.front() == '0') number.remove_prefix(1);
    message << "TODO(" << chapter << "): implement " << function << " in "
            << detail::course_relative_path(where.file_name()) << ':' << where.line() << " - " << next_step
            << ", then run ./course check " << number;
    throw TodoError(message.str());
}

/// @brief One expected extent in a shape check: a named letter that may take any value (`Dim{"N"}`)
/// or a named letter with a required value (`Dim{"D", 3}`).
struct Dim {
    std::string_view letter;
    std::optional<std::size_t> value = std::nullopt;
};

/// @brief Writes an expected shape as `(N, D=3)`.
inline std::string expected_to_string(const std::vector<Dim>& expected) {
    std::ostringstream out;
    out << '(';
    for (std::size_t i = 0; i < expected.size(); ++i) {
        out << (i ? ", " : "") << expected[i].letter;
        if (const auto value = expected[i].value) out << '=' << *value;
    }
    out << ')';
    return out.str();
}

/// @brief Throws `ShapeError` unless `tensor` has the expected shape.
///
/// @param where     who checks, for example ``"FullyConnected 'fc1' forward"``
/// @param argument  the argument's name as the learner knows it, for example `"x"`
/// @param tensor    the tensor to check (any rank)
/// @param expected  one `Dim` per axis, for example `{{"N"}, {"D", 3}}`
///
/// Message example: ``FullyConnected 'fc1' forward: x has shape (4, 5) but must be (N, D=3)``.
/// A rank mismatch is reported the same way (a fixed-rank `Tensor<N>` usually makes it a compile error).
template <class T>
void check_shape(std::string_view where, std::string_view argument, const T& tensor, const std::vector<Dim>& expected) {
    const auto& shape = tensor.shape();
    bool ok = shape.size() == expected.size();
    for (std::size_t axis = 0; ok && axis < expected.size(); ++axis) {
        if (const auto value = expected[axis].value; value && shape[axis] != *value) ok = false;
    }
    if (!ok) {
        throw ShapeError(std::string(where) + ": " + std::string(argument) + " has shape " + shape_to_string(shape) +
                         " but must be " + expected_to_string(expected));
    }
}

/// @brief `check_shape` for a batch: the tensor must also hold at least one sample (N >= 1 on its first axis).
///
/// Layers whose computation needs a sample call it on their input. An empty batch has no mean loss, and
/// xtensor's tools misbehave on it: `xt::sum` over an empty axis does undefined pointer arithmetic, and
/// `xt::linalg::dot` of (0, 3) transposed with (0, 2) returns a (3, 3) matrix instead of (3, 2) zeros.
///
/// Message example: ``FullyConnected 'fc1' forward: x has shape (0, 3) but must be (N>=1, D=3): a batch
/// holds at least one sample``.
template <class T>
void check_batch(std::string_view where, std::string_view argument, const T& tensor, const std::vector<Dim>& expected) {
    check_shape(where, argument, tensor, expected);
    if (!expected.empty() && tensor.shape()[0] == 0) {
        std::string wanted = expected_to_string(expected);
        if (!expected[0].value) wanted.insert(1 + expected[0].letter.size(), ">=1");
        throw ShapeError(std::string(where) + ": " + std::string(argument) + " has shape " +
                         shape_to_string(tensor.shape()) + " but must be " + wanted +
                         ": a batch holds at least one sample");
    }
}

/// @brief Throws `ShapeError` unless `a` and `b` have the same shape (for example `dout` and the output
/// that `forward` returned).
template <class A, class B>
void check_same_shape(std::string_view where, std::string_view name_a, const A& a, std::string_view name_b,
                      const B& b) {
    const auto& sa = a.shape();
    const auto& sb = b.shape();
    if (sa.size() != sb.size() || !std::equal(sa.begin(), sa.end(), sb.begin())) {
        throw ShapeError(std::string(where) + ": " + std::string(name_a) + " has shape " + shape_to_string(sa) +
                         " but must have the shape of " + std::string(name_b) + ", " + shape_to_string(sb));
    }
}

}  // namespace course
