# Targets and helpers shared by every part of the course build.

# COURSE_SANITIZE: every target of the build (the tests and everything compiled into them) with AddressSanitizer
# and UndefinedBehaviorSanitizer; the first report stops the program. The `sanitize` preset sets it, and the full
# suite runs it (`cmake --workflow --preset sanitize`). -O1 because ASan's reports stay exact there, while -O0 would make xtensor's
# indexing 60-100x slower (docs/toolchain.md). Applied here, before any target exists, so no target needs its own flags.
option(COURSE_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer (the 'sanitize' preset)" OFF)
if(COURSE_SANITIZE)
  set(course_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${course_sanitize_flags} -O1 -g)
  add_link_options(${course_sanitize_flags})
  add_compile_definitions(COURSE_SANITIZE=1)  # tests/common/test_sanitizers.cpp checks that they are really in
  message(STATUS "Sanitizers: AddressSanitizer and UndefinedBehaviorSanitizer, -O1")
endif()

# course_common: the given tools in common/ (tensor aliases, errors, random numbers, gradient checker).
add_library(course_common INTERFACE)
target_include_directories(course_common INTERFACE "${PROJECT_SOURCE_DIR}/common")
target_link_libraries(course_common INTERFACE xtensor xtensor-blas ZLIB::ZLIB)
# xt::linalg::dot calls OpenBLAS only when HAVE_CBLAS is defined before xtensor-blas's copy of FLENS (cxxblas)
# is read. xtensor-blas 0.20 (Debian 12) defines it in xblas_config.hpp before that; 0.21 (Debian 13, Ubuntu
# 24.04) includes cxxblas first and the config after, so without this line every product of the readable layers
# runs cxxblas's generic loops: chapter 8's experiments took over 10 minutes instead of about 1 (measured
# 2026-12-03). tests/common/test_blas.cpp checks that a float product reaches cblas_sgemm.
target_compile_definitions(course_common INTERFACE HAVE_CBLAS=1)
# clang 19 made C++17's relaxed matching of template template arguments (P0522R0) the default, and under
# it xtensor before 0.26 (Debian 12 has 0.24.3) does not compile at all: its rebind_container partial
# specializations in xutils.hpp become ambiguous, followed by hundreds of errors (xtensor issue #2804, fixed
# in 0.26.0). For that pair only, clang's old matching rule; clang 19 deprecates the option with a warning
# that -Werror would make fatal, so that one warning is off too.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 19
   AND xtensor_VERSION VERSION_LESS 0.26)
  target_compile_options(course_common INTERFACE
    -fno-relaxed-template-template-args -Wno-deprecated-no-relaxed-template-template-args)
endif()

# course_track: the chapter headers of the chosen track, included as "NN_name/file.hpp".
add_library(course_track INTERFACE)
target_include_directories(course_track INTERFACE "${course_track_dir}")
target_link_libraries(course_track INTERFACE course_common)

# The reference track has the fast path; the learner's track and the suite's pristine skeletons
# (COURSE_TRACK_DIR) do not. Said once here for every CMakeLists.txt.
set(course_track_has_fast_path OFF)
if(COURSE_TRACK STREQUAL "reference" AND NOT COURSE_TRACK_DIR)
  set(course_track_has_fast_path ON)
endif()

# course_fast: the reference's fast path (solutions/fast/), for the training program on the reference track, the
# benchmark and its test. Header-only but for its matrix products, gemm.cpp (gemm.hpp says why they stand alone).
# COURSE_HAVE_FAST_PATH tells a program that links it that the fast path is there.
add_library(course_fast STATIC "${PROJECT_SOURCE_DIR}/solutions/fast/gemm.cpp")
target_include_directories(course_fast PUBLIC "${PROJECT_SOURCE_DIR}/solutions")
target_link_libraries(course_fast PUBLIC course_common)
target_compile_definitions(course_fast INTERFACE COURSE_HAVE_FAST_PATH=1)

# course_set_warnings(target): the warning flags of the course. The skeletons leave parameters unused
# until the learner writes the body, so that warning is off on the learner track.
function(course_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  # A function that returns a value but has a path without `return` is undefined behaviour: GCC's code then
  # falls into whatever follows (often a SIGILL or SIGABRT far from the cause). An error on every track, also
  # without COURSE_WERROR, so a learner who forgets the `return` gets a compile error on that line. The
  # skeletons still compile: their bodies call course::todo(), which is [[noreturn]].
  target_compile_options(${target} PRIVATE -Werror=return-type)
  # -Wno-maybe-uninitialized: xtensor 0.24's own headers (xstrides.hpp) trigger false warnings once
  # inlined at -O2; GCC reports them despite the system-header rule, which would only confuse learners.
  # GCC only: clang has no such warning, and reports the unknown option (-Wunknown-warning-option), which
  # -Werror makes fatal; hence the generator expression.
  target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  if(COURSE_TRACK STREQUAL "learner")
    target_compile_options(${target} PRIVATE -Wno-unused-parameter)
  endif()
  if(COURSE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# course_use_real(target double|float): the course's scalar type `real` for one target. Tests use double
# (gradient checks need it); the training program uses float (it is faster).
function(course_use_real target type)
  if(type STREQUAL "float")
    target_compile_definitions(${target} PRIVATE COURSE_REAL_FLOAT)
  elseif(NOT type STREQUAL "double")
    message(FATAL_ERROR "course_use_real: type must be double or float, not '${type}'")
  endif()
endfunction()

# COURSE_TEST_FLAGS: the optimisation and debug-information flags of the test executables, after the build
# type's. A learner waits for this compile after every edit (./course check N), so the tests trade speed
# of code they do not need for speed of the compiler: chapter 5's test file took 24.5 s of CPU at -O2 -g, 17.7 s
# at -O2 -g1, 12.3 s at -O1 -g1, and its tests run in 0.6 s at -O1 (0.8 s at -O2; docs/toolchain.md,
# "Compile time of the tests"). The results are the same: neither flag changes floating point. -g1 keeps the
# line tables, so `gdb -ex run -ex bt` still names the file and line of a crash; to inspect variables, configure
# with -DCOURSE_TEST_FLAGS="-O0;-g".
set(COURSE_TEST_FLAGS "-O1;-g1" CACHE STRING "Optimisation and debug flags of the test executables")

# course_add_test_executable(NAME name LABEL label SOURCES ... [TRACK lib] [REAL double|float] [DISCOVER ...]):
# one Catch2 executable whose test cases are registered with CTest as "<label>: <test case name>" under the CTest
# label <label>. TRACK: the chapter headers it compiles (default course_track, the chosen track). REAL: the
# scalar type `real` of the executable (default double, what gradient checks need; float for the executables
# that test what the training program computes). DISCOVER: other arguments for catch_discover_tests, which then
# replace the default registration.
function(course_add_test_executable)
  cmake_parse_arguments(arg "" "NAME;LABEL;TRACK;REAL" "SOURCES;DISCOVER" ${ARGN})
  if(NOT arg_TRACK)
    set(arg_TRACK course_track)
  endif()
  if(NOT arg_REAL)
    set(arg_REAL double)
  endif()
  add_executable(${arg_NAME} ${arg_SOURCES})
  target_link_libraries(${arg_NAME} PRIVATE ${arg_TRACK} Catch2::Catch2WithMain)
  # "support/catch.hpp", the one Catch2 header of the tests, works with Catch2 2 and 3.
  target_include_directories(${arg_NAME} PRIVATE "${PROJECT_SOURCE_DIR}/tests")
  target_compile_definitions(${arg_NAME} PRIVATE COURSE_CATCH2_MAJOR=${COURSE_CATCH2_MAJOR})
  # Bounds-checked indexing in tests: an out-of-range x(n, c, h, w) throws with a message instead of
  # reading garbage. About 10x slower indexing, which the small tensors of the tests do not notice.
  target_compile_definitions(${arg_NAME} PRIVATE XTENSOR_ENABLE_ASSERT)
  course_use_real(${arg_NAME} ${arg_REAL})
  course_set_warnings(${arg_NAME})
  if(NOT COURSE_SANITIZE)
    target_compile_options(${arg_NAME} PRIVATE ${COURSE_TEST_FLAGS})
  endif()
  if(NOT arg_TRACK STREQUAL "course_track")
    # Skeletons leave parameters unused until the learner writes the body (as on the learner track).
    target_compile_options(${arg_NAME} PRIVATE -Wno-unused-parameter)
  endif()
  if(arg_DISCOVER)
    catch_discover_tests(${arg_NAME} ${arg_DISCOVER})
  else()
    catch_discover_tests(${arg_NAME} TEST_PREFIX "${arg_LABEL}: " PROPERTIES LABELS ${arg_LABEL})
  endif()
endfunction()

# course_optimize_for_speed(target): -O3 and the instructions of this machine's CPU, for the programs that
# train and benchmark (they run where they are built). Tests keep the default flags.
option(COURSE_NATIVE "Compile the training program and benchmarks for this machine's CPU (-march=native)" ON)
function(course_optimize_for_speed target)
  target_compile_options(${target} PRIVATE -O3)
  if(COURSE_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
endfunction()

# course_add_program(name source): a program of the course (training, experiments) built against the chosen
# track in float, for speed; it knows where the repository and the build folder are.
function(course_add_program name source)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE course_track CLI11::CLI11)
  course_use_real(${name} float)
  course_set_warnings(${name})
  course_optimize_for_speed(${name})
  target_compile_definitions(${name} PRIVATE
    COURSE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    COURSE_BUILD_DIR="${CMAKE_BINARY_DIR}"
    COURSE_TRACK_NAME="${COURSE_TRACK}")
endfunction()

course_set_warnings(course_fast)
course_optimize_for_speed(course_fast)
