// Added by Doxygen (MATHJAX_CODEFILE) to the MathJax 2 configuration of every page.
// Only the TeX web fonts are copied into the book (book/book.cmake), so MathJax must neither pick
// a font installed on the reader's system (STIX) nor fall back to image fonts, which Debian does not ship.
MathJax.Hub.Config({
  "HTML-CSS": { availableFonts: ["TeX"], preferredFont: "TeX", webFont: "TeX", imageFont: null },
  messageStyle: "none"
});
