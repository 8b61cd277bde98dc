// xt::linalg::dot must reach OpenBLAS. xtensor-blas 0.21 (Debian 13, Ubuntu 24.04) reads its copy of FLENS
// before its own config, so unless HAVE_CBLAS is defined first (cmake/CourseTargets.cmake does it) every matrix
// product silently runs generic C++ loops instead: the results are the same and every other test passes, but
// the readable layers are about 10 times slower. Only counting the BLAS calls shows it.
#include <xtensor-blas/xlinalg.hpp>

#include "../support/catch.hpp"
#include "../support/sgemm_counter.hpp"

TEST_CASE("xt::linalg::dot of float matrices calls OpenBLAS's cblas_sgemm", "[blas]") {
    const xt::xtensor<float, 2> a = xt::ones<float>({std::size_t{8}, std::size_t{5}});
    const xt::xtensor<float, 2> b = xt::ones<float>({std::size_t{5}, std::size_t{3}});
    const std::size_t before = course::sgemm_calls();
    const xt::xtensor<float, 2> c = xt::linalg::dot(a, b);
    INFO("0 calls: xtensor-blas multiplied with its generic loops (HAVE_CBLAS was not defined before it)");
    CHECK(course::sgemm_calls() == before + 1);
    CHECK(c(7, 2) == 5.0f);
}
