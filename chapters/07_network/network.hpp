/// @file network.hpp
/// @brief Chapter 7: LeNet. The layers of chapters 2 to 6 chained into a network, its backward pass, and
/// the training step that makes it learn.
///
/// Shape letters: N samples, C channels, H x W image, K classes.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "02_fully_connected/fully_connected.hpp"
#include "03_activations/activations.hpp"
#include "04_softmax_cross_entropy/softmax_cross_entropy.hpp"
#include "05_conv2d/conv2d.hpp"
#include "06_pooling/pooling.hpp"
#include "course/data.hpp"
#include "course/layer.hpp"
#include "course/random.hpp"

namespace course {

/// @brief Flattens each sample's feature maps into one row: (N, C, H, W) to (N, C * H * W).
///
/// It moves no number, it only changes how the same numbers are indexed: element (n, c, h, w) becomes
/// element (n, (c * H + h) * W + w). So its backward pass is the same re-indexing, the other way round.
class Flatten : public Layer<4, 2> {
public:
    explicit Flatten(std::string name = "flatten") : Layer<4, 2>(std::move(name)) {}
    std::string kind() const override { return "Flatten"; }

    // [flatten]
    /// @brief (N, C, H, W) to (N, C * H * W), row-major: the rows of out are the samples.
    Tensor<2> forward(const Tensor<4>& x) override {
        // TODO(ch07) begin: Flatten::forward -- read README.md section 2
        course::todo("ch07", "Flatten::forward", "read README.md section 2");
        // TODO(ch07) end
    }

    /// @brief (N, C * H * W) back to the (N, C, H, W) that forward saw.
    Tensor<4> backward(const Tensor<2>& dout) override {
        const Cache& cache = cached(cache_);
        const auto& s = cache.input_shape;
        check_shape(where("backward"), "dout", dout, {{"N", s[0]}, {"C*H*W", s[1] * s[2] * s[3]}});
        // TODO(ch07) begin: Flatten::backward -- read README.md section 2
        course::todo("ch07", "Flatten::backward", "read README.md section 2");
        // TODO(ch07) end
    }
    // [flatten]

private:
    struct Cache {
        std::array<std::size_t, 4> input_shape;  ///< (N, C, H, W) of the last forward
    };
    std::optional<Cache> cache_;
};

/// @brief The shape of one input image: channels, height, width. The default is MNIST's 1 x 28 x 28.
struct ImageShape {
    std::size_t channels = 1;
    std::size_t height = 28;
    std::size_t width = 28;
};

/// @brief LeNet's layer sizes, written once: `SimpleConvNet` builds its layers from them, and the reference's
/// fast path computes with them.
///
/// Conv(6, 5x5) - ReLU - MaxPool(2x2) - Conv(16, 5x5) - ReLU - MaxPool(2x2) - Flatten - FC(120) - ReLU -
/// FC(84) - ReLU - FC(K). The input shape (`ImageShape`) and K are the constructor's arguments.
struct LeNetArchitecture {
    static constexpr std::size_t conv1_filters = 6;   ///< conv1's output channels
    static constexpr std::size_t conv2_filters = 16;  ///< conv2's output channels
    static constexpr std::size_t kernel = 5;          ///< both convolutions: kernel x kernel, stride 1, no padding
    static constexpr std::size_t pool = 2;            ///< both poolings: pool x pool windows, stride pool
    static constexpr std::size_t fc1_features = 120;  ///< fc1's outputs
    static constexpr std::size_t fc2_features = 84;   ///< fc2's outputs

    /// @brief The height (or width) after a convolution: size - kernel + 1.
    static constexpr std::size_t after_conv(std::size_t size) { return size - kernel + 1; }
    /// @brief The height (or width) after a pooling: floor(size / pool).
    static constexpr std::size_t after_pool(std::size_t size) { return size / pool; }
    /// @brief The smallest height (or width) that leaves a whole pooling window after the second convolution:
    /// 16 for 5 x 5 kernels and 2 x 2 pooling.
    static constexpr std::size_t min_size = pool * (pool + kernel - 1) + kernel - 1;
};

/// @brief LeNet: Conv(6, 5x5) - ReLU - MaxPool(2x2) - Conv(16, 5x5) - ReLU - MaxPool(2x2) - Flatten -
/// FC(120) - ReLU - FC(84) - ReLU - FC(K), trained with softmax + cross-entropy.
///
/// The layers are public members, in the order the data flows through them, so that you can look at any of
/// them (`net.conv1.W` holds the first layer's filters).
class SimpleConvNet {
private:
    Rng init_rng_;  // declared first: members are built in declaration order, and every layer draws from it
    using Arch = LeNetArchitecture;  // the layer sizes

public:
    /// @brief The size of the flattened feature maps, 16 x H2 x W2, for an input of the given shape.
    ///
    /// For 1 x 28 x 28: conv 5x5 gives 24 x 24, pool gives 12 x 12, conv gives 8 x 8, pool gives 4 x 4,
    /// so 16 x 4 x 4 = 256. For 3 x 32 x 32 it is 16 x 5 x 5 = 400.
    /// @throws ArgumentError when the image is too small for the two convolutions and poolings (below 16 x 16)
    static std::size_t flatten_size(ImageShape input) {
        auto after_two_conv_and_pool = [](std::size_t size, const char* axis) {
            // 5x5 kernel, stride 1, no padding (size - 4), then 2x2 pooling, stride 2 (floor), twice: the
            // smallest size that leaves a pooling window after the second convolution is 16
            if (size < Arch::min_size) {
                const std::string k = std::to_string(Arch::kernel), p = std::to_string(Arch::pool);
                throw ArgumentError(std::string("SimpleConvNet: the image ") + axis + " is " + std::to_string(size) +
                                    " but must be at least " + std::to_string(Arch::min_size) + " for two " + k + "x" +
                                    k + " convolutions, each followed by " + p + "x" + p + " pooling");
            }
            return Arch::after_pool(Arch::after_conv(Arch::after_pool(Arch::after_conv(size))));
        };
        return Arch::conv2_filters * after_two_conv_and_pool(input.height, "height") *
               after_two_conv_and_pool(input.width, "width");
    }

    /// @brief A LeNet for images of shape `input` and `num_classes` classes, with weights drawn from `seed`.
    ///
    /// @param input        C x H x W of one image; (1, 28, 28) for MNIST, (3, 32, 32) for CIFAR-like images
    /// @param num_classes  K, the number of scores per image
    /// @param seed         the seed of the random weights: the same seed gives the same network
    /// @throws ArgumentError when the image has no channel or is smaller than 16 x 16, or num_classes is 0
    explicit SimpleConvNet(ImageShape input = {}, std::size_t num_classes = 10, std::uint64_t seed = default_seed)
        : init_rng_(seed),
          conv1(checked_channels(input, num_classes), Arch::conv1_filters, Arch::kernel, init_rng_, 1, 0, "conv1"),
          relu1("relu1"),
          pool1(Arch::pool, "pool1"),
          conv2(Arch::conv1_filters, Arch::conv2_filters, Arch::kernel, init_rng_, 1, 0, "conv2"),
          relu2("relu2"),
          pool2(Arch::pool, "pool2"),
          flatten("flatten"),
          fc1(flatten_size(input), Arch::fc1_features, init_rng_, "fc1"),
          relu3("relu3"),
          fc2(Arch::fc1_features, Arch::fc2_features, init_rng_, "fc2"),
          relu4("relu4"),
          fc3(Arch::fc2_features, num_classes, init_rng_, "fc3"),
          input_(input),
          num_classes_(num_classes) {}

    Conv2D conv1;  ///< (N, C, H, W) -> (N, 6, H-4, W-4)
    ReLU<4> relu1;
    MaxPool2D pool1;  ///< -> (N, 6, (H-4)/2, (W-4)/2)
    Conv2D conv2;     ///< -> (N, 16, ., .)
    ReLU<4> relu2;
    MaxPool2D pool2;     ///< -> (N, 16, H2, W2)
    Flatten flatten;     ///< -> (N, 16 H2 W2)
    FullyConnected fc1;  ///< -> (N, 120)
    ReLU<2> relu3;
    FullyConnected fc2;  ///< -> (N, 84)
    ReLU<2> relu4;
    FullyConnected fc3;  ///< -> (N, K): the scores

    ImageShape input_shape() const { return input_; }
    std::size_t num_classes() const { return num_classes_; }

    // [forward]
    /// @brief Forward pass through every layer, in order.
    ///
    /// @param x  images, shape (N, C, H, W)
    /// @return   scores, shape (N, K): one unnormalized score per class (softmax turns them into probabilities)
    /// @throws ShapeError when x does not have the network's input shape, or holds no image (N = 0)
    Tensor<2> forward(const Tensor<4>& x) {
        check_batch("SimpleConvNet forward", "x", x,
                    {{"N"}, {"C", input_.channels}, {"H", input_.height}, {"W", input_.width}});
        // TODO(ch07) begin: SimpleConvNet::forward -- read README.md section 3
        course::todo("ch07", "SimpleConvNet::forward", "read README.md section 3");
        // TODO(ch07) end
    }
    // [forward]

    // [backward]
    /// @brief Backward pass through every layer, in reverse order; fills the gradients of all parameters.
    ///
    /// @param dscores  \f$ \partial L / \partial scores \f$, shape (N, K), from `cross_entropy_loss`
    /// @return         \f$ \partial L / \partial x \f$, shape (N, C, H, W)
    /// @throws ShapeError when dscores does not have K columns (fc3's backward checks N against its forward)
    Tensor<4> backward(const Tensor<2>& dscores) {
        check_shape("SimpleConvNet backward", "dscores", dscores, {{"N"}, {"K", num_classes_}});
        // TODO(ch07) begin: SimpleConvNet::backward -- read README.md section 4
        course::todo("ch07", "SimpleConvNet::backward", "read README.md section 4");
        // TODO(ch07) end
    }
    // [backward]

    /// @brief Every trainable tensor of the network with its gradient: conv1.W, conv1.b, ..., fc3.b.
    std::vector<ParamRef> params_and_grads() {
        std::vector<ParamRef> all;
        for (LayerBase* layer : std::initializer_list<LayerBase*>{&conv1, &conv2, &fc1, &fc2, &fc3}) {
            for (ParamRef& p : layer->params_and_grads()) all.push_back(std::move(p));
        }
        return all;
    }

    /// @brief The number of trainable numbers: 44,426 for 1 x 28 x 28 images and 10 classes.
    std::size_t parameter_count() {
        std::size_t count = 0;
        for (const ParamRef& p : params_and_grads()) count += p.value.size();
        return count;
    }

    /// @brief The most likely class of every image: the index of the largest score.
    Labels predict(const Tensor<4>& x) {
        const Tensor<2> scores = forward(x);
        Labels labels(scores.shape(0));
        for (std::size_t n = 0; n < labels.size(); ++n) {
            std::size_t best = 0;
            for (std::size_t k = 1; k < scores.shape(1); ++k) {
                if (scores(n, k) > scores(n, best)) best = k;
            }
            labels[n] = best;
        }
        return labels;
    }

private:
    /// Checks the constructor's arguments before any layer is built, and returns C as `Conv2D` takes it.
    static int checked_channels(ImageShape input, std::size_t num_classes) {
        if (input.channels < 1 || input.channels > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
            throw ArgumentError("SimpleConvNet: the image has " + std::to_string(input.channels) +
                                " channels but must have at least 1 (and at most INT_MAX, Conv2D's limit)");
        }
        if (num_classes < 1) throw ArgumentError("SimpleConvNet: num_classes must be at least 1, not 0");
        flatten_size(input);  // throws when the image is too small
        return static_cast<int>(input.channels);
    }

    ImageShape input_;
    std::size_t num_classes_;
};

// [sgd_update]
/// @brief Plain stochastic gradient descent: \f$ w \leftarrow w - \eta\, dw \f$ for every number of every
/// parameter.
///
/// @param params         the parameters and their gradients, from `params_and_grads()`
/// @param learning_rate  \f$ \eta \f$, the step size (positive)
/// @throws ArgumentError when the learning rate is not a positive number
inline void sgd_update(const std::vector<ParamRef>& params, real learning_rate) {
    if (!(learning_rate > 0) || !std::isfinite(learning_rate)) {
        throw ArgumentError("sgd_update: learning_rate must be a positive number, not " +
                            std::to_string(learning_rate));
    }
    // TODO(ch07) begin: sgd_update -- read README.md section 5
    course::todo("ch07", "sgd_update", "read README.md section 5");
    // TODO(ch07) end
}
// [sgd_update]

// [train_step]
/// @brief One step of training on one minibatch: forward, loss, backward, update.
///
/// @param net            the network to train
/// @param x              a minibatch of images, shape (N, C, H, W)
/// @param y              their N labels
/// @param learning_rate  the SGD step size
/// @return               the mean cross-entropy loss of the minibatch, measured before the update
inline real train_step(SimpleConvNet& net, const Tensor<4>& x, const Labels& y, real learning_rate) {
    // TODO(ch07) begin: train_step -- read README.md section 5
    course::todo("ch07", "train_step", "read README.md section 5");
    // TODO(ch07) end
}
// [train_step]

/// @brief The share of `data` that `net` classifies right, computed in batches of `batch_size`.
/// @throws ArgumentError when batch_size is 0
inline double accuracy(SimpleConvNet& net, const Dataset& data, std::size_t batch_size = 256) {
    if (batch_size == 0) throw ArgumentError("accuracy: batch_size must be at least 1, not 0");
    if (data.size() == 0) return 0.0;
    std::vector<std::size_t> indices(batch_size);
    Tensor<4> x;
    Labels y;
    std::size_t right = 0;
    for (std::size_t start = 0; start < data.size(); start += batch_size) {
        const std::size_t end = std::min(start + batch_size, data.size());
        indices.resize(end - start);
        std::iota(indices.begin(), indices.end(), start);
        gather_batch(data, indices, x, y);
        const Labels predicted = net.predict(x);
        for (std::size_t i = 0; i < y.size(); ++i) right += predicted[i] == y[i];
    }
    return static_cast<double>(right) / static_cast<double>(data.size());
}

/// @brief One epoch: shuffle the training set, cut it into minibatches, and call `train_step` on each.
///
/// @param net            the network
/// @param data           the training set
/// @param batch_size     samples per minibatch (the last one may be smaller)
/// @param learning_rate  the SGD step size
/// @param rng            the generator of the shuffle (seeded: the same seed gives the same epoch)
/// @param after_step     called after every step with (step index, number of steps, batch size, loss);
///                       return false to stop the epoch early
/// @return the mean loss over the epoch's steps
inline double train_epoch(SimpleConvNet& net, const Dataset& data, std::size_t batch_size, real learning_rate, Rng& rng,
                          const std::function<bool(std::size_t, std::size_t, std::size_t, double)>& after_step = {}) {
    double total = 0.0;
    const std::size_t done = for_each_minibatch(
        data, batch_size, rng, [&](const Tensor<4>& x, const Labels& y, std::size_t index, std::size_t count) {
            const double loss = train_step(net, x, y, learning_rate);
            total += loss;
            return !after_step || after_step(index, count, y.size(), loss);
        });
    return done ? total / static_cast<double>(done) : 0.0;
}

}  // namespace course
