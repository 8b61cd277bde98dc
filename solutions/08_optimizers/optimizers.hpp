/// @file optimizers.hpp
/// @brief Chapter 8, part 2: optimizers (plain SGD and momentum SGD) and learning-rate schedules, and the
/// training step and epoch that use them.
///
/// An optimizer turns gradients into parameter updates. It works on `params_and_grads()`, so it can train
/// any network of the course, and it keeps its own state (the velocity of momentum) per parameter tensor.
#pragma once

#include <cmath>
#include <functional>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "07_network/network.hpp"
#include "course/errors.hpp"
#include "course/layer.hpp"

namespace course {

/// @brief Something that updates parameters from their gradients, one step at a time.
class Optimizer {
public:
    virtual ~Optimizer() = default;

    /// @brief Updates every parameter in `params` from its gradient, with step size `learning_rate`.
    ///
    /// Call it with the parameters in the same order at every step (as `params_and_grads()` lists them):
    /// an optimizer with state keeps one state per position and checks the name and size still match.
    virtual void step(const std::vector<ParamRef>& params, real learning_rate) = 0;

    /// @brief A short description for logs, for example "momentum SGD (beta = 0.9)".
    virtual std::string describe() const = 0;
};

/// @brief Plain stochastic gradient descent, \f$ w \leftarrow w - \eta\, g \f$: chapter 7's `sgd_update`.
class SGD : public Optimizer {
public:
    void step(const std::vector<ParamRef>& params, real learning_rate) override {
        check_learning_rate(learning_rate);
        sgd_update(params, learning_rate);
    }
    std::string describe() const override { return "SGD"; }

    /// @brief Throws `ArgumentError` unless the learning rate is a positive, finite number.
    static void check_learning_rate(real learning_rate) {
        if (!(learning_rate > 0) || !std::isfinite(learning_rate)) {
            throw ArgumentError("optimizer step: the learning rate must be a positive number, not " +
                                std::to_string(learning_rate));
        }
    }
};

/// @brief Momentum SGD: \f$ v \leftarrow \beta v - \eta\, g \f$, then \f$ w \leftarrow w + v \f$.
///
/// The velocity \f$ v \f$ is a running, decaying sum of past steps: directions in which the gradients agree
/// from step to step build up speed, directions in which they flip sign cancel out. With \f$ \beta = 0 \f$
/// it is plain SGD. The velocity starts at 0, one tensor per parameter tensor.
class MomentumSGD : public Optimizer {
public:
    /// @param beta  \f$ \beta \f$, how much of the velocity survives a step; in [0, 1)
    /// @throws ArgumentError when beta is outside [0, 1)
    explicit MomentumSGD(real beta = real(0.9)) : beta_(beta) {
        if (!(beta >= 0 && beta < 1)) {
            throw ArgumentError("MomentumSGD: beta must be in [0, 1), not " + std::to_string(beta) +
                                " (at 1 or more the velocity never decays and training diverges)");
        }
    }

    real beta() const { return beta_; }
    std::string describe() const override { return "momentum SGD (beta = " + std::to_string(beta_).substr(0, 4) + ")"; }

    /// @brief The velocity of parameter number `i` (for tests and plots).
    /// @throws ArgumentError when there is no parameter `i` (before the first step there is none)
    const std::vector<real>& velocity(std::size_t i) const {
        if (i >= velocity_.size()) {
            throw ArgumentError("MomentumSGD velocity: there is no parameter " + std::to_string(i) +
                                ", the optimizer has " + std::to_string(velocity_.size()) +
                                " velocities (none before the first step)");
        }
        return velocity_[i];
    }

    // [momentum_step]
    void step(const std::vector<ParamRef>& params, real learning_rate) override {
        SGD::check_learning_rate(learning_rate);
        prepare_velocity(params);
        // v <- beta v - eta g ; w <- w + v, for every number of every parameter (velocity_[i] belongs to params[i])
        // TODO(ch08) begin: MomentumSGD::step -- read README.md section 5
        for (std::size_t i = 0; i < params.size(); ++i) {
            std::vector<real>& v = velocity_[i];
            const ParamRef& p = params[i];
            for (std::size_t j = 0; j < p.value.size(); ++j) {
                v[j] = beta_ * v[j] - learning_rate * p.grad[j];
                p.value[j] += v[j];
            }
        }
        // TODO(ch08) end
    }
    // [momentum_step]

private:
    /// Creates the velocities (zeros) at the first step, and checks at every later step that the parameters
    /// are the same ones, in the same order: a velocity applied to the wrong tensor would be a silent bug.
    void prepare_velocity(const std::vector<ParamRef>& params) {
        if (velocity_.empty()) {
            for (const ParamRef& p : params) {
                velocity_.emplace_back(p.value.size(), real(0));
                names_.push_back(p.name);
            }
            return;
        }
        if (params.size() != velocity_.size()) {
            throw ArgumentError("MomentumSGD step: " + std::to_string(params.size()) +
                                " parameters, but the first "
                                "step had " +
                                std::to_string(velocity_.size()));
        }
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (params[i].name != names_[i] || params[i].value.size() != velocity_[i].size()) {
                throw ArgumentError("MomentumSGD step: parameter " + std::to_string(i) + " is '" + params[i].name +
                                    "' with " + std::to_string(params[i].value.size()) +
                                    " numbers, but the first "
                                    "step had '" +
                                    names_[i] + "' with " + std::to_string(velocity_[i].size()));
            }
        }
    }

    real beta_;
    std::vector<std::vector<real>> velocity_;  ///< one per parameter tensor, in the order of params
    std::vector<std::string> names_;
};

// ---------------------------------------------------------------------------------------------------
// Learning-rate schedules: the step size as a function of the step number t = 0, 1, ..., T - 1.
// ---------------------------------------------------------------------------------------------------

/// @brief A learning rate that depends on the step number.
class LearningRateSchedule {
public:
    virtual ~LearningRateSchedule() = default;
    /// @brief \f$ \eta_t \f$, the learning rate of step t (t counts from 0).
    virtual real at(std::size_t t) const = 0;
    virtual std::string describe() const = 0;
};

namespace detail {
inline void check_positive(const char* who, const char* what, double value) {
    if (!(value > 0) || !std::isfinite(value)) {
        throw ArgumentError(std::string(who) + ": " + what + " must be a positive number, not " +
                            std::to_string(value));
    }
}
inline void check_factor(const char* who, double gamma) {
    if (!(gamma > 0 && gamma <= 1)) {
        throw ArgumentError(std::string(who) + ": the decay factor gamma must be in (0, 1], not " +
                            std::to_string(gamma));
    }
}
}  // namespace detail

/// @brief \f$ \eta_t = \eta_0 \f$.
class ConstantLR : public LearningRateSchedule {
public:
    explicit ConstantLR(real eta0) : eta0_(eta0) { detail::check_positive("ConstantLR", "the learning rate", eta0); }
    real at(std::size_t) const override { return eta0_; }
    std::string describe() const override { return "constant " + std::to_string(eta0_).substr(0, 6); }

private:
    real eta0_;
};

/// @brief Step decay: \f$ \eta_t = \eta_0\, \gamma^{\lfloor t / k \rfloor} \f$, the rate falls by the factor
/// \f$ \gamma \f$ every k steps.
class StepDecayLR : public LearningRateSchedule {
public:
    /// @param eta0   \f$ \eta_0 \f$, the first learning rate (positive)
    /// @param gamma  \f$ \gamma \f$, the factor of each drop, in (0, 1]
    /// @param every  k, the steps between two drops (at least 1)
    StepDecayLR(real eta0, real gamma, std::size_t every) : eta0_(eta0), gamma_(gamma), every_(every) {
        detail::check_positive("StepDecayLR", "the learning rate", eta0);
        detail::check_factor("StepDecayLR", gamma);
        if (every == 0) throw ArgumentError("StepDecayLR: the steps between two drops must be at least 1, not 0");
    }
    real at(std::size_t t) const override {
        // TODO(ch08) begin: StepDecayLR::at -- read README.md section 6
        // t / every_ is the number of drops so far: an integer division on purpose.
        // NOLINTNEXTLINE(bugprone-integer-division)
        return eta0_ * static_cast<real>(std::pow(gamma_, static_cast<double>(t / every_)));
        // TODO(ch08) end
    }
    std::string describe() const override { return "step decay"; }

private:
    real eta0_, gamma_;
    std::size_t every_;
};

/// @brief Exponential decay: \f$ \eta_t = \eta_0\, \gamma^{t} \f$, a small drop at every step.
class ExponentialDecayLR : public LearningRateSchedule {
public:
    /// @param eta0   \f$ \eta_0 \f$ (positive)
    /// @param gamma  \f$ \gamma \f$, the factor per step, in (0, 1]
    ExponentialDecayLR(real eta0, real gamma) : eta0_(eta0), gamma_(gamma) {
        detail::check_positive("ExponentialDecayLR", "the learning rate", eta0);
        detail::check_factor("ExponentialDecayLR", gamma);
    }
    real at(std::size_t t) const override {
        // TODO(ch08) begin: ExponentialDecayLR::at -- read README.md section 6
        return eta0_ * static_cast<real>(std::pow(gamma_, static_cast<double>(t)));
        // TODO(ch08) end
    }
    std::string describe() const override { return "exponential decay"; }

private:
    real eta0_, gamma_;
};

/// @brief Cosine decay: \f$ \eta_t = \eta_{min} + \tfrac12 (\eta_0 - \eta_{min})(1 + \cos(\pi t / T)) \f$ for
/// \f$ t < T \f$, then \f$ \eta_{min} \f$: a slow start of the decay, a fast middle, and a slow landing.
class CosineDecayLR : public LearningRateSchedule {
public:
    /// @param eta0     \f$ \eta_0 \f$, the rate at step 0 (positive)
    /// @param total    T, the step at which the rate reaches its minimum (at least 1)
    /// @param eta_min  \f$ \eta_{min} \f$, the final rate, in [0, eta0]
    CosineDecayLR(real eta0, std::size_t total, real eta_min = 0) : eta0_(eta0), eta_min_(eta_min), total_(total) {
        detail::check_positive("CosineDecayLR", "the learning rate", eta0);
        if (total == 0) throw ArgumentError("CosineDecayLR: the total number of steps must be at least 1, not 0");
        if (!(eta_min >= 0 && eta_min <= eta0)) {
            throw ArgumentError("CosineDecayLR: eta_min must be in [0, eta0], not " + std::to_string(eta_min));
        }
    }
    real at(std::size_t t) const override {
        // TODO(ch08) begin: CosineDecayLR::at -- read README.md section 6
        if (t >= total_) return eta_min_;
        const double progress = static_cast<double>(t) / static_cast<double>(total_);
        return static_cast<real>(eta_min_ + 0.5 * (eta0_ - eta_min_) * (1.0 + std::cos(std::numbers::pi * progress)));
        // TODO(ch08) end
    }
    std::string describe() const override { return "cosine decay"; }

private:
    real eta0_, eta_min_;
    std::size_t total_;
};

// ---------------------------------------------------------------------------------------------------
// Training with an optimizer and a schedule: chapter 7's step and epoch, with the update left to the
// optimizer.
// ---------------------------------------------------------------------------------------------------

/// @brief One step: forward, loss, backward, then the optimizer's update with the given learning rate.
/// @return the mean loss of the minibatch, before the update
inline real train_step(SimpleConvNet& net, const Tensor<4>& x, const Labels& y, Optimizer& optimizer,
                       real learning_rate) {
    const LossAndGradient result = cross_entropy_loss(net.forward(x), y);
    net.backward(result.dscores);
    optimizer.step(net.params_and_grads(), learning_rate);
    return result.loss;
}

/// @brief One epoch with an optimizer and a schedule; `step` counts the steps of all epochs so far (the
/// schedule's t) and is advanced by the number of steps taken.
///
/// `after_step(step in epoch, steps in epoch, batch size, loss)` is called after each step; returning false
/// stops the epoch.
inline double train_epoch(SimpleConvNet& net, const Dataset& data, std::size_t batch_size, Optimizer& optimizer,
                          const LearningRateSchedule& schedule, std::size_t& step, Rng& rng,
                          const std::function<bool(std::size_t, std::size_t, std::size_t, double)>& after_step = {}) {
    double total = 0.0;
    const std::size_t done = for_each_minibatch(
        data, batch_size, rng, [&](const Tensor<4>& x, const Labels& y, std::size_t index, std::size_t count) {
            const double loss = train_step(net, x, y, optimizer, schedule.at(step));
            ++step;
            total += loss;
            return !after_step || after_step(index, count, y.size(), loss);
        });
    return done ? total / static_cast<double>(done) : 0.0;
}

}  // namespace course
