// The libtorch comparison of bench_train (compiled only when Debian's libtorch-dev is installed).
#pragma once

#include <vector>

/// Images per second of `repetitions` runs of `steps` training steps (forward, cross-entropy, backward, SGD
/// with momentum 0.9) of LeNet in libtorch, float, on `threads` threads, after a warm-up.
std::vector<double> libtorch_images_per_second(int batch, int threads, int steps, int repetitions);
