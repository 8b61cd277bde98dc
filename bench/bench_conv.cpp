// Chapter 5's convolution, forward + backward, naive loops against im2col, on LeNet's two convolution
// shapes at batch 64, in float (the training program's precision). Not a test: a timing.
//
//   bench_conv --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// The context lines at the top say which OpenBLAS kernels ran (`openblas_core`) and whether
// OPENBLAS_CORETYPE chose them: on a processor it does not recognise, OpenBLAS 0.3.21 falls back to slow
// Prescott kernels unless OPENBLAS_CORETYPE=Haswell (or SkylakeX) is set (docs/toolchain.md).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdlib>
#include <string>
#include <type_traits>

#include "05_conv2d/conv2d.hpp"
#include "07_network/network.hpp"
#include "course/random.hpp"
#include "course/runtime.hpp"

namespace {

using namespace course;

static_assert(std::is_same_v<real, float>, "bench_conv measures the float build (course_use_real(bench_conv float))");

/// One convolution of LeNet: x (N, C, H, W) and F filters of K x K, stride 1, no padding.
struct ConvShape {
    const char* name;
    int N, C, H, W, F, K;
};
// The sizes come from chapter 7's one description of LeNet, for MNIST's 1 x 28 x 28 images (ImageShape's default).
using Arch = LeNetArchitecture;
constexpr ImageShape mnist{};
constexpr int batch = 64;
constexpr int kernel = static_cast<int>(Arch::kernel);
constexpr ConvShape conv1{"conv1",
                          batch,
                          static_cast<int>(mnist.channels),
                          static_cast<int>(mnist.height),
                          static_cast<int>(mnist.width),
                          static_cast<int>(Arch::conv1_filters),
                          kernel};
// conv2 sees pool1's output: (64, 6, 12, 12) -> (64, 16, 8, 8)
constexpr ConvShape conv2{"conv2",
                          batch,
                          static_cast<int>(Arch::conv1_filters),
                          static_cast<int>(Arch::after_pool(Arch::after_conv(mnist.height))),
                          static_cast<int>(Arch::after_pool(Arch::after_conv(mnist.width))),
                          static_cast<int>(Arch::conv2_filters),
                          kernel};

std::size_t size(int value) {
    return static_cast<std::size_t>(value);
}

/// One iteration is what a training step asks of the layer: forward, then backward (dx, dW and db).
void BM_conv_forward_backward(benchmark::State& state, ConvShape shape, ConvAlgorithm algorithm) {
    Rng rng(5);
    Conv2D conv(shape.C, shape.F, shape.K, rng, 1, 0, shape.name);
    conv.algorithm = algorithm;
    const Tensor<4> x = randn<4>({size(shape.N), size(shape.C), size(shape.H), size(shape.W)}, rng);
    const Tensor<4> dout =
        randn<4>({size(shape.N), size(shape.F), size(shape.H - shape.K + 1), size(shape.W - shape.K + 1)}, rng);
    for (auto _ : state) {
        Tensor<4> out = conv.forward(x);
        Tensor<4> dx = conv.backward(dout);
        benchmark::DoNotOptimize(out.data());
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * shape.N);  // images per second
}

}  // namespace

BENCHMARK_CAPTURE(BM_conv_forward_backward, conv1_naive, conv1, ConvAlgorithm::naive)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_conv_forward_backward, conv1_im2col, conv1, ConvAlgorithm::im2col)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_conv_forward_backward, conv2_naive, conv2, ConvAlgorithm::naive)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_conv_forward_backward, conv2_im2col, conv2, ConvAlgorithm::im2col)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    // Keep freed memory in the process. By default glibc returns large freed blocks (several MB, such as
    // im2col's column matrix) to the kernel, and the next iteration's new buffer then costs about 900 page
    // faults per 3.7 MB, about 2 microseconds each on this course's virtual machine: that measures the
    // machine, not the convolution. A training loop would do the same. BENCH_CONV_DEFAULT_MALLOC=1 keeps
    // glibc's defaults, to see the difference.
    const bool default_malloc = std::getenv("BENCH_CONV_DEFAULT_MALLOC") != nullptr;
    if (!default_malloc) keep_freed_memory();
    // One OpenBLAS thread unless OPENBLAS_NUM_THREADS says otherwise: the naive loops run on one thread, so
    // this compares two algorithms, not two thread counts (and the machine's 2 cores are often shared).
    use_one_blas_thread_unless_asked();
    benchmark::AddCustomContext("openblas", openblas_description());
    benchmark::AddCustomContext("real", "float");
    benchmark::AddCustomContext("malloc", default_malloc ? "glibc defaults (BENCH_CONV_DEFAULT_MALLOC is set)"
                                                         : "freed memory kept (mallopt, see main)");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
