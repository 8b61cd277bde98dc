// The figures program: draws the chapters' figures (--write) or checks that the committed ones are those the
// reference draws today (--check). figures.hpp says how a figure is made; ./course figures runs --write.
#include <zlib.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "figures.hpp"

namespace fs = std::filesystem;
using namespace course::figures;

namespace {

const fs::path source_dir = COURSE_SOURCE_DIR;
const fs::path manifest_path = source_dir / "programs" / "figures" / "sources.txt";

std::vector<Figure> all_figures() {
    std::vector<Figure> all;
    for (auto chapter : {chapter01, chapter02, chapter03, chapter04, chapter05, chapter06, chapter07, chapter08}) {
        for (Figure& f : chapter()) all.push_back(std::move(f));
    }
    return all;
}

// The committed file of a figure, relative to the repository: chapters/05_conv2d/figures/padding.svg.
std::string output_of(const Figure& f) {
    return "chapters/" + f.chapter + "/figures/" + f.name + (f.kind == Kind::animation ? ".gif" : ".svg");
}

// The text given to gnuplot or dot, without the output file (which differs between --write and a check in
// another folder): what the checksum covers.
std::string script_of(const Figure& f) {
    std::ostringstream s;
    switch (f.kind) {
        case Kind::plot:
            s << "set terminal svg size " << f.width << "," << f.height
              << " enhanced font 'DejaVu Sans,12' background '#ffffff'\n";
            break;
        case Kind::animation:
            // No `optimize`: with it, libgd paints some cells of later frames black (gnuplot's manual warns
            // that it can give wrong colours).
            s << "set terminal gif animate delay " << f.frame_delay << " loop 0 size " << f.width << "," << f.height
              << " font 'DejaVu Sans,12' background '#ffffff'\n";
            break;
        case Kind::graph:
            break;
    }
    s << f.source;
    if (!f.source.empty() && f.source.back() != '\n') s << "\n";
    return s.str();
}

std::string checksum(const std::string& text) {
    const auto sum = crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size()));
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08lx", static_cast<unsigned long>(sum));
    return hex;
}

// sources.txt: "checksum  path" per line; # starts a comment.
std::map<std::string, std::string> read_manifest() {
    std::map<std::string, std::string> sums;
    std::ifstream in(manifest_path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.find("  ");
        if (space != std::string::npos) sums[line.substr(space + 2)] = line.substr(0, space);
    }
    return sums;
}

void write_manifest(const std::map<std::string, std::string>& sums) {
    std::ofstream out(manifest_path);
    out << "# Written by `./course figures` (programs/figures): the CRC-32 of each figure's gnuplot or Graphviz\n"
           "# source. The suite's figure check makes every source again and compares: a different checksum\n"
           "# means the figure no longer shows what the reference computes, so run ./course figures again.\n";
    for (const auto& [path, sum] : sums) out << sum << "  " << path << "\n";
}

// Renders one figure; an empty string when it worked, otherwise what went wrong.
std::string render(const Figure& f, const fs::path& work) {
    const fs::path out = source_dir / output_of(f);
    fs::create_directories(out.parent_path());
    fs::create_directories(work);
    const bool dot = f.kind == Kind::graph;
    const fs::path script = work / (f.chapter + "-" + f.name + (dot ? ".dot" : ".gp"));
    {
        std::ofstream s(script);
        if (dot) {
            s << script_of(f);
        } else {
            // The output line goes after the terminal line, which is the first line of script_of.
            const std::string text = script_of(f);
            const auto end_of_terminal = text.find('\n') + 1;
            s << text.substr(0, end_of_terminal) << "set output " << quoted(out.string()) << "\n"
              << text.substr(end_of_terminal) << "unset output\n";
        }
    }
    const std::string command = dot ? "dot -Tsvg " + quoted(script.string()) + " -o " + quoted(out.string())
                                    : "gnuplot " + quoted(script.string());
    if (std::system(command.c_str()) != 0) {
        return output_of(f) + ": `" + command + "` failed (the script is kept there to look at)";
    }
    return "";
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Draw the chapters' figures from the reference's numbers, or check that they are up to date."};
    bool write = false, check = false, list = false;
    std::string only;
    std::string work = std::string(COURSE_BUILD_DIR) + "/figures";
    app.add_flag("--write", write, "render the figures into chapters/NN_name/figures/ and record their sources");
    app.add_flag("--check", check, "fail when a committed figure is missing or its source changed");
    app.add_flag("--list", list, "list the figures");
    app.add_option("--only", only, "with --write: only the figures whose file path contains this text");
    app.add_option("--work", work, "folder for the gnuplot and Graphviz sources")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    if (write + check + list != 1) {
        std::cerr << "figures: say one of --write, --check or --list\n";
        return 2;
    }
    const std::vector<Figure> figures = all_figures();
    std::set<std::string> seen;
    for (const Figure& f : figures) {
        if (!seen.insert(output_of(f)).second) {
            std::cerr << "figures: two figures are called " << output_of(f) << "\n";
            return 2;
        }
    }
    std::map<std::string, std::string> sums = read_manifest();
    if (list) {
        for (const Figure& f : figures) std::cout << output_of(f) << "\n";
        return 0;
    }
    if (write) {
        int failed = 0, drawn = 0;
        for (const Figure& f : figures) {
            if (output_of(f).find(only) == std::string::npos) continue;
            const std::string problem = render(f, work);
            if (!problem.empty()) {
                std::cerr << "figures: " << problem << "\n";
                ++failed;
                continue;
            }
            sums[output_of(f)] = checksum(script_of(f));
            ++drawn;
        }
        // Entries of figures that no longer exist go, and so do their files.
        for (auto it = sums.begin(); it != sums.end();) {
            if (seen.count(it->first) == 0) {
                std::cout << "figures: " << it->first << " is no longer made: removed\n";
                fs::remove(source_dir / it->first);
                it = sums.erase(it);
            } else {
                ++it;
            }
        }
        write_manifest(sums);
        std::cout << "figures: " << drawn << " drawn into chapters/*/figures/, sources in " << work << "\n";
        return failed == 0 ? 0 : 1;
    }
    // --check
    int problems = 0;
    const auto problem = [&](const std::string& text) {
        std::cerr << "figures: " << text << "\n";
        ++problems;
    };
    for (const Figure& f : figures) {
        const std::string path = output_of(f);
        const auto it = sums.find(path);
        if (!fs::exists(source_dir / path)) {
            problem(path + " is missing: run ./course figures");
        } else if (it == sums.end()) {
            problem(path + " is not in programs/figures/sources.txt: run ./course figures");
        } else if (it->second != checksum(script_of(f))) {
            problem(path + " was drawn from another source (checksum " + it->second + ", today " +
                    checksum(script_of(f)) +
                    "): the reference's numbers or the figure's code changed; run ./course figures and commit");
        }
    }
    for (const auto& [path, sum] : sums) {
        if (seen.count(path) == 0) problem(path + " is in sources.txt but no figure makes it: run ./course figures");
    }
    // A picture in a figures folder that no figure makes would never be checked.
    for (const auto& chapter : fs::directory_iterator(source_dir / "chapters")) {
        const fs::path folder = chapter.path() / "figures";
        if (!fs::is_directory(folder)) continue;
        for (const auto& file : fs::directory_iterator(folder)) {
            const std::string path = fs::relative(file.path(), source_dir).generic_string();
            if (seen.count(path) == 0)
                problem(path + " is not made by programs/figures (remove it, or add its figure)");
        }
    }
    if (problems == 0) std::cout << "figures: all " << figures.size() << " figures are up to date\n";
    return problems == 0 ? 0 : 1;
}
