/// @file overfit.hpp
/// @brief `train --overfit N`: the sanity check before full training. The network trains on the first N
/// training images only, all of them in every step, with chapter 7's plain SGD (`train_step`), and two checks
/// say whether it behaves like a correct network:
///
/// 1. the first loss is close to ln(10) = 2.303, the loss of a network that gives each of the 10 classes the
///    same probability 1/10 (chapter 4);
/// 2. the loss falls below a small threshold within a fixed number of steps: a correct network can learn a few
///    images by heart.
///
/// It uses only chapters 2 to 7 (no optimizer or schedule of chapter 8), so a learner can run it as soon as
/// chapter 7 compiles.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "07_network/network.hpp"

namespace train {

/// @brief The settings of the overfit check. The defaults are measured on the reference: see README.md of
/// chapter 7, "Overfit a small set first".
struct OverfitSettings {
    std::size_t images = 50;       ///< N, the first N training images
    std::size_t max_steps = 300;   ///< check 2 fails when the loss is not below the threshold by then
    double learning_rate = 0.05;   ///< plain SGD, the same rate at every step
    double below_ln_k = 0.3;       ///< check 1: the first loss must be at least ln(K) - below_ln_k ...
    double above_ln_k = 3.0;       ///< ... and at most ln(K) + above_ln_k (the spread of the scores adds to it)
    double loss_threshold = 0.01;  ///< check 2: the loss must fall below this
    std::size_t print_every = 25;  ///< print the loss at step 1 and then every this many steps
};

/// @brief What the two checks saw.
struct OverfitResult {
    double first_loss = 0;
    double score_spread = 0;  ///< sigma: the standard deviation of the untrained scores within a row, averaged
    double scores_loss = 0;   ///< the cross-entropy of the untrained scores, computed here in double
    double last_loss = 0;
    std::size_t steps = 0;  ///< steps run; when check 2 passed, the step whose loss was below the threshold
    double seconds = 0;
    bool first_loss_ok = false;
    bool learned = false;
    std::size_t right = 0;               ///< images of the N the network classifies right at the end
    std::vector<std::string> unchanged;  ///< parameter tensors that no step changed (an update is missing)
};

/// @brief The spread of the scores of each image around their mean, as one number: the square root of the mean
/// squared deviation within a row. Softmax ignores a shift of a whole row, so only this spread moves the loss away
/// from ln(K).
inline double score_spread(const course::Tensor<2>& scores) {
    const std::size_t N = scores.shape(0), K = scores.shape(1);
    double sum = 0;
    for (std::size_t n = 0; n < N; ++n) {
        double mean = 0;
        for (std::size_t k = 0; k < K; ++k) mean += static_cast<double>(scores(n, k)) / static_cast<double>(K);
        for (std::size_t k = 0; k < K; ++k) sum += std::pow(static_cast<double>(scores(n, k)) - mean, 2);
    }
    return std::sqrt(sum / static_cast<double>(N * K));
}

/// @brief The mean cross-entropy of `scores` for labels `y`, computed here in double with a stable log-sum-exp,
/// independently of chapter 4's `cross_entropy_loss`.
inline double mean_cross_entropy(const course::Tensor<2>& scores, const course::Labels& y) {
    const std::size_t N = scores.shape(0), K = scores.shape(1);
    double sum = 0;
    for (std::size_t n = 0; n < N; ++n) {
        double largest = static_cast<double>(scores(n, 0));
        for (std::size_t k = 1; k < K; ++k) largest = std::max(largest, static_cast<double>(scores(n, k)));
        double exp_sum = 0;
        for (std::size_t k = 0; k < K; ++k) exp_sum += std::exp(static_cast<double>(scores(n, k)) - largest);
        sum += largest + std::log(exp_sum) - static_cast<double>(scores(n, y[n]));
    }
    return sum / static_cast<double>(N);
}

/// @brief Trains `net` on all of `data` (one minibatch of every image) with `train_step`, prints the loss as it
/// goes, then prints both checks, each with what a failure means. Returns what it saw.
inline OverfitResult overfit(course::SimpleConvNet& net, const course::Dataset& data, const OverfitSettings& s) {
    const std::size_t K = net.num_classes();
    const double ln_k = std::log(static_cast<double>(K));
    const double eta = s.learning_rate;
    std::printf(
        "overfit: %zu training images, all of them in every step; plain SGD (chapter 7's train_step), "
        "learning rate %g; at most %zu steps\n",
        data.size(), eta, s.max_steps);

    // A copy of every parameter before training, to find tensors that no update changes.
    std::vector<std::vector<course::real>> before;
    for (const course::ParamRef& p : net.params_and_grads()) before.emplace_back(p.value.begin(), p.value.end());

    OverfitResult r;
    {
        const course::Tensor<2> scores = net.forward(data.images);
        r.score_spread = score_spread(scores);
        r.scores_loss = mean_cross_entropy(scores, data.labels);
    }
    const auto start = std::chrono::steady_clock::now();
    bool diverged = false;
    for (std::size_t step = 1; step <= s.max_steps; ++step) {
        // train_step returns the loss of the weights before its update: step 1's loss is the untrained network's.
        const double loss = course::train_step(net, data.images, data.labels, static_cast<course::real>(eta));
        r.steps = step;
        r.last_loss = loss;
        if (step == 1) r.first_loss = loss;
        const bool below = loss < s.loss_threshold;
        diverged = !std::isfinite(loss);
        if (step == 1 || step % s.print_every == 0 || below || diverged) {
            std::printf("step %4zu  loss %.4f\n", step, loss);
            std::fflush(stdout);
        }
        if (below || diverged) {
            r.learned = below;
            break;
        }
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const course::Labels predicted = net.predict(data.images);
    for (std::size_t n = 0; n < data.size(); ++n) r.right += predicted[n] == data.labels[n];
    std::size_t index = 0;
    for (const course::ParamRef& p : net.params_and_grads()) {
        if (std::equal(p.value.begin(), p.value.end(), before[index++].begin())) r.unchanged.push_back(p.name);
    }

    const double low = ln_k - s.below_ln_k, high = ln_k + s.above_ln_k;
    r.first_loss_ok = r.first_loss >= low && r.first_loss <= high;
    std::printf("\ncheck 1, the first loss: %.4f; expected close to ln(%zu) = %.4f, between %.2f and %.2f: %s\n",
                r.first_loss, K, ln_k, low, high, r.first_loss_ok ? "passed" : "FAILED");
    if (!r.first_loss_ok) {
        std::printf(
            "  An untrained network gives each class about the same probability 1/%zu, so its loss is close to "
            "ln(%zu).\n"
            "  Likely causes: the initialization is wrong (weights far too large, or not random), softmax or "
            "cross_entropy_loss is wrong (chapter 4),\n"
            "  or the scores are not centred on 0 (a bias that does not start at 0, an input that is not in [0, 1]).\n",
            K, K);
        // Which of the causes: the loss of these scores, computed here, tells the loss apart from the scores.
        if (std::abs(r.first_loss - r.scores_loss) > 1e-3 * std::max(1.0, r.scores_loss)) {
            std::printf(
                "  Here: the cross-entropy of the same scores, computed by this program, is %.4f, not %.4f, "
                "so softmax or the loss is wrong.\n",
                r.scores_loss, r.first_loss);
        } else {
            std::printf(
                "  Here: the cross-entropy of the same scores, computed by this program, is also %.4f, so the loss is "
                "right\n"
                "  and the scores spread too much: within an image they vary by sigma = %.2f (the reference gives "
                "0.72 with seed 42).\n"
                "  The course's own initialization does this on a few seeds (6 of 100 give more than 3.8): if you "
                "changed --seed, try --seed 42.\n",
                r.scores_loss, r.score_spread);
        }
    }
    std::printf("check 2, learning: the loss %s %g after %zu steps (limit %zu), in %.1f s: %s\n",
                r.learned ? "fell below" : "is still above", s.loss_threshold, r.steps, s.max_steps, r.seconds,
                r.learned ? "passed" : "FAILED");
    if (!r.learned) {
        if (diverged) {
            std::printf("  The loss became %s at step %zu: the learning rate %g is far too high (try --lr %g).\n",
                        std::isnan(r.last_loss) ? "NaN" : "infinite", r.steps, eta, eta / 10);
        } else {
            std::printf("  The last loss was %.4f. A correct network learns %zu images by heart in this time.\n",
                        r.last_loss, data.size());
        }
        std::printf(
            "  Likely causes: a gradient is wrong (run ./course check for chapters 2 to 7), the learning rate is too "
            "low or too high\n"
            "  (this run used %g; the default is %g), or an update is missing (sgd_update skips a tensor, or "
            "train_step does not call it).\n",
            eta, OverfitSettings{}.learning_rate);
        for (const std::string& name : r.unchanged) {
            std::printf("  %s did not change in %zu steps: its gradient is 0, or no update reaches it.\n", name.c_str(),
                        r.steps);
        }
    }
    std::printf("the network classifies %zu of the %zu images right\n", r.right, data.size());
    if (r.first_loss_ok && r.learned) {
        std::printf("overfit: both checks passed. The network can learn; now train it on all the data.\n");
    } else {
        std::printf("overfit: %s failed. Fix this before you train on all the data.\n", !r.first_loss_ok && !r.learned
                                                                                            ? "both checks"
                                                                                        : !r.first_loss_ok ? "check 1"
                                                                                                           : "check 2");
    }
    return r;
}

}  // namespace train
