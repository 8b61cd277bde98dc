/// @file progress.hpp
/// @brief The progress bar of the training program: running loss, images per second, time left.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace train {

/// 44426 as "44,426": a count as the course's texts write it (the training program and the figures).
inline std::string with_commas(std::size_t n) {
    const std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

/// @brief Formats seconds as m:ss (or h:mm:ss).
inline std::string clock_time(double seconds) {
    if (!(seconds >= 0)) seconds = 0;
    const long s = std::lround(seconds);
    char buffer[32];
    if (s >= 3600) {
        std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    } else {
        std::snprintf(buffer, sizeof buffer, "%ld:%02ld", s / 60, s % 60);
    }
    return buffer;
}

/// @brief One line that redraws itself on a terminal. When the output is not a terminal (a log file, CI),
/// it draws nothing during the epoch: the epoch summary line says it all, and logs stay readable.
class ProgressBar {
public:
    using Clock = std::chrono::steady_clock;

    ProgressBar(std::string label, std::size_t total_steps)
        : label_(std::move(label)),
          total_(total_steps),
          start_(Clock::now()),
          last_draw_(start_),
          terminal_(::isatty(::fileno(stdout)) != 0) {}

    /// @brief Records one finished step of `images` images with the given loss; redraws at most 10 times a second.
    void step(std::size_t images, double loss) {
        ++done_;
        images_ += images;
        running_loss_ = done_ == 1 ? loss : 0.95 * running_loss_ + 0.05 * loss;  // smooths the noise of single batches
        const auto now = Clock::now();
        if (terminal_ && (now - last_draw_ > std::chrono::milliseconds(100) || done_ == total_)) {
            last_draw_ = now;
            draw(now);
        }
    }

    /// @brief Seconds since the bar started.
    double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
    double images_per_second() const { return images_ / std::max(elapsed(), 1e-9); }

    /// @brief Clears the bar's line, so the next print starts on a clean line.
    void finish() {
        if (terminal_) std::printf("\r\033[K");
        std::fflush(stdout);
    }

private:
    void draw(Clock::time_point now) {
        const double seconds = std::chrono::duration<double>(now - start_).count();
        const double share = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
        const int width = 30, filled = static_cast<int>(share * width);
        std::string bar(static_cast<std::size_t>(filled), '#');
        bar.resize(width, '.');
        const double left = done_ ? seconds / static_cast<double>(done_) * static_cast<double>(total_ - done_) : 0.0;
        std::printf("\r\033[K%s [%s] %zu/%zu  loss %.4f  %.0f img/s  %s left", label_.c_str(), bar.c_str(), done_,
                    total_, running_loss_, images_ / std::max(seconds, 1e-9), clock_time(left).c_str());
        std::fflush(stdout);
    }

    std::string label_;
    std::size_t total_;
    std::size_t done_ = 0;
    double images_ = 0;
    double running_loss_ = 0;
    Clock::time_point start_, last_draw_;
    bool terminal_;
};

}  // namespace train
