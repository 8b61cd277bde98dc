// Tests of the reference's fast path (solutions/fast/lenet_fast.hpp) against the readable layers of
// chapters 2 to 7. Built on the reference track only: the learner's track has no fast path.
#include "support/catch.hpp"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <span>
#include <vector>

#include "08_optimizers/optimizers.hpp"
#include "course/gradcheck.hpp"
#include "course/random.hpp"
#include "fast/lenet_fast.hpp"

// Counts every C++ heap allocation of this test program, to prove that a steady-state training step
// of the fast path makes none. (GCC 12 takes the free() of a replaced operator delete for a mismatch.)
// Every form of plain new and delete is replaced, not only the two that the fast path uses: a sanitizer
// build brings its own operator new for each form it is not given, and memory from its nothrow new (Catch2
// uses it) freed by the free() below would be a real allocator mismatch (AddressSanitizer reports it).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<std::size_t> allocations{0};
}
void* operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

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

Labels labels_for(std::size_t n, std::size_t classes, Rng& rng) { return random_labels(n, classes, rng); }

}  // namespace

TEST_CASE("the fast path gives the scores and every gradient of the layers", "[fast]") {
    for (std::size_t threads : {1, 2, 3}) {
        INFO(threads << " thread(s)");
        Rng rng(threads);
        SimpleConvNet net({1, 28, 28}, 10, 40 + threads);
        FastLeNet fast(net, threads);
        const Tensor<4> x = rand_uniform<4>({7, 1, 28, 28}, rng, 0.0, 1.0);  // 7: uneven slices for 2 and 3 threads
        const Labels y = labels_for(7, 10, rng);
        CHECK(check_close("scores", fast.scores(x), net.forward(x), 1e-10, 1e-13));
        const Reference r = reference(net, x, y);
        const double loss = fast.forward_backward(x, y);
        CHECK(loss == Catch::Approx(r.loss).epsilon(1e-12));
        check_same_gradients(r, fast);
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
        const std::size_t start = allocations.load();
        const std::vector<int> probe(10);  // proves that the counter sees allocations at all
        REQUIRE(allocations.load() > start);
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
        const std::size_t before = allocations.load();
        const std::size_t heap_before = mallinfo2().uordblks;
        for (int step = 0; step < 3; ++step) {
            fast.train_step(x, y, optimizer, 0.01);
            fast.train_step(smaller, y_smaller, optimizer, 0.01);  // the last batch of an epoch is smaller
        }
        CHECK(allocations.load() - before == 0);
        CHECK(mallinfo2().uordblks == heap_before);  // nor through malloc (OpenBLAS keeps its own buffers)
    }
}

TEST_CASE("wrong input to the fast path is a clear error", "[fast]") {
    SimpleConvNet net;
    FastLeNet fast(net, 1);
    const Tensor<4> wrong = xt::zeros<double>({2, 1, 32, 32});
    CHECK_THROWS_WITH(fast.scores(wrong), "FastLeNet scores: x has shape (2, 1, 32, 32) but must be (N, C=1, H=28, W=28)");
    const Tensor<4> x = xt::zeros<double>({2, 1, 28, 28});
    CHECK_THROWS_AS(fast.forward_backward(x, {1}), ShapeError);
    CHECK_THROWS_WITH(fast.forward_backward(x, {1, 10}), "FastLeNet forward_backward: label y[1] = 10 is not below K = 10");
    SimpleConvNet colour({3, 32, 32});
    CHECK_THROWS_WITH(fast.copy_weights_to(colour), Catch::Matchers::ContainsSubstring("conv1.W has shape (6, 3, 5, 5) but this one's is (6, 1, 5, 5)"));
}

TEST_CASE("an empty batch or a label count other than N is refused by the fast path", "[fast]") {
    SimpleConvNet net;
    FastLeNet fast(net, 2);
    const Tensor<4> empty = xt::zeros<double>({0, 1, 28, 28});
    CHECK_THROWS_WITH(fast.forward_backward(empty, {}), "FastLeNet forward_backward: x has shape (0, 1, 28, 28) but must "
                                                        "be (N>=1, C=1, H=28, W=28): a batch holds at least one sample");
    CHECK_THROWS_AS(fast.scores(empty), ShapeError);
    const Tensor<4> x = xt::zeros<double>({2, 1, 28, 28});
    CHECK_THROWS_WITH(fast.forward_backward(x, {1, 2, 3}),
                      "FastLeNet forward_backward: y has 3 labels but x has N = 2 images (one label per image)");
}
