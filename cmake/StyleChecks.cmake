# The style checks: clang-format (.clang-format) and clang-tidy (.clang-tidy) over the course's own C++.
#   cmake --build --preset reference --target format         rewrite the files in the course's layout
#   cmake --build --preset reference --target check-format   fail on any file that is not in that layout
#   cmake --build --preset reference --target clang-tidy     clang-tidy, every warning an error (a few minutes)
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
# clang-tidy reads each source with its compile command from this build's compile_commands.json (the headers
# come with the sources), two at a time; checks/clang_tidy.py prints one line per file and the findings last.
if(COURSE_CLANG_TIDY)
  add_custom_target(clang-tidy
                    COMMAND ${COURSE_PYTHON_MODULE} checks.clang_tidy --build "${CMAKE_BINARY_DIR}"
                            "--clang-tidy=${COURSE_CLANG_TIDY}" ${course_tidy_files}
                    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" COMMENT "clang-tidy (the course's C++)" VERBATIM)
endif()
