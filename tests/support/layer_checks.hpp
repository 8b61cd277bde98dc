// Checks that every chapter with a layer repeats: the given error messages for a tensor of the wrong shape and
// for backward before forward. One place for them, so that every layer is held to the same convention
// (CONTRIBUTING.md, section 8): the message names the layer (its kind and name) or the function, the method,
// the tensor, the shape it has and the shape it must have.
//
// Each check reports the line of the test that called it (course::detail::source_location: clang 14 with
// GCC 12's library has no std::source_location), not a line of this header.
#pragma once

#include "support/catch.hpp"

#include <concepts>
#include <string>
#include <utility>

#include "course/errors.hpp"

namespace course_test {

/// "called from tests/NN_name/test_name.cpp:LINE" (the caller's file and line), for the INFO of a shared check.
inline std::string called_from(const course::detail::source_location& where) {
    return std::string("called from ") + where.file_name() + ":" + std::to_string(where.line());
}

/// A matcher, not a message (a concept rather than a requires clause: clang-format 14 and 19 lay those out
/// differently).
template <class T>
concept NotAString = !std::convertible_to<T, std::string>;

/// `call()` must throw a course::ShapeError whose message is exactly `message`.
template <class Call>
void check_shape_error(Call&& call, const std::string& message,
                       const course::detail::source_location where = course::detail::source_location::current()) {
    INFO(called_from(where));
    CHECK_THROWS_MATCHES(std::forward<Call>(call)(), course::ShapeError, Catch::Matchers::Message(message));
}

/// `call()` must throw a course::ShapeError whose message matches a string matcher (StartsWith,
/// ContainsSubstring, ...), for messages that go on with details the test does not fix.
template <class Call, NotAString StringMatcher>
void check_shape_error(Call&& call, const StringMatcher& matcher,
                       const course::detail::source_location where = course::detail::source_location::current()) {
    INFO(called_from(where));
    CHECK_THROWS_MATCHES(std::forward<Call>(call)(), course::ShapeError, Catch::Matchers::MessageMatches(matcher));
}

/// After `layer.forward(x)`, `layer.backward(dout_bad)` must throw a course::ShapeError with exactly `message`.
/// The forward pass runs outside the check: on a skeleton its TODO error fails the test case, as it must.
template <class LayerT, class Input, class Dout>
void check_wrong_dout_shape(LayerT& layer, const Input& x, const Dout& dout_bad, const std::string& message,
                            const course::detail::source_location where = course::detail::source_location::current()) {
    static_cast<void>(layer.forward(x));
    check_shape_error([&] { return layer.backward(dout_bad); }, message, where);
}

/// `layer.backward(dout)` on a layer whose forward never ran must throw a course::ArgumentError whose message
/// starts with "<layer> backward: backward was called before forward", where `layer` is for example
/// "Conv2D 'conv1'" (the kind and the name of the layer).
template <class LayerT, class Dout>
void check_backward_before_forward(
    LayerT& layer, const Dout& dout, const std::string& layer_label,
    const course::detail::source_location where = course::detail::source_location::current()) {
    INFO(called_from(where));
    CHECK_THROWS_MATCHES(layer.backward(dout), course::ArgumentError,
                         Catch::Matchers::MessageMatches(Catch::Matchers::StartsWith(
                             layer_label + " backward: backward was called before forward")));
}

}  // namespace course_test
