// `bpfvm bench --report`: one HTML file with no scripts and no outside references — inline SVG bar
// charts of ns/run and code bytes per engine, and the table — to paste into a PR or a paper.
#include <algorithm>
#include <cstdio>

#include "tools/bpfvm/bench_figures.hpp"

namespace bpfvm::tools {

namespace {

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

std::string num(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

struct Bar {
  std::string label;
  double value = 0;
  std::string text;  // printed at the bar's end
};

// A horizontal bar chart: one row per bar, scaled to the largest value.
std::string svg_bars(const std::string& title, const std::vector<Bar>& bars) {
  constexpr int kLabelW = 110, kBarW = 420, kRowH = 26, kTop = 30;
  double max = 0;
  for (const auto& b : bars) max = std::max(max, b.value);
  const int height = kTop + static_cast<int>(bars.size()) * kRowH + 10;
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(kLabelW + kBarW + 120) +
                    "\" height=\"" + std::to_string(height) + "\" role=\"img\" aria-label=\"" + esc(title) + "\">\n";
  out += "<text x=\"0\" y=\"18\" font-weight=\"bold\">" + esc(title) + "</text>\n";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const int y = kTop + static_cast<int>(i) * kRowH;
    const int w = max > 0 ? std::max(1, static_cast<int>(bars[i].value / max * kBarW)) : 1;
    out += "<text x=\"0\" y=\"" + std::to_string(y + 16) + "\">" + esc(bars[i].label) + "</text>\n";
    out += "<rect x=\"" + std::to_string(kLabelW) + "\" y=\"" + std::to_string(y + 3) + "\" width=\"" +
           std::to_string(w) + "\" height=\"18\" fill=\"" + (i == 0 ? "#4a78b5" : "#7fa7d9") + "\"/>\n";
    out += "<text x=\"" + std::to_string(kLabelW + w + 6) + "\" y=\"" + std::to_string(y + 16) + "\">" +
           esc(bars[i].text) + "</text>\n";
  }
  return out + "</svg>\n";
}

}  // namespace

std::string bench_html(const BenchFigures& f) {
  std::vector<Bar> time_bars, size_bars;
  for (const auto& e : f.engines) {
    if (e.skipped()) continue;
    const auto ns = spread_of(e.round_ns);
    time_bars.push_back({e.name, ns.median, num("%.1f ns", ns.median)});
    if (e.code_bytes) size_bars.push_back({e.name, static_cast<double>(*e.code_bytes), std::to_string(*e.code_bytes) + " B"});
  }
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>bpfvm bench: " + esc(f.program) +
      "</title>\n<style>\nbody{font-family:sans-serif;margin:2em;max-width:60em}\n"
      "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}\n"
      "td:first-child,th:first-child{text-align:left}svg text{font-family:sans-serif;font-size:13px}\n"
      "</style>\n</head>\n<body>\n";
  out += "<h1>bpfvm bench: " + esc(f.program) + "</h1>\n";
  out += "<p>" + esc(f.object) + ", program <code>" + esc(f.program) + "</code> (" + esc(f.program_type) + "), " +
         std::to_string(f.data_bytes) + " bytes of input";
  if (f.ctx_bytes) out += " and " + std::to_string(f.ctx_bytes) + " bytes of context";
  out += "; " + std::to_string(f.rounds) + " interleaved rounds of " + std::to_string(f.repeat) + " runs per engine.</p>\n";
  out += "<p>Results " + std::string(f.agree ? "agree" : "<strong>disagree</strong>") + " across engines: retval " +
         std::to_string(f.retval) + ", " + std::to_string(f.data_out_bytes) + " bytes of packet out";
  if (!f.maps_compared.empty()) {
    out += ", maps";
    for (const auto& m : f.maps_compared) out += " <code>" + esc(m) + "</code>";
  }
  out += ".</p>\n";
  out += svg_bars("ns per run (median of rounds)", time_bars);
  if (!size_bars.empty()) out += svg_bars("native code bytes", size_bars);
  std::string base = "first";
  for (const auto& e : f.engines)
    if (!e.skipped()) {
      base = e.name;
      break;
    }
  out += "<table>\n<tr><th>engine</th><th>ns/run (median)</th><th>min</th><th>max</th><th>ratio to " + esc(base) +
         "</th><th>insns/run</th><th>code bytes</th><th>load µs</th><th>verify µs</th><th>compile µs</th></tr>\n";
  for (const auto& e : f.engines) {
    if (e.skipped()) {
      out += "<tr><td>" + esc(e.name) + "</td><td colspan=\"9\" style=\"text-align:left\">skipped: " +
             esc(e.skip_reason) + "</td></tr>\n";
      continue;
    }
    const auto ns = spread_of(e.round_ns);
    const auto ratio = spread_of(e.round_ratio);
    out += "<tr><td>" + esc(e.name) + "</td><td>" + num("%.1f", ns.median) + "</td><td>" + num("%.1f", ns.min) +
           "</td><td>" + num("%.1f", ns.max) + "</td><td>" + num("%.2f", ratio.median) + "</td><td>" +
           (e.insns_executed ? std::to_string(*e.insns_executed) : "–") + "</td><td>" +
           (e.code_bytes ? std::to_string(*e.code_bytes) : "–") + "</td><td>" + num("%.0f", e.load_us) + "</td><td>" +
           (e.verify_us ? num("%.0f", *e.verify_us) : "–") + "</td><td>" +
           (e.compile_us ? num("%.0f", *e.compile_us) : "–") + "</td></tr>\n";
  }
  out += "</table>\n<p>" + esc(f.timing_note) + "</p>\n</body>\n</html>\n";
  return out;
}

}  // namespace bpfvm::tools
