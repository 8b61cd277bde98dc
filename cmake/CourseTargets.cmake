# Targets and helpers shared by every part of the course build.

# COURSE_SANITIZE: every target of the build (the tests and everything compiled into them) with AddressSanitizer
# and UndefinedBehaviorSanitizer; the first report stops the program. The `sanitize` preset sets it, and the full
# suite runs it (tools/sanitize.py). -O1 because ASan's reports stay exact there, while -O0 would make xtensor's
# indexing 60-100x slower (TOOLCHAIN.md). Applied here, before any target exists, so no target needs its own flags.
option(COURSE_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer (the 'sanitize' preset)" OFF)
if(COURSE_SANITIZE)
  set(course_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${course_sanitize_flags} -O1 -g)
  add_link_options(${course_sanitize_flags})
  message(STATUS "Sanitizers: AddressSanitizer and UndefinedBehaviorSanitizer, -O1")
endif()

# course_common: the given tools in common/ (tensor aliases, errors, random numbers, gradient checker).
add_library(course_common INTERFACE)
target_include_directories(course_common INTERFACE "${PROJECT_SOURCE_DIR}/common")
target_link_libraries(course_common INTERFACE xtensor xtensor-blas ZLIB::ZLIB)

# course_track: the chapter headers of the chosen track, included as "NN_name/file.hpp".
add_library(course_track INTERFACE)
target_include_directories(course_track INTERFACE "${course_track_dir}")
target_link_libraries(course_track INTERFACE course_common)

# course_set_warnings(target): the warning flags of the course. The skeletons leave parameters unused
# until the learner writes the body, so that warning is off on the learner track.
function(course_set_warnings target)
  # -Wno-maybe-uninitialized: xtensor 0.24's own headers (xstrides.hpp) trigger false warnings once
  # inlined at -O2; GCC reports them despite the system-header rule, which would only confuse learners.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-maybe-uninitialized)
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

# course_add_test_executable(NAME name LABEL label SOURCES ...): one Catch2 executable whose test cases
# are registered with CTest as "<label>: <test case name>" under the CTest label <label>.
function(course_add_test_executable)
  cmake_parse_arguments(arg "" "NAME;LABEL" "SOURCES" ${ARGN})
  add_executable(${arg_NAME} ${arg_SOURCES})
  target_link_libraries(${arg_NAME} PRIVATE course_track Catch2::Catch2WithMain)
  # Bounds-checked indexing in tests: an out-of-range x(n, c, h, w) throws with a message instead of
  # reading garbage. About 10x slower indexing, which the small tensors of the tests do not notice.
  target_compile_definitions(${arg_NAME} PRIVATE XTENSOR_ENABLE_ASSERT)
  course_use_real(${arg_NAME} double)
  course_set_warnings(${arg_NAME})
  catch_discover_tests(${arg_NAME} TEST_PREFIX "${arg_LABEL}: " PROPERTIES LABELS ${arg_LABEL})
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
