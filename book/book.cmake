# Builds the book into BUILD/book/html: Doxygen (warnings are errors; it reads the Markdown through book.filter),
# then the copy of what the pages load but Doxygen does not write: the part of MathJax 2 the book uses (Debian's
# libjs-mathjax and fonts-mathjax; links are followed, so the copy holds files, never links), the pictures in
# chapters/ and book/ (to html/figures/<path in the repository>), and the figures of the programs that the pages
# name and that exist (from BUILD/PATH to html/figures/PATH). book/check.py finds what the copy misses: the
# "assets" rule a MathJax file the pages need, the "links" rule a picture or figure a page shows.
#
#   cmake -DROOT=REPO -DBUILD_DIR=BUILD -DPYTHON=python3 -DDOXYGEN=doxygen -DDOT=dot [-DMATHJAX=DIR]
#         [-DFILTER=COMMAND] -P book/book.cmake        (the book target runs it, and book/test_book.py)
cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED MATHJAX)
  set(MATHJAX /usr/share/javascript/mathjax)
endif()
if(NOT DEFINED FILTER)  # Doxygen's input filter of the *.md files (book/Doxyfile.in)
  set(FILTER "PYTHONPATH=${ROOT} ${PYTHON} -m book.filter --root ${ROOT} --build-dir ${BUILD_DIR}")
endif()
set(HTML "${BUILD_DIR}/book/html")
# What Doxygen's configuration loads: MathJax.js, the extensions, the TeX input and the HTML-CSS output.
set(mathjax_subset MathJax.js extensions jax/input/TeX jax/element/mml jax/output/HTML-CSS/config.js
    jax/output/HTML-CSS/jax.js jax/output/HTML-CSS/imageFonts.js jax/output/HTML-CSS/autoload
    jax/output/HTML-CSS/fonts/TeX fonts/HTML-CSS/TeX/woff)

# The content of SOURCE into TARGET (file(COPY) would copy a link as a link). A missing or empty file fails,
# and so does a link whose target is missing (EXISTS follows links).
function(copy source target)
  set(size 0)
  if(EXISTS "${source}" AND NOT IS_DIRECTORY "${source}")
    file(SIZE "${source}" size)
  endif()
  if(size EQUAL 0)
    message(FATAL_ERROR "book: ${source} is missing, empty or a broken link; reinstall libjs-mathjax "
                        "and fonts-mathjax (./course setup)")
  endif()
  get_filename_component(folder "${target}" DIRECTORY)
  file(MAKE_DIRECTORY "${folder}")
  file(COPY_FILE "${source}" "${target}")
endfunction()

# The old HTML goes first, so that a renamed chapter leaves no stale page behind for the check to find.
file(REMOVE_RECURSE "${HTML}")
configure_file("${ROOT}/book/Doxyfile.in" "${BUILD_DIR}/book/Doxyfile" @ONLY)
execute_process(COMMAND "${DOXYGEN}" "${BUILD_DIR}/book/Doxyfile" WORKING_DIRECTORY "${ROOT}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "book: Doxygen failed (${status}): its warnings are errors, see above")
elseif(NOT EXISTS "${HTML}/index.html")
  message(FATAL_ERROR "book: Doxygen wrote no ${HTML}/index.html")
endif()
if(NOT EXISTS "${MATHJAX}/MathJax.js")
  message(FATAL_ERROR "book: MathJax 2 is not in ${MATHJAX}; install libjs-mathjax and fonts-mathjax "
                      "(./course setup)")
endif()

set(mathjax_files 0)
foreach(part IN LISTS mathjax_subset)
  set(files "${part}")
  if(IS_DIRECTORY "${MATHJAX}/${part}")
    file(GLOB_RECURSE files FOLLOW_SYMLINKS RELATIVE "${MATHJAX}" "${MATHJAX}/${part}/*")
  endif()
  foreach(file IN LISTS files)
    copy("${MATHJAX}/${file}" "${HTML}/mathjax/${file}")
    math(EXPR mathjax_files "${mathjax_files} + 1")
  endforeach()
endforeach()

# Every picture, shown or not: a page can show only these (the filter points ![alt](PATH) to figures/PATH).
file(GLOB_RECURSE pictures RELATIVE "${ROOT}" "${ROOT}/chapters/*.svg" "${ROOT}/chapters/*.gif"
     "${ROOT}/chapters/*.png" "${ROOT}/chapters/*.jpg" "${ROOT}/chapters/*.jpeg" "${ROOT}/book/*.svg"
     "${ROOT}/book/*.gif" "${ROOT}/book/*.png" "${ROOT}/book/*.jpg" "${ROOT}/book/*.jpeg")
foreach(path IN LISTS pictures)
  copy("${ROOT}/${path}" "${HTML}/figures/${path}")
endforeach()

# The figures of the programs: <!-- figure: PATH | caption | command --> on a line of its own. A figure not
# made yet stays out: the page shows the command that makes it, and the check's "figures" rule fails.
file(GLOB pages "${ROOT}/chapters/[0-9][0-9]_*/README.md" "${ROOT}/book/*.md")
list(REMOVE_ITEM pages "${ROOT}/book/README.md")  # for the course's developers, not a page of the book
set(figures 0)
foreach(page IN LISTS pages)
  file(STRINGS "${page}" lines REGEX "^[ \t]*<!--[ \t]*figure[ \t]*:")
  foreach(line IN LISTS lines)  # a ';' in a caption splits a line in two here: only the first half matches
    if(line MATCHES "^[ \t]*<!--[ \t]*figure[ \t]*:([^|]*)")
      string(STRIP "${CMAKE_MATCH_1}" name)
      if(EXISTS "${BUILD_DIR}/${name}" AND NOT IS_DIRECTORY "${BUILD_DIR}/${name}")
        copy("${BUILD_DIR}/${name}" "${HTML}/figures/${name}")
        math(EXPR figures "${figures} + 1")
      endif()
    endif()
  endforeach()
endforeach()

list(LENGTH pictures picture_count)
message(STATUS "book: copied MathJax (${mathjax_files} files), ${picture_count} picture(s) and ${figures} "
               "figure(s) of the programs into ${HTML}")
