# The style checks: clang-format (.clang-format) and clang-tidy (.clang-tidy) over the course's own C++.
#   cmake --build --preset reference --target format         rewrite the files in the course's layout
#   cmake --build --preset reference --target check-format   fail on any file that is not in that layout
#   cmake --build --preset reference --target clang-tidy     clang-tidy, every warning an error: ctest -L tidy
#                                                            (the full suite's tests, a few minutes)
# chapters/ is not listed: it is generated from solutions/ (checks/skeletons.py), and it holds the learner's work.
file(GLOB_RECURSE course_cxx_files CONFIGURE_DEPENDS
     LIST_DIRECTORIES false RELATIVE "${PROJECT_SOURCE_DIR}"
     "${PROJECT_SOURCE_DIR}/solutions/*.[hc]pp" "${PROJECT_SOURCE_DIR}/common/*.[hc]pp"
     "${PROJECT_SOURCE_DIR}/tests/*.[hc]pp" "${PROJECT_SOURCE_DIR}/bench/*.[hc]pp"
     "${PROJECT_SOURCE_DIR}/programs/*.[hc]pp" "${PROJECT_SOURCE_DIR}/fuzz/*.[hc]pp")
# The source files that clang-tidy reads, through the compile commands of this build (headers come with them).
set(course_tidy_files "")
foreach(file IN LISTS course_cxx_files)
  if(file MATCHES "\\.cpp$" AND NOT file MATCHES "^(fuzz/|bench/lenet_libtorch)")
    list(APPEND course_tidy_files "${file}")
  endif()
endforeach()

find_program(COURSE_CLANG_FORMAT NAMES clang-format)
find_program(COURSE_CLANG_TIDY NAMES clang-tidy)
if(COURSE_CLANG_FORMAT)
  add_custom_target(format COMMAND "${COURSE_CLANG_FORMAT}" -i ${course_cxx_files}
                    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" COMMENT "clang-format -i (the course's C++)" VERBATIM)
  add_custom_target(check-format COMMAND "${COURSE_CLANG_FORMAT}" --dry-run -Werror ${course_cxx_files}
                    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" COMMENT "clang-format --dry-run -Werror" VERBATIM)
endif()
# The suite's clang-tidy tests (label tidy), and a target that runs them two at a time.
if(COURSE_CLANG_TIDY AND COURSE_SUITE)
  add_custom_target(clang-tidy
                    COMMAND "${CMAKE_CTEST_COMMAND}" -L "^tidy$" --output-on-failure --no-tests=error --parallel 2
                    WORKING_DIRECTORY "${CMAKE_BINARY_DIR}" COMMENT "clang-tidy (the course's C++): ctest -L tidy"
                    USES_TERMINAL VERBATIM)
endif()

# course_tidy_tests(): one suite test per file of course_tidy_files that this build compiles; clang-tidy reads it
# with its compile command from compile_commands.json (the headers come with the sources), every warning an
# error. CTest shows one line per file, and the findings of a failing one only (--output-on-failure), not the
# "47015 warnings generated." of each (warnings in system headers that .clang-tidy does not ask for).
# tests/CMakeLists.txt calls it (suite_test is its function) at the end of the configure step: only then does
# every target exist.
function(course_tidy_tests)
  # The sources that the targets of every folder compile, and that go into compile_commands.json.
  set(compiled "")
  set(dirs "${PROJECT_SOURCE_DIR}")
  while(dirs)
    list(POP_FRONT dirs dir)
    get_directory_property(subdirs DIRECTORY "${dir}" SUBDIRECTORIES)
    get_directory_property(targets DIRECTORY "${dir}" BUILDSYSTEM_TARGETS)
    list(APPEND dirs ${subdirs})
    foreach(target IN LISTS targets)
      get_target_property(type ${target} TYPE)
      get_target_property(exported ${target} EXPORT_COMPILE_COMMANDS)
      if(NOT type MATCHES "^(EXECUTABLE|(STATIC|SHARED|MODULE|OBJECT)_LIBRARY)$" OR NOT exported)
        continue()
      endif()
      get_target_property(sources ${target} SOURCES)
      get_target_property(source_dir ${target} SOURCE_DIR)
      foreach(source IN LISTS sources)
        cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY "${source_dir}" NORMALIZE)
        list(APPEND compiled "${source}")
      endforeach()
    endforeach()
  endwhile()
  # clang-tidy reads the database for every file: a copy, so that a build that configures again at the same time
  # (another test of the suite) cannot hand it a half-written one.
  set(database "${CMAKE_BINARY_DIR}/tidy-database")
  set(copy "clang-tidy's copy of compile_commands.json is made")
  suite_test(NAME "${copy}" LABELS style tidy
             COMMAND "${CMAKE_COMMAND}" -E copy "${CMAKE_BINARY_DIR}/compile_commands.json"
                     "${database}/compile_commands.json")
  set_tests_properties("suite:${copy}" PROPERTIES FIXTURES_SETUP course_tidy_database)
  foreach(file IN LISTS course_tidy_files)
    # A program whose library this machine lacks (libtorch, Google Benchmark) has no compile command, and
    # clang-tidy would guess one from a neighbour.
    if(NOT "${PROJECT_SOURCE_DIR}/${file}" IN_LIST compiled)
      message(STATUS "clang-tidy: ${file} is not compiled in this build, so it is not checked")
      continue()
    endif()
    set(name "clang-tidy finds nothing in ${file}")
    suite_test(NAME "${name}" LABELS style tidy
               COMMAND "${COURSE_CLANG_TIDY}" "-p=${database}" --quiet "--warnings-as-errors=*"
                       --extra-arg=-Wno-unknown-warning-option "${file}")
    # A finding fails the test by its exit code (warnings as errors), a crash by its signal; the expression
    # catches a warning that did not change the exit code.
    set_tests_properties("suite:${name}" PROPERTIES FIXTURES_REQUIRED course_tidy_database
                         FAIL_REGULAR_EXPRESSION "(warning|error):")
  endforeach()
endfunction()
