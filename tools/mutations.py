#!/usr/bin/env python3
"""The mutation check of the full test suite: the tests must catch the bugs learners really write.

A catalogue of realistic learner bugs ("dW not transposed", "softmax without the max shift", ...) is applied
to copies of the reference solutions, one bug at a time. For each of these mutants the chapter's test
executable is rebuilt and run, and at least one of its tests must fail. A mutant that passes every test
"survives": the tests cannot tell that bug from a correct solution, so the check fails.

How it runs:
  * solutions/ is copied once per worker (default 2 workers) into WORK_DIR/workerK/src, and each worker
    configures its own build folder WORK_DIR/workerK/build on the reference track with
    COURSE_TRACK_DIR pointing at its copy (warnings are not errors there: a mutant may leave a variable
    unused), compiled with -O1 and no debug information (half the compile time of the default
    RelWithDebInfo; the tests run as fast);
  * first the unmutated copy: every chapter's tests must pass, otherwise the check is meaningless;
  * then each mutation: apply it to the copy, build only that chapter's tests (`test_chNN`), run them
    (300 s at most; a crash or a time-out counts as caught, and the table says so), restore the file.

Every mutation names the exact text it replaces, and that text must occur exactly once in the current
solution file. When a solution is edited so that a mutation no longer applies, the check fails and says
which mutation to update: the catalogue cannot rot silently. A mutant that does not compile is a problem of
the catalogue too (a compile error proves nothing about the tests), never "caught".

Output: a table `chapter | mutation | caught | first failing test (or why)`, then a summary line. The exit
code is 1 when a mutation survived or the catalogue has a problem.

Usage:
  python3 tools/mutations.py                      # every mutation, 2 workers, build folders in build/mutations
  python3 tools/mutations.py --chapter ch05       # one chapter (repeat --chapter for several)
  python3 tools/mutations.py --list               # print the catalogue and check that it applies; build nothing
  python3 tools/mutations.py --only "kernel flip" # the mutations whose description contains this text
  python3 tools/mutations.py --jobs 1 --work-dir /tmp/mutations

The full suite runs it as the CTest test "suite:every mutation of the catalogue is caught by the tests"
(labels suite and mutations): `ctest --preset reference -L mutations`. Its build folders stay in the
CTest build folder, so a second run only recompiles what the mutations touch.

Adding a mutation: append a `Mutation` to CATALOGUE with the chapter, the solution file (relative to
solutions/), a description a learner recognizes, and one or more (original, replacement) edits. Copy the
original text from the solution file, whitespace included, with enough context to make it unique. The
mutant must compile and must be a bug a learner could really write.
"""
from __future__ import annotations

import argparse
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from catch_report import run_catch
from course import CHAPTERS  # found from the chapters/NN_name folders, never listed by hand

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
TEST_TIMEOUT = 300  # seconds for one run of a chapter's test executable


@dataclass(frozen=True)
class Mutation:
    chapter: str                          # "ch05"
    file: str                             # relative to solutions/, for example "05_conv2d/conv2d_naive.hpp"
    description: str                      # what a learner would call the bug
    edits: tuple[tuple[str, str], ...]    # (original text, replacement); each original occurs exactly once


def mutation(chapter: str, file: str, description: str, original: str, replacement: str) -> Mutation:
    return Mutation(chapter, file, description, ((original, replacement),))


def mutation_edits(chapter: str, file: str, description: str, *edits: tuple[str, str]) -> Mutation:
    return Mutation(chapter, file, description, tuple(edits))


# ----------------------------------------------------------------------------------------------------------
# The catalogue
# ----------------------------------------------------------------------------------------------------------

CH01 = "01_backprop_1d/backprop_1d.hpp"
CH02 = "02_fully_connected/fully_connected.hpp"
CH03 = "03_activations/activations.hpp"
CH04 = "04_softmax_cross_entropy/softmax_cross_entropy.hpp"
CH05_NAIVE = "05_conv2d/conv2d_naive.hpp"
CH05_IM2COL = "05_conv2d/conv2d_im2col.hpp"
CH06 = "06_pooling/pooling.hpp"
CH07 = "07_network/network.hpp"
CH08_INIT = "08_optimizers/initialization.hpp"
CH08_OPT = "08_optimizers/optimizers.hpp"

CATALOGUE: list[Mutation] = [
    # --- chapter 1: backpropagation by hand ---------------------------------------------------------------
    mutation("ch01", CH01, "dL/dy without the factor 2 of the square",
             "    return 2 * (y - t);\n",
             "    return (y - t);\n"),
    mutation("ch01", CH01, "dx and dw swapped in the scalar linear node",
             "return LinearScalarGrads{dy * w, dy * x, dy};",
             "return LinearScalarGrads{dy * x, dy * w, dy};"),
    mutation("ch01", CH01, "batched dL/dY with the sign flipped: 2 (T - Y)",
             "return 2 * (Y - T);",
             "return 2 * (T - Y);"),
    mutation("ch01", CH01, "bias forgotten in linear_forward",
             "return xt::linalg::dot(X, W) + b;",
             "return xt::linalg::dot(X, W);"),
    mutation("ch01", CH01, "dW not transposed: X dY instead of X^T dY",
             "grads.dW = xt::linalg::dot(xt::transpose(X), dY);",
             "grads.dW = xt::linalg::dot(X, dY);"),
    mutation("ch01", CH01, "db averaged over the batch instead of summed",
             "grads.db = xt::sum(dY, {0});",
             "grads.db = xt::mean(dY, {0});"),

    # --- chapter 2: the fully connected layer --------------------------------------------------------------
    mutation("ch02", CH02, "dW transposed: dout^T x instead of x^T dout",
             "dW = xt::linalg::dot(xt::transpose(cache.x), dout);",
             "dW = xt::linalg::dot(xt::transpose(dout), cache.x);"),
    mutation("ch02", CH02, "db not summed over the batch: only the first sample's dout",
             "db = xt::sum(dout, {0});",
             "db = xt::view(dout, 0, xt::all());"),
    mutation("ch02", CH02, "+= instead of = : gradients accumulate over backward calls",
             "dW = xt::linalg::dot(xt::transpose(cache.x), dout);",
             "dW += xt::linalg::dot(xt::transpose(cache.x), dout);"),
    mutation("ch02", CH02, "dx computed with dW instead of W",
             "return xt::linalg::dot(dout, xt::transpose(W));",
             "return xt::linalg::dot(dout, xt::transpose(dW));"),
    mutation("ch02", CH02, "the cache keeps the input of the first forward only",
             "cache_ = Cache{x};  // backward needs x for dW",
             "if (!cache_) cache_ = Cache{x};"),

    # --- chapter 3: activations ---------------------------------------------------------------------------
    mutation("ch03", CH03, "ReLU backward using the output instead of the input mask: dout * max(0, x)",
             "return xt::where(cache.x > real(0), dout, real(0));",
             "return dout * xt::maximum(cache.x, real(0));"),
    mutation("ch03", CH03, "ReLU mask x >= 0 instead of x > 0 (passes dout at the kink)",
             "return xt::where(cache.x > real(0), dout, real(0));",
             "return xt::where(cache.x >= real(0), dout, real(0));"),
    mutation("ch03", CH03, "ReLU backward masks by the sign of dout instead of x",
             "return xt::where(cache.x > real(0), dout, real(0));",
             "return xt::where(dout > real(0), dout, real(0));"),
    mutation("ch03", CH03, "sigmoid as 1 / (1 + exp(-x)) for every x (overflows for x << 0)",
             "    if (x >= 0) {\n        return real(1) / (real(1) + std::exp(-x));  // exp(-x) is in (0, 1]\n    }\n",
             "    return real(1) / (real(1) + std::exp(-x));\n"),
    mutation("ch03", CH03, "sigmoid for x < 0 as 1 - 1 / (1 + exp(x)) (no precision left far out)",
             "    return e / (real(1) + e);\n",
             "    return real(1) - real(1) / (real(1) + e);\n"),
    mutation("ch03", CH03, "sigmoid caches its input, and backward uses it as the output",
             "cache_ = Cache{out};  // backward needs the output, not the input",
             "cache_ = Cache{x};"),
    mutation("ch03", CH03, "sigmoid backward forgets dout: returns out (1 - out) only",
             "return dout * cache.out * (real(1) - cache.out);",
             "return cache.out * (real(1) - cache.out);"),

    # --- chapter 4: softmax and cross-entropy ----------------------------------------------------------------
    mutation("ch04", CH04, "softmax without the max shift",
             "probs(n, k) = std::exp(scores(n, k) - max);",
             "probs(n, k) = std::exp(scores(n, k));"),
    mutation("ch04", CH04, "softmax shifted by the maximum of the whole batch instead of each row's",
             "    Tensor<2> probs(scores.shape());\n"
             "    for (std::size_t n = 0; n < N; ++n) {\n"
             "        real max = scores(n, 0);\n"
             "        for (std::size_t k = 1; k < K; ++k) max = std::max(max, scores(n, k));\n",
             "    Tensor<2> probs(scores.shape());\n"
             "    const real batch_max = xt::amax(scores)();\n"
             "    for (std::size_t n = 0; n < N; ++n) {\n"
             "        real max = batch_max;\n"),
    mutation_edits("ch04", CH04, "softmax's sum not reset for each row",
                   ("    Tensor<2> probs(scores.shape());\n", "    Tensor<2> probs(scores.shape());\n    real sum = 0;\n"),
                   ("        real sum = 0;  // at least 1: the largest score contributes exp(0)\n", "")),
    mutation("ch04", CH04, "log-sum-exp forgets to add the maximum back",
             "total += max + std::log(sum) - scores(n, y[n]);",
             "total += std::log(sum) - scores(n, y[n]);"),
    mutation("ch04", CH04, "cross-entropy not divided by N (loss and gradient are sums over the batch)",
             "const real inv_N = real(1) / static_cast<real>(N);",
             "const real inv_N = real(1);"),
    mutation("ch04", CH04, "cross-entropy gradient forgets the -1 at the true class",
             "        dscores(n, y[n]) -= inv_N;  ",
             "        // dscores(n, y[n]) -= inv_N;  "),
    mutation("ch04", CH04, "cross-entropy as -log(p) of the true class (infinite when p underflows)",
             "total += max + std::log(sum) - scores(n, y[n]);",
             "total += -std::log(std::exp(scores(n, y[n]) - max) / sum);"),
    mutation_edits("ch04", CH04, "cross-entropy gradient not divided by N (the loss is)",
                   ("dscores(n, k) *= inv_N / sum;", "dscores(n, k) /= sum;"),
                   ("dscores(n, y[n]) -= inv_N;", "dscores(n, y[n]) -= 1;")),

    # --- chapter 5: convolution --------------------------------------------------------------------------
    mutation("ch05", CH05_NAIVE, "conv backward without the kernel flip",
             "sum += dd(n, f, h + p, w + q) * W(f, c, s.KH - 1 - p, s.KW - 1 - q);",
             "sum += dd(n, f, h + p, w + q) * W(f, c, p, q);"),
    mutation("ch05", CH05_NAIVE, "stride ignored in backward: dout not dilated for dx",
             "dd(n, f, s.KH - 1 + i * s.stride, s.KW - 1 + j * s.stride) = dout(n, f, i, j);",
             "dd(n, f, s.KH - 1 + i, s.KW - 1 + j) = dout(n, f, i, j);"),
    mutation("ch05", CH05_NAIVE, "stride ignored in backward: dW reads xp(i + p, j + q)",
             "sum += dout(n, f, i, j) * xp(n, c, i * s.stride + p, j * s.stride + q);",
             "sum += dout(n, f, i, j) * xp(n, c, i + p, j + q);"),
    mutation("ch05", CH05_NAIVE, "padding not cropped from dx (dx is the padded dxp)",
             "grads.dx = xt::view(dxp, xt::all(), xt::all(), xt::range(s.pad, s.pad + s.H), xt::range(s.pad, s.pad + s.W));",
             "grads.dx = dxp;"),
    mutation("ch05", CH05_NAIVE, "= instead of += in db: only the last position's dout counts",
             "grads.db(f) += dout(n, f, i, j);",
             "grads.db(f) = dout(n, f, i, j);"),
    mutation("ch05", CH05_NAIVE, "forward flips the kernel (a true convolution instead of a correlation)",
             "sum += xp(n, c, i * s.stride + p, j * s.stride + q) * W(f, c, p, q);",
             "sum += xp(n, c, i * s.stride + p, j * s.stride + q) * W(f, c, s.KH - 1 - p, s.KW - 1 - q);"),
    mutation("ch05", CH05_IM2COL, "im2col ignores the stride between rows",
             "const real* from = &xp(n, c, i * s.stride + p, q);",
             "const real* from = &xp(n, c, i + p, q);"),
    mutation("ch05", CH05_IM2COL, "= instead of += in col2im: overlapping windows keep one gradient",
             "for (std::size_t j = 0; j < s.Wo; ++j) to[j * s.stride] += from[j];",
             "for (std::size_t j = 0; j < s.Wo; ++j) to[j * s.stride] = from[j];"),
    mutation("ch05", CH05_IM2COL, "col2im ignores the stride along a row",
             "to[j * s.stride] += from[j];",
             "to[j] += from[j];"),
    mutation("ch05", CH05_IM2COL, "im2col column index uses Ho where Wo belongs",
             "real* to = &cols(r, (n * s.Ho + i) * s.Wo);",
             "real* to = &cols(r, (n * s.Ho + i) * s.Ho);"),
    mutation("ch05", CH05_IM2COL, "im2col backward crops the top-left corner of dxp instead of removing the padding",
             "grads.dx = xt::view(dxp, xt::all(), xt::all(), xt::range(s.pad, s.pad + s.H), xt::range(s.pad, s.pad + s.W));",
             "grads.dx = xt::view(dxp, xt::all(), xt::all(), xt::range(0, s.H), xt::range(0, s.W));"),
    mutation("ch05", CH05_IM2COL, "im2col db summed over the wrong axis of dout2",
             "grads.db = xt::sum(dout2, {1});",
             "grads.db = xt::sum(dout2, {0});"),

    # --- chapter 6: max pooling --------------------------------------------------------------------------
    mutation("ch06", CH06, "pooling gradient sent to every element of the window",
             "                        const std::size_t p = cache.winner(n, c, i, j) / KW;\n"
             "                        const std::size_t q = cache.winner(n, c, i, j) % KW;\n"
             "                        // += : when windows overlap, one input can win several of them\n"
             "                        dx(n, c, i * S + p, j * S + q) += dout(n, c, i, j);\n",
             "                        for (std::size_t p = 0; p < KW; ++p) {\n"
             "                            for (std::size_t q = 0; q < KW; ++q) dx(n, c, i * S + p, j * S + q) += dout(n, c, i, j);\n"
             "                        }\n"),
    mutation_edits("ch06", CH06, "ties double-counted: every element equal to the maximum gets the gradient",
                   ("        cache_ = Cache{{N, C, H, W}, std::move(winner)};",
                    "        cache_ = Cache{{N, C, H, W}, std::move(winner), x};"),
                   ("        xt::xtensor<Position, 4> winner;     ///< shape (N, C, Ho, Wo): p * KW + q of the winner of each window\n",
                    "        xt::xtensor<Position, 4> winner;     ///< shape (N, C, Ho, Wo): p * KW + q of the winner of each window\n"
                    "        Tensor<4> x;\n"),
                   ("                        dx(n, c, i * S + p, j * S + q) += dout(n, c, i, j);\n",
                    "                        const real best = cache.x(n, c, i * S + p, j * S + q);\n"
                    "                        for (std::size_t a = 0; a < KW; ++a) {\n"
                    "                            for (std::size_t b = 0; b < KW; ++b) {\n"
                    "                                if (cache.x(n, c, i * S + a, j * S + b) == best) dx(n, c, i * S + a, j * S + b) += dout(n, c, i, j);\n"
                    "                            }\n"
                    "                        }\n")),
    mutation("ch06", CH06, "= instead of += in backward: an input that wins several windows keeps one gradient",
             "dx(n, c, i * S + p, j * S + q) += dout(n, c, i, j);",
             "dx(n, c, i * S + p, j * S + q) = dout(n, c, i, j);"),
    mutation("ch06", CH06, ">= instead of > : at a tie the last maximum wins",
             "if (v > best) {",
             "if (v >= best) {"),
    mutation("ch06", CH06, "the maximum starts at 0 instead of the window's first element",
             "real best = x(n, c, i * S, j * S);",
             "real best = 0;"),
    mutation_edits("ch06", CH06, "the winner's position declared once outside the loops (a stale winner survives)",
                   ("        for (std::size_t n = 0; n < N; ++n) {\n"
                    "            for (std::size_t c = 0; c < C; ++c) {\n"
                    "                for (std::size_t i = 0; i < Ho; ++i) {\n"
                    "                    for (std::size_t j = 0; j < Wo; ++j) {\n"
                    "                        real best = x(n, c, i * S, j * S);",
                    "        Position best_at = 0;\n"
                    "        for (std::size_t n = 0; n < N; ++n) {\n"
                    "            for (std::size_t c = 0; c < C; ++c) {\n"
                    "                for (std::size_t i = 0; i < Ho; ++i) {\n"
                    "                    for (std::size_t j = 0; j < Wo; ++j) {\n"
                    "                        real best = x(n, c, i * S, j * S);"),
                   ("                        Position best_at = 0;\n", "")),
    mutation("ch06", CH06, "the winner's position decoded with p and q swapped",
             "                        const std::size_t p = cache.winner(n, c, i, j) / KW;\n"
             "                        const std::size_t q = cache.winner(n, c, i, j) % KW;\n",
             "                        const std::size_t q = cache.winner(n, c, i, j) / KW;\n"
             "                        const std::size_t p = cache.winner(n, c, i, j) % KW;\n"),
    mutation("ch06", CH06, "backward steps by the window size instead of the stride",
             "dx(n, c, i * S + p, j * S + q) += dout(n, c, i, j);",
             "dx(n, c, i * KW + p, j * KW + q) += dout(n, c, i, j);"),

    # --- chapter 7: LeNet ---------------------------------------------------------------------------------
    mutation("ch07", CH07, "Flatten backward uses another order than forward ((h, c, w) instead of (c, h, w))",
             "        Tensor<4> dx(s);\n        std::copy(dout.begin(), dout.end(), dx.begin());\n",
             "        Tensor<4> dx(s);\n"
             "        for (std::size_t n = 0; n < s[0]; ++n)\n"
             "            for (std::size_t c = 0; c < s[1]; ++c)\n"
             "                for (std::size_t h = 0; h < s[2]; ++h)\n"
             "                    for (std::size_t w = 0; w < s[3]; ++w) dx(n, c, h, w) = dout(n, (h * s[1] + c) * s[3] + w);\n"),
    mutation("ch07", CH07, "a skipped layer backward: relu4 left out",
             "d = fc2.backward(relu4.backward(d));",
             "d = fc2.backward(d);"),
    mutation("ch07", CH07, "a skipped layer backward: relu1 left out (the first layer's gradients)",
             "return conv1.backward(relu1.backward(pool1.backward(dh)));",
             "return conv1.backward(pool1.backward(dh));"),
    mutation("ch07", CH07, "backward through relu2 and pool2 in forward order",
             "dh = conv2.backward(relu2.backward(pool2.backward(dh)));",
             "dh = conv2.backward(pool2.backward(relu2.backward(dh)));"),
    mutation("ch07", CH07, "sgd_update with the wrong sign (gradient ascent)",
             "p.value[i] -= learning_rate * p.grad[i];",
             "p.value[i] += learning_rate * p.grad[i];"),
    mutation("ch07", CH07, "train_step updates before the loss is taken (returns the loss after the update)",
             "    sgd_update(net.params_and_grads(), learning_rate);\n    return loss;\n",
             "    sgd_update(net.params_and_grads(), learning_rate);\n"
             "    return cross_entropy_loss(net.forward(x), y).loss;\n"),
    mutation("ch07", CH07, "train_step never calls backward (the update uses stale gradients)",
             "    net.backward(dscores);\n    sgd_update(net.params_and_grads(), learning_rate);\n",
             "    sgd_update(net.params_and_grads(), learning_rate);\n"),

    # --- chapter 8: initialization and optimizers -----------------------------------------------------------
    mutation("ch08", CH08_OPT, "momentum applied with the wrong sign (w -= v)",
             "p.value[j] += v[j];",
             "p.value[j] -= v[j];"),
    mutation("ch08", CH08_OPT, "momentum moves w with the old velocity (w updated before v)",
             "                v[j] = beta_ * v[j] - learning_rate * p.grad[j];\n                p.value[j] += v[j];\n",
             "                p.value[j] += v[j];\n                v[j] = beta_ * v[j] - learning_rate * p.grad[j];\n"),
    mutation("ch08", CH08_OPT, "velocity not decayed (beta ignored)",
             "v[j] = beta_ * v[j] - learning_rate * p.grad[j];",
             "v[j] = v[j] - learning_rate * p.grad[j];"),
    mutation("ch08", CH08_OPT, "the velocity is a copy, so it is never kept between steps",
             "std::vector<real>& v = velocity_[i];",
             "std::vector<real> v = velocity_[i];"),
    mutation("ch08", CH08_OPT, "step decay off by one: drops after k - 1 steps",
             "std::pow(gamma_, static_cast<double>(t / every_))",
             "std::pow(gamma_, static_cast<double>((t + 1) / every_))"),
    mutation("ch08", CH08_OPT, "step decay without the floor: a smooth exponential",
             "std::pow(gamma_, static_cast<double>(t / every_))",
             "std::pow(gamma_, static_cast<double>(t) / static_cast<double>(every_))"),
    mutation("ch08", CH08_OPT, "cosine schedule with integer division t / T (always 0 before T)",
             "const double progress = static_cast<double>(t) / static_cast<double>(total_);",
             "const double progress = static_cast<double>(t / total_);"),
    mutation("ch08", CH08_OPT, "cosine schedule decays to 0 instead of eta_min",
             "return static_cast<real>(eta_min_ + 0.5 * (eta0_ - eta_min_) * (1.0 + std::cos(std::numbers::pi * progress)));",
             "return static_cast<real>(0.5 * (eta0_ - eta_min_) * (1.0 + std::cos(std::numbers::pi * progress)));"),
    mutation("ch08", CH08_INIT, "Xavier using fan_in only: sqrt(1 / fan_in)",
             "std::sqrt(2.0 / static_cast<double>(fan_in + fan_out))",
             "std::sqrt(1.0 / static_cast<double>(fan_in))"),
    mutation("ch08", CH08_INIT, "He without the factor 2: sqrt(1 / fan_in)",
             "return static_cast<real>(std::sqrt(2.0 / static_cast<double>(fan_in)));",
             "return static_cast<real>(std::sqrt(1.0 / static_cast<double>(fan_in)));"),
]

# The longest builds first, so that two workers finish at about the same time (seconds, measured on 2 cores).
# Timings, not the list of chapters: a chapter missing here counts as 10 s.
BUILD_SECONDS = {"ch01": 5, "ch02": 6, "ch03": 5, "ch04": 4, "ch05": 11, "ch06": 5, "ch07": 12, "ch08": 10}


# ----------------------------------------------------------------------------------------------------------
# Checking the catalogue against the current solutions
# ----------------------------------------------------------------------------------------------------------

def catalogue_problems(mutations: list[Mutation]) -> list[str]:
    """Everything that makes a mutation inapplicable, as messages; empty when all apply."""
    problems = []
    seen = set()
    for m in mutations:
        path = SOLUTIONS / m.file
        where = f"mutation '{m.description}' ({m.chapter})"
        if (m.chapter, m.description) in seen:
            problems.append(f"{where} is in the catalogue twice")
        seen.add((m.chapter, m.description))
        if not m.file.startswith(m.chapter[2:] + "_"):
            problems.append(f"{where}: solutions/{m.file} is not a file of chapter {m.chapter}")
        if not path.is_file():
            problems.append(f"{where} no longer applies: solutions/{m.file} does not exist; update the catalogue")
            continue
        text = path.read_text()
        spans = []
        for original, replacement in m.edits:
            count = text.count(original)
            if original == replacement:
                problems.append(f"{where}: an edit replaces its text with the same text")
            if count == 0:
                problems.append(f"mutation '{m.description}' no longer applies: its original text is not in "
                                f"solutions/{m.file}; update the catalogue (the text: {original.strip()[:100]!r})")
            elif count > 1:
                problems.append(f"mutation '{m.description}' is ambiguous: its original text occurs {count} times "
                                f"in solutions/{m.file}; add context to the catalogue entry so that it occurs once "
                                f"(the text: {original.strip()[:100]!r})")
            else:
                start = text.index(original)
                spans.append((start, start + len(original)))
        spans.sort()
        if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
            problems.append(f"{where}: two of its edits overlap")
    return problems


def apply_edits(text: str, m: Mutation) -> str:
    for original, replacement in m.edits:
        assert text.count(original) == 1, (m.description, original)
        text = text.replace(original, replacement, 1)
    return text


# ----------------------------------------------------------------------------------------------------------
# Workers: one copy of solutions/ and one build folder each
# ----------------------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    status: str          # "caught", "SURVIVED", "PROBLEM"
    detail: str
    seconds: float = 0.0


@dataclass
class Worker:
    index: int
    root: Path
    generator: str
    cmake_args: list[str]
    src: Path = field(init=False)
    build: Path = field(init=False)

    def __post_init__(self):
        self.src = self.root / f"worker{self.index}" / "src"
        self.build = self.root / f"worker{self.index}" / "build"

    def sync_copy(self) -> None:
        """Makes src an exact copy of solutions/, writing only files that differ (keeps builds incremental)."""
        wanted = set()
        for path in SOLUTIONS.rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(SOLUTIONS)
            wanted.add(rel)
            target = self.src / rel
            data = path.read_bytes()
            if not target.is_file() or target.read_bytes() != data:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        for path in sorted(self.src.rglob("*"), reverse=True):
            rel = path.relative_to(self.src)
            if path.is_file() and rel not in wanted:
                path.unlink()

    def configure(self) -> None:
        command = ["cmake", "-S", str(ROOT), "-B", str(self.build), "-DCOURSE_TRACK=reference",
                   f"-DCOURSE_TRACK_DIR={self.src}", "-DCOURSE_WERROR=OFF", "-DCOURSE_SUITE=OFF",
                   # -O1 without debug information compiles in half the time of the default RelWithDebInfo,
                   # and the tests run as fast (measured: test_ch05 10 s instead of 19 s)
                   "-DCMAKE_BUILD_TYPE=None", "-DCMAKE_CXX_FLAGS=-O1", *self.cmake_args]
        if self.generator and not (self.build / "CMakeCache.txt").exists():
            command += ["-G", self.generator]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"worker {self.index}: cmake configure failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")

    def exe(self, chapter: str) -> Path:
        return self.build / "tests" / f"test_{chapter}"

    def build_chapter(self, chapter: str) -> tuple[bool, str]:
        run = subprocess.run(["cmake", "--build", str(self.build), "--target", f"test_{chapter}", "--parallel", "1"],
                             capture_output=True, text=True)
        output = run.stdout + run.stderr
        if run.returncode != 0:
            errors = [line for line in output.splitlines() if "error" in line.lower()]
            return False, (errors[0].strip() if errors else output.strip()[-500:])
        return True, ""

    def run_tests(self, chapter: str) -> Outcome:
        """Runs the chapter's tests; 'caught' when any fails, crashes or times out."""
        # in a folder of its own, so that the workers' tests never share a working directory
        with tempfile.TemporaryDirectory(prefix="mutation-run-") as tmp:
            try:
                cases, run = run_catch(self.exe(chapter), cwd=tmp, timeout=TEST_TIMEOUT)
            except subprocess.TimeoutExpired:
                return Outcome("caught", f"timed out after {TEST_TIMEOUT} s (an endless loop or a very slow mutant)")
        if cases is None:
            code = run.returncode
            try:
                how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            except ValueError:
                how = f"signal {-code}"
            return Outcome("caught", f"crashed ({how}) before the test report was complete")
        failed = [c.name for c in cases if not c.passed]
        if not cases:
            return Outcome("PROBLEM", "no test case ran")
        if failed:
            return Outcome("caught", f"{len(failed)} of {len(cases)} tests fail; first: {failed[0]}")
        return Outcome("SURVIVED", f"all {len(cases)} tests pass")

    def check_mutation(self, m: Mutation) -> Outcome:
        start = time.monotonic()
        path = self.src / m.file
        original = path.read_text()
        try:
            path.write_text(apply_edits(original, m))
            # A build within the same clock tick as the last one must still see the file as changed.
            now = time.time()
            os.utime(path, (now, now))
            ok, error = self.build_chapter(m.chapter)
            if not ok:
                outcome = Outcome("PROBLEM", f"the mutant does not compile, so it proves nothing; fix the catalogue: {error}")
            elif self.exe(m.chapter).stat().st_mtime < path.stat().st_mtime:
                outcome = Outcome("PROBLEM", "the build did not pick up the mutated file")
            else:
                outcome = self.run_tests(m.chapter)
        finally:
            path.write_text(original)
        outcome.seconds = time.monotonic() - start
        return outcome

    def check_pristine(self, chapter: str) -> Outcome:
        start = time.monotonic()
        ok, error = self.build_chapter(chapter)
        if not ok:
            outcome = Outcome("PROBLEM", f"the unmutated solutions do not compile: {error}")
        else:
            result = self.run_tests(chapter)
            if result.status == "SURVIVED":  # every test passes: what an unmutated copy must do
                outcome = Outcome("ok", result.detail)
            else:
                outcome = Outcome("PROBLEM", f"the unmutated solutions fail their own tests: {result.detail}")
        outcome.seconds = time.monotonic() - start
        return outcome


def run_parallel(workers: list[Worker], items: list, work, progress) -> dict:
    """Runs work(worker, item) for every item on the workers; returns {item: result}."""
    todo: queue.Queue = queue.Queue()
    for item in items:
        todo.put(item)
    results, lock = {}, threading.Lock()

    def loop(worker: Worker):
        while True:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                result = work(worker, item)
            except Exception as e:  # a broken worker must not hang the others or lose the item
                result = Outcome("PROBLEM", f"the check itself failed: {e}")
            with lock:
                results[item] = result
                progress(item, result, len(results), len(items))

    threads = [threading.Thread(target=loop, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# ----------------------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------------------

def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    header = ("chapter", "mutation", "caught", "first failing test (or why)")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    line = lambda r: f"{r[0]:<{widths[0]}} | {r[1]:<{widths[1]}} | {r[2]:<{widths[2]}} | {r[3]}"
    print(line(header))
    print("-|-".join("-" * w for w in widths) + "-|-" + "-" * 40)
    for r in rows:
        print(line(r))


def selected(args) -> list[Mutation]:
    mutations = CATALOGUE
    if args.chapter:
        tags = [c.tag for c in CHAPTERS]
        not_chapters = sorted(set(args.chapter) - set(tags))
        if not_chapters:
            raise SystemExit(f"mutations: there is no chapter {', '.join(not_chapters)} (chapters: "
                             f"{', '.join(tags)})")
        unknown = set(args.chapter) - {m.chapter for m in CATALOGUE}
        if unknown:
            covered = sorted({m.chapter for m in CATALOGUE})
            raise SystemExit(f"mutations: no mutation for {', '.join(sorted(unknown))} (chapters with mutations: "
                             f"{', '.join(covered)})")
        mutations = [m for m in mutations if m.chapter in args.chapter]
    if args.only:
        mutations = [m for m in mutations if args.only.lower() in m.description.lower()]
        if not mutations:
            raise SystemExit(f"mutations: no mutation's description contains {args.only!r}")
    return mutations


def cmd_list(mutations: list[Mutation]) -> int:
    problems = catalogue_problems(mutations)
    for m in mutations:
        print(f"{m.chapter}  {m.description}   [solutions/{m.file}]")
    counts = {}
    for m in mutations:
        counts[m.chapter] = counts.get(m.chapter, 0) + 1
    print(f"{len(mutations)} mutations: " + ", ".join(f"{c} {n}" for c, n in sorted(counts.items())))
    for p in problems:
        print(f"mutations: {p}", file=sys.stderr)
    return 1 if problems else 0


def cmd_run(args, mutations: list[Mutation]) -> int:
    started = time.monotonic()
    problems = catalogue_problems(mutations)
    if problems:
        for p in problems:
            print(f"mutations: {p}", file=sys.stderr)
        print(f"mutations: the catalogue does not apply to the current solutions ({len(problems)} problems): "
              f"nothing was built", file=sys.stderr)
        return 1

    work_dir = Path(args.work_dir).resolve()
    workers = [Worker(i + 1, work_dir, args.generator, args.cmake_arg) for i in range(max(1, args.jobs))]
    for w in workers:
        w.sync_copy()
        w.configure()
    chapters = sorted({m.chapter for m in mutations}, key=lambda c: -BUILD_SECONDS.get(c, 10))

    def say(text: str) -> None:
        print(text, flush=True)

    say(f"mutations: {len(mutations)} mutations of {len(chapters)} chapters, {len(workers)} workers in {work_dir}")
    pristine = run_parallel(
        workers, chapters, lambda w, c: w.check_pristine(c),
        lambda c, r, done, total: say(f"  [{done}/{total}] {c} unmutated: {r.status}, {r.detail} ({r.seconds:.0f} s)"))
    broken = {c for c, r in pristine.items() if r.status != "ok"}

    todo = sorted((m for m in mutations if m.chapter not in broken), key=lambda m: -BUILD_SECONDS.get(m.chapter, 10))
    results = run_parallel(
        workers, todo, lambda w, m: w.check_mutation(m),
        lambda m, r, done, total: say(f"  [{done}/{total}] {m.chapter} {m.description}: {r.status} ({r.seconds:.0f} s)"))

    # Leave the copies unmutated, whatever happened.
    for w in workers:
        w.sync_copy()

    rows = []
    for m in mutations:
        if m.chapter in broken:
            rows.append((m.chapter, m.description, "not run", "the unmutated solutions fail (see above)"))
            continue
        r = results[m]
        caught = {"caught": "yes", "SURVIVED": "NO: SURVIVED", "PROBLEM": "catalogue problem"}[r.status]
        rows.append((m.chapter, m.description, caught, r.detail))
    print()
    print_table(rows)
    print()
    for c in sorted(broken):
        print(f"mutations: {c}: {pristine[c].detail}")
    survived = [m for m in todo if results[m].status == "SURVIVED"]
    problem = [m for m in todo if results[m].status == "PROBLEM"]
    caught = len(todo) - len(survived) - len(problem)
    elapsed = time.monotonic() - started
    print(f"mutations: {caught} of {len(mutations)} caught, {len(survived)} survived, {len(problem)} catalogue "
          f"problems, {len(broken)} chapters whose unmutated solutions fail; {elapsed / 60:.1f} minutes with "
          f"{len(workers)} workers")
    for m in survived:
        print(f"mutations: SURVIVED: {m.chapter} '{m.description}' (solutions/{m.file}): the chapter's tests cannot "
              f"tell this bug from a correct solution; strengthen tests/ so that they catch it")
    return 0 if not survived and not problem and not broken else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapter", action="append", metavar="chNN", help="only this chapter (repeatable)")
    parser.add_argument("--only", metavar="TEXT", help="only the mutations whose description contains TEXT")
    parser.add_argument("--list", action="store_true", help="print the catalogue, check that it applies, build nothing")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers, each with its own copy and build (2)")
    parser.add_argument("--work-dir", default=str(ROOT / "build" / "mutations"),
                        help="where the copies and build folders go (default build/mutations)")
    parser.add_argument("--generator", default=os.environ.get("CMAKE_GENERATOR", ""),
                        help="CMake generator of the build folders (CMake's default when empty)")
    parser.add_argument("--cmake-arg", action="append", default=[], metavar="ARG",
                        help="an extra argument for configuring, for example --cmake-arg=-DCMAKE_CXX_COMPILER=g++")
    args = parser.parse_args()
    mutations = selected(args)
    if args.list:
        return cmd_list(mutations)
    try:
        return cmd_run(args, mutations)
    except RuntimeError as e:
        print(f"mutations: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
