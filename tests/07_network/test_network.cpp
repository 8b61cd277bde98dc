// Chapter 7 tests: LeNet assembled from the layers of chapters 2 to 6, its backward pass, and training.
// The same file is built against chapters/ (the learner's code) and solutions/ (the reference).
#include "support/catch.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <vector>

#include <unistd.h>

#include <xtensor/xadapt.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xview.hpp>

#include "07_network/network.hpp"
#include "course/data.hpp"
#include "course/gradcheck.hpp"
#include "course/layer_check.hpp"
#include "course/random.hpp"
#include "course/weights.hpp"
#include "support/layer_checks.hpp"

using namespace course;
using namespace course_test;
using Catch::Matchers::Message;
using Catch::Matchers::MessageMatches;
using Catch::Matchers::StartsWith;

namespace {

// The smallest input LeNet accepts: 16 x 16 gives 12 x 12 after conv1, 6 x 6 after pool1, 2 x 2 after conv2
// and 1 x 1 after pool2. It keeps the whole-network gradient check fast.
constexpr ImageShape small_image{1, 16, 16};

// The smallest distance of any ReLU input to the kink at 0, and of any 2 x 2 pooling window's maximum
// to the runner-up, in one forward pass. Central differences with step h are only meaningful when both
// are much larger than the change h causes in them.
struct KinkDistances {
    double relu = std::numeric_limits<double>::infinity();
    double pool = std::numeric_limits<double>::infinity();
};

template <std::size_t Rank>
void relu_distance(const Tensor<Rank>& z, KinkDistances& d) {
    for (double v : z) d.relu = std::min(d.relu, std::abs(v));
}

void pool_distance(const Tensor<4>& a, KinkDistances& d) {
    for (std::size_t n = 0; n < a.shape(0); ++n) {
        for (std::size_t c = 0; c < a.shape(1); ++c) {
            for (std::size_t i = 0; i + 1 < a.shape(2); i += 2) {
                for (std::size_t j = 0; j + 1 < a.shape(3); j += 2) {
                    std::vector<double> w = {a(n, c, i, j), a(n, c, i, j + 1), a(n, c, i + 1, j),
                                             a(n, c, i + 1, j + 1)};
                    std::sort(w.rbegin(), w.rend());
                    // A window whose maximum is 0 holds ReLU outputs that are all 0: whichever wins, no
                    // gradient flows through it (ReLU stops it), so only positive maxima can tie harmfully.
                    if (w[0] > 0) d.pool = std::min(d.pool, w[0] - w[1]);
                }
            }
        }
    }
}

// Runs the layers of the reference architecture one by one and measures how close the batch sits to a
// kink. It uses the layers' own forward passes, so it needs the learner's layers of chapters 2 to 6.
KinkDistances kink_distances(SimpleConvNet& net, const Tensor<4>& x) {
    KinkDistances d;
    const Tensor<4> z1 = net.conv1.forward(x);
    relu_distance(z1, d);
    const Tensor<4> a1 = net.relu1.forward(z1);
    pool_distance(a1, d);
    const Tensor<4> z2 = net.conv2.forward(net.pool1.forward(a1));
    relu_distance(z2, d);
    const Tensor<4> a2 = net.relu2.forward(z2);
    pool_distance(a2, d);
    const Tensor<2> z3 = net.fc1.forward(net.flatten.forward(net.pool2.forward(a2)));
    relu_distance(z3, d);
    relu_distance(net.fc2.forward(net.relu3.forward(z3)), d);
    return d;
}

}  // namespace

TEST_CASE("Flatten turns N x C x H x W into N rows and back", "[ch07]") {
    Rng rng(1);
    Flatten flatten;
    const Tensor<4> x = randn<4>({2, 3, 4, 5}, rng);
    const Tensor<2> out = flatten.forward(x);
    REQUIRE(shape_of(out) == Shape{2, 60});
    // Upstream gradients of magnitude 0.5 to 1.5: a tiny element would drown in the rounding noise of the
    // central differences (about 1e-10) and make a correct dx look wrong.
    const Tensor<2> dout = 1.5 * rand_away_from_zero<2>({2, 60}, rng, 1.0 / 3.0, 1.0);
    SECTION("forward puts element (n, c, h, w) in column (c H + h) W + w of row n") {
        // An interior element: the last one lands in the last column in every axis order. The test case
        // "Flatten keeps the order (n, c, h, w) for every element" checks them all.
        CHECK(out(1, (1 * 4 + 2) * 5 + 3) == x(1, 1, 2, 3));
    }
    SECTION("backward puts every column back at its element") {
        const Tensor<4> dx = flatten.backward(dout);
        REQUIRE(shape_of(dx) == Shape{2, 3, 4, 5});
        CHECK(dx(0, 1, 2, 3) == dout(0, (1 * 4 + 2) * 5 + 3));
    }
    SECTION("dx matches the numerical gradient") {
        Tensor<4> x_var = x;
        for (const Comparison& c : check_layer_gradients(flatten, x_var, dout)) CHECK(c);
    }
}

TEST_CASE("the scores have one row per image and one column per class", "[ch07]") {
    Rng rng(2);
    SimpleConvNet mnist;
    CHECK(shape_of(mnist.forward(rand_uniform<4>({3, 1, 28, 28}, rng, 0.0, 1.0))) == Shape{3, 10});
    SimpleConvNet color({3, 32, 32}, 7);
    CHECK(shape_of(color.forward(rand_uniform<4>({2, 3, 32, 32}, rng, 0.0, 1.0))) == Shape{2, 7});
}

TEST_CASE("the flatten size follows from the input shape", "[ch07][given]") {
    CHECK(SimpleConvNet::flatten_size({1, 28, 28}) == 256);
    CHECK(SimpleConvNet::flatten_size({3, 32, 32}) == 400);
    CHECK(SimpleConvNet::flatten_size({1, 16, 16}) == 16);
    CHECK(SimpleConvNet::flatten_size({1, 28, 40}) == std::size_t{16} * 4 * 7);
    SimpleConvNet color({3, 32, 32});
    CHECK(color.fc1.in_features() == 400);
    CHECK(color.conv1.W.shape(1) == 3);
    CHECK_THROWS_AS(SimpleConvNet::flatten_size({1, 15, 28}), ArgumentError);
}

TEST_CASE("LeNet for 1 x 28 x 28 digits has 44426 parameters in ten named tensors", "[ch07][given]") {
    SimpleConvNet net;
    CHECK(net.parameter_count() == 44426);
    std::vector<std::string> names;
    for (const ParamRef& p : net.params_and_grads()) names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"conv1.W", "conv1.b", "conv2.W", "conv2.b", "fc1.W", "fc1.b", "fc2.W",
                                            "fc2.b", "fc3.W", "fc3.b"});
}

TEST_CASE("an input of the wrong shape names the network and both shapes", "[ch07][given]") {
    SimpleConvNet net;
    const Tensor<4> wrong = xt::zeros<double>({2, 1, 32, 32});
    check_shape_error([&] { return net.forward(wrong); },
                      "SimpleConvNet forward: x has shape (2, 1, 32, 32) but must be (N, C=1, H=28, W=28)");
}

TEST_CASE("weights saved from one network refuse to load into another shape", "[ch07][given]") {
    SimpleConvNet mnist;
    SimpleConvNet color({3, 32, 32});
    const std::filesystem::path file =
        std::filesystem::temp_directory_path() / ("course-ch07-" + std::to_string(::getpid()) + ".bin");
    save_weights(file, mnist.params_and_grads());
    CHECK_THROWS_MATCHES(
        load_weights(file, color.params_and_grads()), DataError,
        Message(file.string() + ": parameter 'conv1.W' has shape (6, 1, 5, 5) in the file but the network "
                                "expects (6, 3, 5, 5)"));
    SimpleConvNet again({1, 28, 28}, 10, 7);
    load_weights(file, again.params_and_grads());
    CHECK(check_close("fc1.W after loading", again.fc1.W, mnist.fc1.W, 1e-7, 1e-7));  // stored as float
    std::filesystem::remove(file);
}

TEST_CASE("the whole network passes a gradient check in double", "[ch07]") {
    // Choose the first seed whose batch sits at least 1e-4 away from every kink (10 times the step h):
    // then no nudge of a weight by h moves a ReLU input across 0 or changes a pooling winner.
    Rng data_rng(3);
    const Tensor<4> x = rand_uniform<4>({2, 1, 16, 16}, data_rng, 0.0, 1.0);
    const Labels y = {3, 8};
    std::uint64_t seed = 100;
    SimpleConvNet net(small_image, 10, seed);
    KinkDistances d = kink_distances(net, x);
    while ((d.relu < 1e-4 || d.pool < 1e-4) && seed < 200) {
        net = SimpleConvNet(small_image, 10, ++seed);
        d = kink_distances(net, x);
    }
    INFO("seed " << seed << ": closest ReLU input to 0 is " << d.relu << ", smallest pooling gap is " << d.pool);
    REQUIRE(d.relu >= 1e-4);
    REQUIRE(d.pool >= 1e-4);

    auto loss = [&] {
        return static_cast<double>(cross_entropy_loss(net.forward(x), y).loss);
    };
    net.backward(cross_entropy_loss(net.forward(x), y).dscores);
    for (ParamRef& p : net.params_and_grads()) {
        const xt::xarray<double> analytic = xt::adapt(std::vector<double>(p.grad.begin(), p.grad.end()), p.shape);
        xt::xarray<double> numeric = xt::zeros<double>(p.shape);
        for (std::size_t i = 0; i < p.value.size(); ++i) numeric.data()[i] = numerical_derivative(loss, p.value[i]);
        // The numeric gradient of the whole loss carries a rounding error of about 1e-11 (about
        // |L| * 1e-16 / h), which is a large relative error for the many weights whose gradient is only
        // 1e-6. The floor 1e-3 judges every element smaller than 1e-3 by its absolute error instead, which
        // must stay below 1e-7 * 1e-3 = 1e-10; larger elements keep the relative threshold 1e-7.
        CHECK(check_gradient("d(" + p.name + ")", analytic, numeric, default_threshold, 1e-3));
    }
}

TEST_CASE("sgd_update moves every parameter against its gradient", "[ch07]") {
    Tensor<2> W = {{1.0, 2.0}}, dW = {{0.5, -1.0}};
    Tensor<1> b = {0.0}, db = {2.0};
    sgd_update({param_ref("W", W, dW), param_ref("b", b, db)}, 0.1);
    CHECK(check_close("W", W, Tensor<2>{{0.95, 2.1}}));
    CHECK(check_close("b", b, Tensor<1>{-0.2}));
    CHECK(check_close("dW is left as it was", dW, Tensor<2>{{0.5, -1.0}}, 0.0, 0.0));
}

TEST_CASE("train_step returns the loss before its update and lowers it", "[ch07]") {
    Rng rng(4);
    const Dataset data = make_synthetic_digits(20, rng);
    SimpleConvNet net({1, 28, 28}, 10, 5);
    const double before = cross_entropy_loss(net.forward(data.images), data.labels).loss;
    const double returned = train_step(net, data.images, data.labels, 0.05);
    CHECK(returned == Catch::Approx(before).epsilon(1e-12));
    const double after = cross_entropy_loss(net.forward(data.images), data.labels).loss;
    CHECK(after < before);
}

TEST_CASE("LeNet overfits 50 samples to 100 percent within 150 steps", "[ch07]") {
    Rng rng(5);
    const Dataset data = make_synthetic_digits(50, rng);
    SimpleConvNet net({1, 28, 28}, 10, 6);
    double loss = 0;
    std::size_t steps = 0;
    for (; steps < 150; ++steps) {
        loss = train_step(net, data.images, data.labels, 0.1);
        if (loss < 0.05 && accuracy(net, data) == 1.0) break;
    }
    INFO("stopped after " << steps << " steps at loss " << loss);
    CHECK(accuracy(net, data) == 1.0);
    CHECK(loss < 0.05);
}

TEST_CASE("the same seed gives the same loss trajectory", "[ch07]") {
    Rng rng(7);
    const Dataset data = make_synthetic_digits(40, rng);
    auto trajectory = [&](std::uint64_t seed) {
        SimpleConvNet net({1, 28, 28}, 10, seed);
        Rng shuffle(seed);
        std::vector<double> losses;
        train_epoch(net, data, 8, 0.05, shuffle, [&](std::size_t, std::size_t, std::size_t, double loss) {
            losses.push_back(loss);
            return true;
        });
        return losses;
    };
    const std::vector<double> first = trajectory(11), second = trajectory(11), other = trajectory(12);
    REQUIRE(first.size() == 5);
    CHECK(first == second);
    CHECK(first != other);
}

TEST_CASE("predict gives the class with the largest score", "[ch07]") {
    Rng rng(8);
    SimpleConvNet net;
    const Tensor<4> x = rand_uniform<4>({4, 1, 28, 28}, rng, 0.0, 1.0);
    const Tensor<2> scores = net.forward(x);
    const Labels predicted = net.predict(x);
    for (std::size_t n = 0; n < 4; ++n) {
        const auto row = xt::row(scores, static_cast<std::ptrdiff_t>(n));
        CHECK(predicted[n] == static_cast<std::size_t>(xt::argmax(row)()));
    }
}

TEST_CASE("a dout of the wrong shape names Flatten and both shapes", "[ch07]") {
    Flatten flatten("flat");
    const Tensor<4> x = xt::zeros<double>({2, 3, 2, 2});
    const Tensor<2> dout_bad = xt::zeros<double>({2, 11});
    check_wrong_dout_shape(flatten, x, dout_bad,
                           "Flatten 'flat' backward: dout has shape (2, 11) but must be (N=2, C*H*W=12)");
}

TEST_CASE("the network refuses bad sizes an empty batch and dscores of the wrong width", "[ch07][given]") {
    SECTION("the constructor refuses no classes, no channels and images too small for LeNet") {
        CHECK_THROWS_MATCHES(SimpleConvNet({1, 28, 28}, 0), ArgumentError,
                             Message("SimpleConvNet: num_classes must be at least 1, not 0"));
        CHECK_THROWS_MATCHES(
            SimpleConvNet({0, 28, 28}), ArgumentError,
            MessageMatches(StartsWith("SimpleConvNet: the image has 0 channels but must have at least 1")));
        CHECK_THROWS_MATCHES(SimpleConvNet({1, 12, 28}), ArgumentError,
                             Message("SimpleConvNet: the image height is 12 but must be at least 16 for two 5x5 "
                                     "convolutions, each followed by 2x2 pooling"));
    }
    SimpleConvNet net;
    SECTION("forward refuses an empty batch") {
        const Tensor<4> empty = xt::zeros<double>({0, 1, 28, 28});
        check_shape_error([&] { return net.forward(empty); },
                          "SimpleConvNet forward: x has shape (0, 1, 28, 28) but must be (N>=1, C=1, H=28, "
                          "W=28): a batch holds at least one sample");
    }
    SECTION("backward refuses dscores of the wrong width") {
        const Tensor<2> dscores_bad = xt::zeros<double>({2, 7});
        check_shape_error([&] { return net.backward(dscores_bad); },
                          "SimpleConvNet backward: dscores has shape (2, 7) but must be (N, K=10)");
    }
}

TEST_CASE("sgd_update and accuracy refuse a bad learning rate or batch size", "[ch07][given]") {
    SECTION("sgd_update refuses a negative, NaN or zero learning rate and leaves the parameter alone") {
        Tensor<1> w = {1.0}, dw = {1.0};
        CHECK_THROWS_MATCHES(
            sgd_update({param_ref("w", w, dw)}, -0.1), ArgumentError,
            MessageMatches(StartsWith("sgd_update: learning_rate must be a positive number, not -0.1")));
        CHECK_THROWS_AS(sgd_update({param_ref("w", w, dw)}, std::nan("")), ArgumentError);
        CHECK_THROWS_AS(sgd_update({param_ref("w", w, dw)}, 0.0), ArgumentError);
        CHECK(w(0) == 1.0);
    }
    SECTION("accuracy refuses a batch size of zero") {
        SimpleConvNet net;
        Rng rng(3);
        const Dataset data = make_synthetic_digits(4, rng);
        CHECK_THROWS_MATCHES(accuracy(net, data, 0), ArgumentError,
                             Message("accuracy: batch_size must be at least 1, not 0"));
    }
}

namespace {

// LeNet chained by hand from the chapter's own layer classes, in the order of README.md section 3, with the
// network's parameters copied in. The network is compared with this chain, not only with itself: a ReLU
// left out, a layer added or two layers swapped give other scores and other gradients.
struct HandChain {
    Conv2D conv1;
    ReLU<4> relu1{"relu1"};
    MaxPool2D pool1{2, "pool1"};
    Conv2D conv2;
    ReLU<4> relu2{"relu2"};
    MaxPool2D pool2{2, "pool2"};
    Flatten flatten{"flatten"};
    FullyConnected fc1;
    ReLU<2> relu3{"relu3"};
    FullyConnected fc2;
    ReLU<2> relu4{"relu4"};
    FullyConnected fc3;
    // Whether each ReLU had a negative input to cut in the last forward.
    std::vector<bool> relu_cut = std::vector<bool>(4, false);

    HandChain(const SimpleConvNet& net, Rng& rng)
        : conv1(static_cast<int>(net.conv1.in_channels()), 6, 5, rng, 1, 0, "conv1"),
          conv2(6, 16, 5, rng, 1, 0, "conv2"),
          fc1(net.fc1.in_features(), 120, rng, "fc1"),
          fc2(120, 84, rng, "fc2"),
          fc3(84, net.num_classes(), rng, "fc3") {
        conv1.W = net.conv1.W;
        conv1.b = net.conv1.b;
        conv2.W = net.conv2.W;
        conv2.b = net.conv2.b;
        fc1.W = net.fc1.W;
        fc1.b = net.fc1.b;
        fc2.W = net.fc2.W;
        fc2.b = net.fc2.b;
        fc3.W = net.fc3.W;
        fc3.b = net.fc3.b;
    }

    template <class T>
    static bool has_negative(const T& z) {
        return xt::amin(z)() < 0.0;
    }

    Tensor<2> forward(const Tensor<4>& x) {
        const Tensor<4> z1 = conv1.forward(x);
        relu_cut[0] = has_negative(z1);
        const Tensor<4> z2 = conv2.forward(pool1.forward(relu1.forward(z1)));
        relu_cut[1] = has_negative(z2);
        const Tensor<2> z3 = fc1.forward(flatten.forward(pool2.forward(relu2.forward(z2))));
        relu_cut[2] = has_negative(z3);
        const Tensor<2> z4 = fc2.forward(relu3.forward(z3));
        relu_cut[3] = has_negative(z4);
        return fc3.forward(relu4.forward(z4));
    }

    Tensor<4> backward(const Tensor<2>& dscores) {
        const Tensor<2> d4 = relu4.backward(fc3.backward(dscores));
        const Tensor<2> d3 = relu3.backward(fc2.backward(d4));
        const Tensor<4> d2 = pool2.backward(flatten.backward(fc1.backward(d3)));
        const Tensor<4> d1 = pool1.backward(conv2.backward(relu2.backward(d2)));
        return conv1.backward(relu1.backward(d1));
    }

    std::vector<ParamRef> params_and_grads() {
        std::vector<ParamRef> all;
        for (LayerBase* layer : std::initializer_list<LayerBase*>{&conv1, &conv2, &fc1, &fc2, &fc3}) {
            for (ParamRef& p : layer->params_and_grads()) all.push_back(std::move(p));
        }
        return all;
    }
};

xt::xarray<double> as_array(const ParamRef& p) {
    return xt::adapt(std::vector<double>(p.grad.begin(), p.grad.end()), p.shape);
}

// The network's scores, dx and every parameter gradient against the hand chain's, for one batch.
void check_against_chain(SimpleConvNet& net, HandChain& chain, const Tensor<4>& x, const Labels& y) {
    const Tensor<2> expected_scores = chain.forward(x);
    // Every ReLU must have something to cut, or leaving it out would change nothing.
    for (std::size_t k = 0; k < 4; ++k) {
        INFO("relu" << k + 1 << " sees a negative input");
        REQUIRE(chain.relu_cut[k]);
    }
    REQUIRE(xt::amin(expected_scores)() < 0.0);  // an extra ReLU after fc3 would change the scores
    const Tensor<2> scores = net.forward(x);
    INFO(
        "the scores must be those of conv1, relu1, pool1, conv2, relu2, pool2, flatten, fc1, relu3, fc2, relu4, "
        "fc3 in this order: a layer left out, added or swapped changes them");
    REQUIRE(shape_of(scores) == shape_of(expected_scores));
    CHECK(check_close("scores", scores, expected_scores, 1e-10, 1e-12));
    const Tensor<2> dscores = cross_entropy_loss(expected_scores, y).dscores;
    const Tensor<4> expected_dx = chain.backward(dscores);
    const Tensor<4> dx = net.backward(dscores);
    CHECK(check_close("dx", dx, expected_dx, 1e-9, 1e-14));
    std::vector<ParamRef> got = net.params_and_grads();
    std::vector<ParamRef> want = chain.params_and_grads();
    REQUIRE(got.size() == want.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
        CHECK(check_close("d(" + got[k].name + ") of the network against the hand chain", as_array(got[k]),
                          as_array(want[k]), 1e-9, 1e-14));
    }
}

}  // namespace

TEST_CASE("the network computes what the layers chained by hand compute, forward and backward", "[ch07]") {
    const ImageShape shape = GENERATE(ImageShape{1, 28, 28}, ImageShape{3, 20, 24});
    INFO("image " << shape.channels << " x " << shape.height << " x " << shape.width);
    const std::size_t classes = shape.channels == 1 ? 10 : 7;
    SimpleConvNet net(shape, classes, 21);
    Rng rng(22);
    HandChain chain(net, rng);
    // Inputs centred on 0, so that every layer has negative inputs for its ReLU.
    const Tensor<4> x = rand_uniform<4>({4, shape.channels, shape.height, shape.width}, rng, -1.0, 1.0);
    Labels y(4);
    for (std::size_t n = 0; n < 4; ++n) y[n] = (3 * n + 1) % classes;
    check_against_chain(net, chain, x, y);
}

TEST_CASE("a second batch of another size gives the scores and gradients of that batch", "[ch07]") {
    // State kept from the first call (a batch size, a cache that is not replaced) shows in the second.
    SimpleConvNet net({1, 28, 28}, 10, 23);
    Rng rng(24);
    HandChain chain(net, rng);
    const Tensor<4> x4 = rand_uniform<4>({4, 1, 28, 28}, rng, -1.0, 1.0);
    const Tensor<4> x3 = rand_uniform<4>({3, 1, 28, 28}, rng, -1.0, 1.0);
    {
        INFO("first batch, N = 4");
        check_against_chain(net, chain, x4, Labels{1, 2, 3, 4});
    }
    {
        INFO("second batch, N = 3");
        check_against_chain(net, chain, x3, Labels{7, 0, 9});
    }
}

TEST_CASE("a second backward of the same batch gives the same gradients, not twice them", "[ch07]") {
    SimpleConvNet net(small_image, 10, 25);
    Rng rng(26);
    const Tensor<4> x = rand_uniform<4>({3, 1, 16, 16}, rng, -1.0, 1.0);
    const Tensor<2> dscores = cross_entropy_loss(net.forward(x), Labels{1, 5, 9}).dscores;
    const Tensor<4> dx = net.backward(dscores);
    std::vector<xt::xarray<double>> first;
    for (const ParamRef& p : net.params_and_grads()) first.push_back(as_array(p));
    CHECK(check_close("dx of a second backward", net.backward(dscores), dx, 1e-12, 1e-15));
    std::vector<ParamRef> again = net.params_and_grads();
    for (std::size_t k = 0; k < again.size(); ++k) {
        CHECK(check_close("d(" + again[k].name + ") after a second backward (must be overwritten, not added to)",
                          as_array(again[k]), first[k], 1e-12, 1e-15));
    }
}

TEST_CASE("Flatten keeps the order (n, c, h, w) for every element, forward and backward", "[ch07]") {
    // C, H and W all different and N > 1: any other order of the axes moves some element. (The last element
    // lands in the same place in every order, so checking it alone proves nothing.)
    const std::size_t N = GENERATE(std::size_t{2}, std::size_t{3});
    const std::size_t C = 3, H = 4, W = 5;
    Tensor<4> x({N, C, H, W});
    for (std::size_t k = 0; k < x.size(); ++k) x.data()[k] = static_cast<double>(k) + 0.5;
    Flatten flatten;
    const Tensor<2> out = flatten.forward(x);
    REQUIRE(shape_of(out) == Shape{N, C * H * W});
    Tensor<2> expected_out({N, C * H * W});
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t h = 0; h < H; ++h)
                for (std::size_t w = 0; w < W; ++w) expected_out(n, (c * H + h) * W + w) = x(n, c, h, w);
    CHECK(check_close("out: element (n, c, h, w) in column (c H + h) W + w of row n", out, expected_out, 0.0, 0.0));
    Tensor<2> dout({N, C * H * W});
    for (std::size_t k = 0; k < dout.size(); ++k) dout.data()[k] = -static_cast<double>(k) - 1.0;
    Tensor<4> expected_dx({N, C, H, W});
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t h = 0; h < H; ++h)
                for (std::size_t w = 0; w < W; ++w) expected_dx(n, c, h, w) = dout(n, (c * H + h) * W + w);
    CHECK(check_close("dx: column (c H + h) W + w of row n back to element (n, c, h, w)", flatten.backward(dout),
                      expected_dx, 0.0, 0.0));
}

TEST_CASE("Flatten follows the shape of the latest forward", "[ch07]") {
    Flatten flatten;
    static_cast<void>(flatten.forward(xt::ones<double>({4, 2, 3, 3})));
    Tensor<4> x({3, 4, 2, 5});
    for (std::size_t k = 0; k < x.size(); ++k) x.data()[k] = static_cast<double>(k);
    const Tensor<2> out = flatten.forward(x);
    REQUIRE(shape_of(out) == Shape{3, 40});
    const Tensor<4> dx = flatten.backward(out);
    REQUIRE(shape_of(dx) == Shape{3, 4, 2, 5});
    CHECK(check_close("dx of the second shape", dx, x, 0.0, 0.0));
}
