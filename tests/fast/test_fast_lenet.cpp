// Tests of the reference's fast path (solutions/fast/lenet_fast.hpp) against the readable layers of
// chapters 2 to 7. Built on the reference track only: the learner's track has no fast path.
#include "support/catch.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "08_optimizers/optimizers.hpp"
#include "course/gradcheck.hpp"
#include "course/random.hpp"
#include "fast/lenet_fast.hpp"
#include "support/alloc_counter.hpp"  // operator new of this program counts its calls (alloc_counter.cpp)

using namespace course;
using course::fast::FastLeNet;

namespace {

// A copy of any run of numbers as a 1-D tensor, for check_close.
Tensor<1> flat(std::span<const double> values) {
    Tensor<1> t(std::array<std::size_t, 1>{values.size()});
    std::copy(values.begin(), values.end(), t.begin());
    return t;
}

// The loss, scores and gradients of the readable network for one batch.
struct Reference {
    double loss;
    Tensor<2> scores;
    std::vector<std::vector<double>> grads;
};

Reference reference(SimpleConvNet& net, const Tensor<4>& x, const Labels& y) {
    Reference r;
    r.scores = net.forward(x);
    const LossAndGradient lg = cross_entropy_loss(r.scores, y);
    r.loss = lg.loss;
    net.backward(lg.dscores);
    for (const ParamRef& p : net.params_and_grads()) r.grads.emplace_back(p.grad.begin(), p.grad.end());
    return r;
}

void check_same_gradients(const Reference& r, const FastLeNet& fast) {
    const auto& params = fast.params_and_grads();
    REQUIRE(params.size() == r.grads.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        CHECK(check_close("d(" + params[i].name + ")", flat(params[i].grad), flat(r.grads[i]), 1e-10, 1e-13));
    }
}

Labels labels_for(std::size_t n, std::size_t classes, Rng& rng) {
    return random_labels(n, classes, rng);
}

}  // namespace

TEST_CASE("the fast path gives the scores and every gradient of the layers, also summed over sub-batches", "[fast]") {
    const std::size_t threads = GENERATE(as<std::size_t>{}, 1, 2, 3);
    // sub-batches of 2: a thread's slice of 7, 4 or 3 images runs as several passes whose gradients add up
    const std::size_t sub_batch = GENERATE(as<std::size_t>{}, FastLeNet::default_sub_batch, 2);
    INFO(threads << " thread(s), sub-batches of at most " << sub_batch << " images");
    Rng rng(threads);
    SimpleConvNet net({1, 28, 28}, 10, 40 + threads);
    FastLeNet fast(net, threads, sub_batch);
    const Tensor<4> x = rand_uniform<4>({7, 1, 28, 28}, rng, 0.0, 1.0);  // 7: uneven slices for 2 and 3 threads
    const Labels y = labels_for(7, 10, rng);
    CHECK(check_close("scores", fast.scores(x), net.forward(x), 1e-10, 1e-13));
    const Reference r = reference(net, x, y);
    const double loss = fast.forward_backward(x, y);
    CHECK(loss == Catch::Approx(r.loss).epsilon(1e-12));
    check_same_gradients(r, fast);
}

TEST_CASE("the fast path's parameters have the names, shapes and order of SimpleConvNet's", "[fast]") {
    SimpleConvNet net({3, 32, 32}, 7, 3);
    const FastLeNet fast(net, 1);
    const auto expected = net.params_and_grads();
    const auto& actual = fast.params_and_grads();
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        CHECK(actual[i].name == expected[i].name);
        CHECK(actual[i].shape == expected[i].shape);
        CHECK(actual[i].value.size() == expected[i].value.size());
        CHECK(actual[i].grad.size() == expected[i].value.size());
    }
}

TEST_CASE("the fast path handles colour images and another number of classes", "[fast]") {
    Rng rng(5);
    SimpleConvNet net({3, 32, 32}, 7, 9);
    FastLeNet fast(net, 2);
    const Tensor<4> x = rand_uniform<4>({4, 3, 32, 32}, rng, 0.0, 1.0);
    const Labels y = labels_for(4, 7, rng);
    const Reference r = reference(net, x, y);
    CHECK(fast.forward_backward(x, y) == Catch::Approx(r.loss).epsilon(1e-12));
    check_same_gradients(r, fast);
}

TEST_CASE("pooling ties go to the first maximum as in MaxPool2D", "[fast]") {
    // Constant images make every pooling window a tie of four equal values.
    SimpleConvNet net({1, 28, 28}, 10, 11);
    FastLeNet fast(net, 1);
    const Tensor<4> x = xt::ones<double>({3, 1, 28, 28});
    const Labels y = {1, 5, 9};
    const Reference r = reference(net, x, y);
    CHECK(fast.forward_backward(x, y) == Catch::Approx(r.loss).epsilon(1e-12));
    check_same_gradients(r, fast);
}

TEST_CASE("a NaN wins its pooling window and stays NaN through ReLU in the fast path as in the layers", "[fast]") {
    // The network cannot show this rule: one NaN spreads to every score. So the kernels are checked alone,
    // against MaxPool2D and ReLU. One 2 x 4 plane holds two windows; the NaN goes to each position in turn,
    // also a second NaN after it, and the right window has none.
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t at = 0; at < 4; ++at) {
        for (bool second_nan : {false, true}) {
            INFO("NaN at position " << at << " of the left window" << (second_nan ? ", and one after it" : ""));
            Tensor<4> x = {{{{1, 2, 5, 6}, {3, 4, 7, 8}}}};
            x(0, 0, at / 2, at % 2) = nan;
            if (second_nan && at < 3) x(0, 0, (at + 1) / 2, (at + 1) % 2) = nan;
            std::vector<double> out(2);
            std::vector<std::uint8_t> win(2);
            FastLeNet::pool2x2(x.data(), 1, 2, 4, out.data(), win.data());
            MaxPool2D pool(2);
            const Tensor<4> expected = pool.forward(x);
            CHECK(std::isnan(out[0]));
            CHECK(std::isnan(expected(0, 0, 0, 0)));
            CHECK(out[1] == expected(0, 0, 0, 1));
            // The layer's backward sends the gradient to the winner: the fast path must name the same one.
            const Tensor<4> dx = pool.backward(xt::ones<double>({1, 1, 1, 2}));
            CHECK(dx(0, 0, win[0] / 2, win[0] % 2) == 1.0);
            CHECK(win[0] == at);
            CHECK(win[1] == 3);
        }
    }
    std::vector<double> z = {nan, -1.0, 2.0};
    const std::vector<double> b = {0.0};
    FastLeNet::bias_relu_rows(z.data(), b.data(), 1, 3);
    CHECK(std::isnan(z[0]));
    CHECK(z[1] == 0.0);
    CHECK(z[2] == 2.0);
    std::vector<double> columns = {nan, -1.0};
    const std::vector<double> b2 = {0.0, 0.0};
    FastLeNet::bias_columns(columns.data(), b2.data(), 1, 2, true);
    CHECK(std::isnan(columns[0]));
    CHECK(columns[1] == 0.0);
}

TEST_CASE("training steps with momentum give the weights of the layers", "[fast]") {
    Rng rng(6);
    SimpleConvNet net({1, 28, 28}, 10, 12);
    FastLeNet fast(net, 2);
    MomentumSGD slow_optimizer(0.9), fast_optimizer(0.9);
    for (std::size_t batch : {8, 5, 8}) {  // a smaller batch in between, as at the end of an epoch
        const Tensor<4> x = rand_uniform<4>({batch, 1, 28, 28}, rng, 0.0, 1.0);
        const Labels y = labels_for(batch, 10, rng);
        const double slow = train_step(net, x, y, slow_optimizer, 0.05);
        const double quick = fast.train_step(x, y, fast_optimizer, 0.05);
        CHECK(quick == Catch::Approx(slow).epsilon(1e-10));
    }
    SimpleConvNet copy({1, 28, 28}, 10, 99);
    fast.copy_weights_to(copy);
    auto a = copy.params_and_grads(), b = net.params_and_grads();
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(check_close(a[i].name + " after three steps", flat(a[i].value), flat(b[i].value), 1e-9, 1e-12));
    }
}

TEST_CASE("a steady-state training step of the fast path allocates no memory", "[fast]") {
    {
        const std::size_t start = alloc_counter::allocations();
        // Proves that the counter sees allocations at all. The pointer goes through a volatile: clang removes
        // an allocation whose memory is never used (a plain unused std::vector), and the probe then counts 0.
        void* volatile probe = ::operator new(16);
        ::operator delete(probe);
        REQUIRE(alloc_counter::allocations() > start);
    }
    for (std::size_t threads : {1, 2}) {
        INFO(threads << " thread(s)");
        Rng rng(7);
        SimpleConvNet net({1, 28, 28}, 10, 13);
        FastLeNet fast(net, threads);
        MomentumSGD optimizer(0.9);
        const Tensor<4> x = rand_uniform<4>({32, 1, 28, 28}, rng, 0.0, 1.0);
        const Tensor<4> smaller = rand_uniform<4>({20, 1, 28, 28}, rng, 0.0, 1.0);
        const Labels y = labels_for(32, 10, rng), y_smaller = labels_for(20, 10, rng);
        fast.train_step(x, y, optimizer, 0.01);  // the first step sizes the buffers and the velocities
        const std::size_t before = alloc_counter::allocations();
        const std::size_t heap_before = alloc_counter::malloc_bytes_in_use();
        for (int step = 0; step < 3; ++step) {
            fast.train_step(x, y, optimizer, 0.01);
            fast.train_step(smaller, y_smaller, optimizer, 0.01);  // the last batch of an epoch is smaller
        }
        CHECK(alloc_counter::allocations() - before == 0);
        // nor through malloc (OpenBLAS keeps its own buffers)
        CHECK(alloc_counter::malloc_bytes_in_use() == heap_before);
    }
}

TEST_CASE("wrong input to the fast path is a clear error", "[fast]") {
    SimpleConvNet net;
    FastLeNet fast(net, 1);
    const Tensor<4> wrong = xt::zeros<double>({2, 1, 32, 32});
    CHECK_THROWS_WITH(fast.scores(wrong),
                      "FastLeNet scores: x has shape (2, 1, 32, 32) but must be (N, C=1, H=28, W=28)");
    const Tensor<4> x = xt::zeros<double>({2, 1, 28, 28});
    CHECK_THROWS_AS(fast.forward_backward(x, {1}), ShapeError);
    CHECK_THROWS_WITH(fast.forward_backward(x, {1, 10}),
                      "FastLeNet forward_backward: label y[1] = 10 is not below K = 10");
    SimpleConvNet colour({3, 32, 32});
    CHECK_THROWS_WITH(
        fast.copy_weights_to(colour),
        Catch::Matchers::ContainsSubstring("conv1.W has shape (6, 3, 5, 5) but this one's is (6, 1, 5, 5)"));
}

TEST_CASE("an empty batch or a label count other than N is refused by the fast path", "[fast]") {
    SimpleConvNet net;
    FastLeNet fast(net, 2);
    const Tensor<4> empty = xt::zeros<double>({0, 1, 28, 28});
    CHECK_THROWS_WITH(fast.forward_backward(empty, {}),
                      "FastLeNet forward_backward: x has shape (0, 1, 28, 28) but must "
                      "be (N>=1, C=1, H=28, W=28): a batch holds at least one sample");
    CHECK_THROWS_AS(fast.scores(empty), ShapeError);
    const Tensor<4> x = xt::zeros<double>({2, 1, 28, 28});
    CHECK_THROWS_WITH(fast.forward_backward(x, {1, 2, 3}),
                      "FastLeNet forward_backward: y has 3 labels but x has N = 2 images (one label per image)");
}
