// The comparison, not the course: the same LeNet in libtorch (Debian's libtorch-dev), timed the same way as
// the course's own code in bench_train.cpp. It is compiled only when libtorch is installed, in a file of its
// own so that no torch header meets the course's headers.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "lenet_libtorch.hpp"

namespace {

struct LeNetImpl : torch::nn::Module {
    torch::nn::Conv2d conv1{torch::nn::Conv2dOptions(1, 6, 5)};
    torch::nn::Conv2d conv2{torch::nn::Conv2dOptions(6, 16, 5)};
    torch::nn::Linear fc1{256, 120}, fc2{120, 84}, fc3{84, 10};
    LeNetImpl() {
        register_module("conv1", conv1);
        register_module("conv2", conv2);
        register_module("fc1", fc1);
        register_module("fc2", fc2);
        register_module("fc3", fc3);
    }
    torch::Tensor forward(torch::Tensor x) {
        x = torch::max_pool2d(torch::relu(conv1->forward(x)), 2);
        x = torch::max_pool2d(torch::relu(conv2->forward(x)), 2);
        x = x.flatten(1);
        x = torch::relu(fc1->forward(x));
        x = torch::relu(fc2->forward(x));
        return fc3->forward(x);
    }
};
TORCH_MODULE(LeNet);

}  // namespace

std::vector<double> libtorch_images_per_second(int batch, int threads, int steps, int repetitions) {
    torch::manual_seed(42);
    at::set_num_threads(threads);
    LeNet net;
    torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    const torch::Tensor x = torch::rand({batch, 1, 28, 28});
    const torch::Tensor y = torch::randint(0, 10, {batch}, torch::kLong);
    auto step = [&] {
        optimizer.zero_grad();
        const torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
        loss.backward();
        optimizer.step();
    };
    for (int i = 0; i < 5; ++i) step();  // warm-up: oneDNN picks its kernels, memory pools fill
    std::vector<double> rates;
    for (int r = 0; r < repetitions; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < steps; ++i) step();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rates.push_back(static_cast<double>(steps) * batch / seconds);
    }
    return rates;
}
