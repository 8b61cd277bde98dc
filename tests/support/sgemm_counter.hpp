/// @file sgemm_counter.hpp
/// @brief How many times this program called OpenBLAS's `cblas_sgemm` (sgemm_counter.cpp, which an executable
/// adds to its sources, replaces the function with one that counts and passes the call on).
#pragma once

#include <cstddef>

namespace course {
std::size_t sgemm_calls();
}
