/// @file initialization.hpp
/// @brief Chapter 8, part 1: weight initialization. Why the scale of the first weights decides whether a deep
/// network can learn at all, and the two scales that work: Xavier and He.
///
/// Shape letters: N samples, D features (the width of a layer).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "07_network/network.hpp"
#include "course/errors.hpp"
#include "course/random.hpp"

namespace course {

/// @brief How to draw the first weights: from a normal distribution with mean 0 and the standard deviation
/// `init_std()` gives.
enum class InitScheme {
    too_small,  ///< standard deviation 0.01 for every layer: the signal shrinks from layer to layer
    too_large,  ///< standard deviation 1 for every layer: the signal grows from layer to layer
    xavier,     ///< \f$ \sqrt{2 / (fan_{in} + fan_{out})} \f$: keeps the variance for tanh-like units
    he,         ///< \f$ \sqrt{2 / fan_{in}} \f$: keeps the variance for ReLU units
};

/// @brief The scheme's name, for legends and logs.
inline std::string to_string(InitScheme scheme) {
    switch (scheme) {
        case InitScheme::too_small:
            return "too small (0.01)";
        case InitScheme::too_large:
            return "too large (1)";
        case InitScheme::xavier:
            return "Xavier";
        case InitScheme::he:
            return "He";
    }
    return "?";
}

/// @brief The standard deviation of Xavier (Glorot) initialization: \f$ \sqrt{2 / (fan_{in} + fan_{out})} \f$.
///
/// @param fan_in   the number of inputs each output adds up (D of a fully connected layer, C KH KW of a convolution)
/// @param fan_out  the number of outputs each input feeds (M of a fully connected layer, F KH KW of a convolution)
inline real xavier_std(std::size_t fan_in, std::size_t fan_out) {
    if (fan_in + fan_out == 0) throw ArgumentError("xavier_std: fan_in + fan_out must be at least 1");
    // TODO(ch08) begin: xavier_std -- read README.md section 2
    return static_cast<real>(std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
    // TODO(ch08) end
}

/// @brief The standard deviation of He (Kaiming) initialization: \f$ \sqrt{2 / fan_{in}} \f$.
///
/// @param fan_in  the number of inputs each output adds up
inline real he_std(std::size_t fan_in) {
    if (fan_in == 0) throw ArgumentError("he_std: fan_in must be at least 1");
    // TODO(ch08) begin: he_std -- read README.md section 2
    return static_cast<real>(std::sqrt(2.0 / static_cast<double>(fan_in)));
    // TODO(ch08) end
}

/// @brief The standard deviation a scheme gives a layer with this fan-in and fan-out.
inline real init_std(InitScheme scheme, std::size_t fan_in, std::size_t fan_out) {
    switch (scheme) {
        case InitScheme::too_small:
            return real(0.01);
        case InitScheme::too_large:
            return real(1);
        case InitScheme::xavier:
            return xavier_std(fan_in, fan_out);
        case InitScheme::he:
            return he_std(fan_in);
    }
    throw ArgumentError("init_std: unknown scheme");
}

/// @brief Draws new weights for a fully connected layer (W with the scheme's standard deviation, b = 0).
inline void initialize(FullyConnected& layer, InitScheme scheme, Rng& rng) {
    const std::size_t D = layer.in_features(), M = layer.out_features();
    layer.W = randn<2>({D, M}, rng, init_std(scheme, D, M));
    layer.b.fill(real(0));
}

/// @brief Draws new weights for a convolution: the fan-in of an output is C KH KW, the fan-out of an input F KH KW.
inline void initialize(Conv2D& layer, InitScheme scheme, Rng& rng) {
    const std::size_t F = layer.W.shape(0), C = layer.W.shape(1), KH = layer.W.shape(2), KW = layer.W.shape(3);
    layer.W = randn<4>({F, C, KH, KW}, rng, init_std(scheme, C * KH * KW, F * KH * KW));
    layer.b.fill(real(0));
}

/// @brief Draws new weights for every layer of LeNet with one scheme.
inline void initialize(SimpleConvNet& net, InitScheme scheme, Rng& rng) {
    initialize(net.conv1, scheme, rng);
    initialize(net.conv2, scheme, rng);
    initialize(net.fc1, scheme, rng);
    initialize(net.fc2, scheme, rng);
    initialize(net.fc3, scheme, rng);
}

/// @brief What the deep-stack experiment measures: the activations after each layer.
struct StackActivations {
    std::vector<double> stddev;             ///< the standard deviation of the ReLU outputs of each layer
    std::vector<std::vector<real>> values;  ///< all the ReLU outputs of each layer (for histograms)
};

/// @brief The experiment of section 3: a batch of N(0, 1) inputs through `depth` layers of FullyConnected
/// (width x width) + ReLU, all initialized with one scheme; returns the activations after every layer.
///
/// With He the standard deviation stays about the same from layer to layer; too small, it vanishes
/// (shrinks by a constant factor per layer); too large, it explodes.
/// @throws ArgumentError when width or batch is 0
inline StackActivations deep_stack_activations(InitScheme scheme, std::size_t depth, std::size_t width,
                                               std::size_t batch, Rng& rng) {
    if (width == 0 || batch == 0) {
        throw ArgumentError("deep_stack_activations: width and batch must be at least 1, not " + std::to_string(width) +
                            " and " + std::to_string(batch));
    }
    Tensor<2> h = randn<2>({batch, width}, rng);
    StackActivations result;
    for (std::size_t layer = 0; layer < depth; ++layer) {
        FullyConnected fc(width, width, rng, "fc" + std::to_string(layer + 1));
        initialize(fc, scheme, rng);
        ReLU<2> relu("relu" + std::to_string(layer + 1));
        h = relu.forward(fc.forward(h));
        const double mean = xt::mean(h)();
        double sum = 0;
        for (real v : h) sum += (static_cast<double>(v) - mean) * (static_cast<double>(v) - mean);
        result.stddev.push_back(std::sqrt(sum / static_cast<double>(h.size())));
        result.values.emplace_back(h.begin(), h.end());
    }
    return result;
}

}  // namespace course
