/// @file layer_check.hpp
/// @brief Gradient check of a whole layer: dx and the gradient of every parameter that
/// `params_and_grads()` lists, against central differences, with one random upstream gradient.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>

#include "course/gradcheck.hpp"
#include "course/layer.hpp"

namespace course {

/// @brief The gradient of \f$ g = \sum_j f()_j \, dout_j \f$ with respect to every number of `values`
/// (for example a parameter seen through `ParamRef::value`), reshaped to `shape`.
template <std::size_t OutRank, class F>
xt::xarray<double> numerical_gradient(F&& f, std::span<real> values, const Shape& shape, const Tensor<OutRank>& dout,
                                      double h = default_step) {
    xt::xarray<double> grad = xt::zeros<double>(shape);
    if (grad.size() != values.size()) {
        throw std::invalid_argument("numerical_gradient: " + std::to_string(values.size()) +
                                    " values cannot have the shape " + shape_to_string(shape));
    }
    auto contracted = [&] {
        const auto out = xt::eval(f());
        if (shape_of(out) != shape_of(dout)) {
            throw std::invalid_argument("numerical_gradient: f() returned shape " + shape_to_string(out.shape()) +
                                        " but dout has shape " + shape_to_string(dout.shape()));
        }
        double sum = 0.0;
        for (std::size_t j = 0; j < dout.size(); ++j) sum += out.data()[j] * dout.data()[j];
        return sum;
    };
    for (std::size_t i = 0; i < values.size(); ++i) grad.data()[i] = numerical_derivative(contracted, values[i], h);
    return grad;
}

/// @brief Checks `backward` of a layer against central differences.
///
/// Runs `forward(x)` and `backward(dout)` once, keeps dx and a copy of every parameter gradient, then
/// measures each of them numerically (every measurement runs `forward` again, which is why the gradients
/// are copied first).
///
/// @param layer      the layer under test
/// @param x          its input, shape (whatever the layer takes); nudged in place and restored
/// @param dout       a random upstream gradient, shape of the layer's output
/// @param threshold  the largest relative error that passes
/// @return one `Comparison` for "dx" and one for each parameter, named like "d(fc1.W)"
template <std::size_t InRank, std::size_t OutRank>
std::vector<Comparison> check_layer_gradients(Layer<InRank, OutRank>& layer, Tensor<InRank>& x,
                                              const Tensor<OutRank>& dout, double threshold = default_threshold,
                                              double h = default_step) {
    layer.forward(x);
    const Tensor<InRank> dx = layer.backward(dout);
    std::vector<std::pair<ParamRef, xt::xarray<double>>> analytic;
    for (ParamRef& p : layer.params_and_grads()) {
        analytic.emplace_back(p, xt::adapt(std::vector<double>(p.grad.begin(), p.grad.end()), p.shape));
    }
    auto forward = [&] {
        return layer.forward(x);
    };
    std::vector<Comparison> results;
    results.push_back(check_gradient(layer.kind() + " '" + layer.name() + "' dx", dx,
                                     numerical_gradient(forward, x, dout, h), threshold));
    for (auto& [p, grad] : analytic) {
        results.push_back(check_gradient("d(" + p.name + ")", grad,
                                         numerical_gradient(forward, p.value, p.shape, dout, h), threshold));
    }
    return results;
}

}  // namespace course
