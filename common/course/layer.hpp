/// @file layer.hpp
/// @brief The interface every layer of the course follows: `Layer<InRank, OutRank>` with `forward(x)` and
/// `backward(dout)`, a typed cache, and parameters exposed through `params_and_grads()`.
///
/// The contract, the same for every layer:
///
/// - `forward(x)` computes the output and keeps in the layer's **cache** what `backward` will need
///   (a struct with named members, never a tuple). Calling `forward` again replaces the cache.
/// - `backward(dout)` takes the upstream gradient \f$ dout = \partial L / \partial out \f$ (the shape of the
///   output), returns \f$ dx = \partial L / \partial x \f$ (the shape of the input), and **overwrites** the
///   gradients of the layer's parameters (`dW`, `db`): after `backward`, `dW` holds the gradient of this one
///   batch, whatever it held before. Calling `backward` before any `forward` throws `ArgumentError`.
/// - `params_and_grads()` lists every trainable tensor with its gradient and a readable name (`fc1.W`),
///   so an optimizer, a weights file or a gradient check can treat all parameters alike.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "course/errors.hpp"
#include "course/tensor.hpp"

namespace course {

/// @brief One trainable tensor and its gradient, seen as flat arrays of the same length.
///
/// Parameters have different ranks (a fully connected `W` is (D, M), a convolution's is (F, C, KH, KW)),
/// but an optimizer updates every element the same way, so it only needs the numbers and their order.
struct ParamRef {
    std::string name;       ///< "layer.member", for example "conv1.W"
    Shape shape;            ///< the tensor's shape, for messages and weight files
    std::span<real> value;  ///< the parameter's numbers, in row-major order
    std::span<real> grad;   ///< its gradient, the same length and order
};

/// @brief Makes a `ParamRef` from a parameter tensor and its gradient tensor (which must have its shape).
template <std::size_t Rank>
ParamRef param_ref(std::string name, Tensor<Rank>& value, Tensor<Rank>& grad) {
    check_same_shape(name, "gradient", grad, "value", value);
    return ParamRef{std::move(name), shape_of(value), std::span<real>(value.data(), value.size()),
                    std::span<real>(grad.data(), grad.size())};
}

/// @brief What every layer has, whatever the rank of its input and output: a name and its parameters.
class LayerBase {
public:
    explicit LayerBase(std::string name) : name_(std::move(name)) {}
    virtual ~LayerBase() = default;

    /// @brief The layer's name in the network, for example "fc1"; used in parameter names and errors.
    const std::string& name() const { return name_; }

    /// @brief The kind of layer, for example "FullyConnected".
    virtual std::string kind() const = 0;

    /// @brief Every trainable tensor with its gradient. Layers without parameters return an empty list.
    virtual std::vector<ParamRef> params_and_grads() { return {}; }

protected:
    /// @brief "FullyConnected 'fc1' forward": who is speaking, for error messages.
    std::string where(std::string_view method) const { return kind() + " '" + name_ + "' " + std::string(method); }

    /// @brief The cache that `forward` filled; throws a clear error when `forward` has not run yet.
    template <class Cache>
    const Cache& cached(const std::optional<Cache>& cache) const {
        if (!cache) {
            throw ArgumentError(where("backward") +
                                ": backward was called before forward, so there is nothing to differentiate "
                                "(call forward on the batch first)");
        }
        return *cache;
    }

private:
    std::string name_;
};

/// @brief A layer that maps a `Tensor<InRank>` to a `Tensor<OutRank>`.
///
/// A fully connected layer is a `Layer<2>`: (N, D) to (N, M). A convolution is a `Layer<4>`:
/// (N, C, H, W) to (N, F, H', W'). Flatten is a `Layer<4, 2>`.
template <std::size_t InRank, std::size_t OutRank = InRank>
class Layer : public LayerBase {
public:
    using LayerBase::LayerBase;
    using Input = Tensor<InRank>;
    using Output = Tensor<OutRank>;

    /// @brief Computes the output for a batch `x` and keeps what `backward` needs.
    virtual Output forward(const Input& x) = 0;

    /// @brief From \f$ dout = \partial L / \partial out \f$ returns \f$ dx = \partial L / \partial x \f$
    /// and overwrites the parameters' gradients.
    virtual Input backward(const Output& dout) = 0;
};

}  // namespace course
