// The figures of chapter 07 (figures.hpp says how a figure is made).
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../train/progress.hpp"  // with_commas
#include "07_network/network.hpp"
#include "figures.hpp"

namespace course::figures {

namespace {

// A tensor's shape as the README writes it, with the batch axis named N: (N, 6, 24, 24).
template <std::size_t Rank>
std::string batch_shape(const Tensor<Rank>& t) {
    std::string s = "(N";
    for (std::size_t axis = 1; axis < Rank; ++axis) s += ", " + std::to_string(t.shape(axis));
    return s + ")";
}

// The parameters of a layer as one line, "W (6, 1, 5, 5), b (6)"; empty for a layer without any.
std::string parameter_line(LayerBase& layer) {
    std::string s;
    for (const ParamRef& p : layer.params_and_grads()) {
        if (!s.empty()) s += ", ";
        s += p.name + " " + shape_to_string(p.shape);
    }
    return s;
}

const std::string conv_colour = "#0072B2";   // blue: the convolutions
const std::string fc_colour = "#009E73";     // green: the fully connected layers
const std::string plain_colour = "#999999";  // grey: the layers without parameters

// One node: the layer's name and what it does in bold and plain text, its parameters below in the layer's colour.
std::string layer_node(const std::string& id, const std::string& title, const std::string& what,
                       const std::string& params, const std::string& colour) {
    std::string label = "<<TABLE BORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\"><TR><TD><B>" + title +
                        ":</B></TD><TD>" + what + "</TD></TR>";
    if (!params.empty())
        label +=
            "<TR><TD COLSPAN=\"2\"><FONT POINT-SIZE=\"11\" COLOR=\"" + colour + "\">" + params + "</FONT></TD></TR>";
    label += "</TABLE>>";
    return "  " + id + " [label=" + label + ", color=" + quoted(colour) + (params.empty() ? "" : ", penwidth=2") +
           "];\n";
}

std::string edge(const std::string& from, const std::string& to, const std::string& label) {
    return "  " + from + " -> " + to + " [label=" + quoted("  " + label) + "];\n";
}

// Section 1: LeNet as a chain of blocks. Every edge carries the shape of the tensor that flows along it, read
// from a forward pass of the reference network on a batch of zero images; every layer with parameters lists their
// shapes, read from its params_and_grads().
Figure lenet_shapes() {
    using Arch = LeNetArchitecture;
    SimpleConvNet net({1, 28, 28}, 10);
    const Tensor<4> x = xt::zeros<real>({std::size_t{1}, std::size_t{1}, std::size_t{28}, std::size_t{28}});
    const Tensor<4> a1 = net.conv1.forward(x);
    const Tensor<4> a2 = net.relu1.forward(a1);
    const Tensor<4> a3 = net.pool1.forward(a2);
    const Tensor<4> a4 = net.conv2.forward(a3);
    const Tensor<4> a5 = net.relu2.forward(a4);
    const Tensor<4> a6 = net.pool2.forward(a5);
    const Tensor<2> a7 = net.flatten.forward(a6);
    const Tensor<2> a8 = net.fc1.forward(a7);
    const Tensor<2> a9 = net.relu3.forward(a8);
    const Tensor<2> a10 = net.fc2.forward(a9);
    const Tensor<2> a11 = net.relu4.forward(a10);
    const Tensor<2> a12 = net.fc3.forward(a11);

    const std::string k = std::to_string(Arch::kernel), p = std::to_string(Arch::pool);
    auto conv_what = [&](const Conv2D& c) {
        return std::to_string(c.W.shape(0)) + " filters " + k + " x " + k + " x " + std::to_string(c.W.shape(1));
    };
    auto fc_what = [](const FullyConnected& f) {
        return std::to_string(f.in_features()) + " to " + std::to_string(f.out_features()) + " features";
    };
    const std::string pool_what = p + " x " + p + ", stride " + p;

    std::string s =
        "digraph G {\n"
        "  rankdir=TB; bgcolor=white; nodesep=0.3; ranksep=0.22; labelloc=t; fontname=\"DejaVu Sans\"; "
        "fontsize=14;\n"
        "  node [shape=box, style=rounded, fontname=\"DejaVu Sans\", fontsize=13, width=3.4, margin=\"0.12,0.05\"];\n"
        "  edge [fontname=\"DejaVu Sans\", fontsize=12, fontcolor=\"#333333\"];\n"
        "  input [shape=plaintext, label=\"images x\"];\n"
        "  loss [shape=plaintext, label=\"softmax + cross-entropy (chapter 4): loss L\"];\n";
    s += "  label=" + quoted("LeNet: " + train::with_commas(net.parameter_count()) + " parameters") + ";\n";
    s += layer_node("conv1", "conv1", "Conv2D, " + conv_what(net.conv1), parameter_line(net.conv1), conv_colour);
    s += layer_node("relu1", "relu1", "ReLU", "", plain_colour);
    s += layer_node("pool1", "pool1", "MaxPool2D, " + pool_what, "", plain_colour);
    s += layer_node("conv2", "conv2", "Conv2D, " + conv_what(net.conv2), parameter_line(net.conv2), conv_colour);
    s += layer_node("relu2", "relu2", "ReLU", "", plain_colour);
    s += layer_node("pool2", "pool2", "MaxPool2D, " + pool_what, "", plain_colour);
    s += layer_node("flatten", "flatten", "Flatten", "", plain_colour);
    s += layer_node("fc1", "fc1", "FullyConnected, " + fc_what(net.fc1), parameter_line(net.fc1), fc_colour);
    s += layer_node("relu3", "relu3", "ReLU", "", plain_colour);
    s += layer_node("fc2", "fc2", "FullyConnected, " + fc_what(net.fc2), parameter_line(net.fc2), fc_colour);
    s += layer_node("relu4", "relu4", "ReLU", "", plain_colour);
    s += layer_node("fc3", "fc3", "FullyConnected, " + fc_what(net.fc3), parameter_line(net.fc3), fc_colour);
    s += edge("input", "conv1", batch_shape(x)) + edge("conv1", "relu1", batch_shape(a1)) +
         edge("relu1", "pool1", batch_shape(a2)) + edge("pool1", "conv2", batch_shape(a3)) +
         edge("conv2", "relu2", batch_shape(a4)) + edge("relu2", "pool2", batch_shape(a5)) +
         edge("pool2", "flatten", batch_shape(a6)) + edge("flatten", "fc1", batch_shape(a7)) +
         edge("fc1", "relu3", batch_shape(a8)) + edge("relu3", "fc2", batch_shape(a9)) +
         edge("fc2", "relu4", batch_shape(a10)) + edge("relu4", "fc3", batch_shape(a11)) +
         edge("fc3", "loss", "scores " + batch_shape(a12));
    s += "}\n";
    return {"07_network", "lenet_shapes", Kind::graph, 0, 0, 0, s};
}

// One recorded training run of chapters/07_network/runs/: the metrics.csv the training program wrote.
struct Run {
    std::string file;   // for example "mnist-fast-seed42.csv"
    std::string title;  // the curve's title
    std::string colour;
};

// The comma-separated fields of one line of metrics.csv (no quoting: the training program writes none).
std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> fields;
    std::size_t begin = 0;
    for (std::size_t comma = line.find(','); comma != std::string::npos; comma = line.find(',', begin)) {
        fields.push_back(line.substr(begin, comma - begin));
        begin = comma + 1;
    }
    fields.push_back(line.substr(begin));
    return fields;
}

// The index of the column `name` in a metrics.csv header.
std::size_t column(const std::vector<std::string>& header, const std::string& name, const std::string& file) {
    for (std::size_t i = 0; i < header.size(); ++i)
        if (header[i] == name) return i;
    throw std::runtime_error(file + ": no column " + name + " in its header");
}

// Section 8: held-out accuracy against seconds of training, read from the runs recorded in
// chapters/07_network/runs/ (their README.md says how they were made).
Figure accuracy_over_time() {
    const std::filesystem::path folder = std::filesystem::path(COURSE_SOURCE_DIR) / "chapters" / "07_network" / "runs";
    const std::vector<Run> runs = {
        {"mnist-fast-seed42.csv", "full MNIST, fast path", "#0072B2"},
        {"mnist-subset-fast-seed42.csv", "10,000-digit subset, fast path", "#E69F00"},
        {"mnist-layers-seed42.csv", "full MNIST, readable layers", "#009E73"},
    };
    std::string data, plot = "plot ";
    for (std::size_t r = 0; r < runs.size(); ++r) {
        std::ifstream in(folder / runs[r].file);
        if (!in) throw std::runtime_error((folder / runs[r].file).string() + ": cannot read this recorded run");
        // The columns are found by the names in the header line that the training program writes
        std::string line;
        std::getline(in, line);
        const std::vector<std::string> header = split_csv(line);
        const std::size_t accuracy = column(header, "test_accuracy", runs[r].file);
        const std::size_t elapsed = column(header, "elapsed_seconds", runs[r].file);
        std::vector<std::vector<double>> rows;
        while (std::getline(in, line)) {
            const std::vector<std::string> fields = split_csv(line);
            if (fields.size() != header.size())
                throw std::runtime_error(runs[r].file + ": a line of " + std::to_string(fields.size()) +
                                         " fields, but the header has " + std::to_string(header.size()));
            rows.push_back({std::stod(fields[elapsed]), 100.0 * std::stod(fields[accuracy])});
        }
        const std::string name = "run" + std::to_string(r);
        data += datablock(name, rows, 5);
        plot += std::string(r > 0 ? ", \
     "
                                  : "") +
                "$" + name + " using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc rgb '" + runs[r].colour + "' title " +
                quoted(runs[r].title);
    }
    std::string s = data;
    s += "set title 'Held-out accuracy of the reference LeNet during training (seed 42, 2 threads)'\n";
    s += "set xlabel 'seconds since the training began (logarithmic)'\nset ylabel 'held-out accuracy (%)'\n";
    s += "set logscale x\nset xrange [1:200]\nset yrange [96:99.6]\nset ytics 0.5\n";
    s += "set grid xtics ytics mxtics lc rgb '#dddddd'\nset key bottom right box opaque\n";
    // LeNet-5 of LeCun et al. 1998, 0.95 % test error on the full test set (their Fig. 9)
    s += "set arrow from 1,99.05 to 200,99.05 nohead dt 2 lc rgb '#666666'\n";
    s += "set label 'LeNet-5 (1998): 99.05 %' at 1.3,99.22 tc rgb '#444444'\n";
    s += plot + "\n";
    return {"07_network", "accuracy_over_time", Kind::plot, 760, 460, 0, s};
}

}  // namespace

std::vector<Figure> chapter07() {
    return {lenet_shapes(), accuracy_over_time()};
}

}  // namespace course::figures
