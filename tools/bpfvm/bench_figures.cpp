// `bpfvm bench` figures as a text table and as JSON.
#include "tools/bpfvm/bench_figures.hpp"

#include <algorithm>
#include <cstdio>
#include <type_traits>

namespace bpfvm::tools {

namespace {

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20) out += ' ';
    else out += c;
  }
  return out + "\"";
}

std::string json_number(double v) { return format("%.3f", v); }

template <class T>
std::string json_optional(const std::optional<T>& v) {
  if (!v) return "null";
  if constexpr (std::is_floating_point_v<T>) return json_number(*v);
  else return std::to_string(*v);
}

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + json_string(items[i]);
  return out + "]";
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

}  // namespace

Spread spread_of(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {median, values.front(), values.back()};
}

std::string bench_text(const BenchFigures& f) {
  std::string out;
  out += f.object + " " + f.program + " (" + f.program_type + "), " + std::to_string(f.data_bytes) + " bytes in";
  if (f.ctx_bytes) out += " + " + std::to_string(f.ctx_bytes) + " bytes of context";
  out += "; " + std::to_string(f.rounds) + " rounds x " + std::to_string(f.repeat) + " runs per engine\n";
  char r0[40];
  std::snprintf(r0, sizeof r0, "r0 0x%llx", static_cast<unsigned long long>(f.r0));
  out += "results agree: " + (f.r0 != f.retval ? std::string(r0) + ", " : std::string()) + "retval " +
         std::to_string(f.retval);
  if (f.data_out_bytes)
    out += std::string(f.program_type == "plain" ? ", buffer out " : ", packet out ") + std::to_string(f.data_out_bytes) +
           " bytes";
  if (!f.maps_compared.empty()) {
    out += ", maps ";
    for (std::size_t i = 0; i < f.maps_compared.size(); ++i) out += (i ? ", " : "") + f.maps_compared[i];
  }
  if (!f.maps_not_compared.empty()) {
    out += " (not compared: ";
    for (std::size_t i = 0; i < f.maps_not_compared.size(); ++i) out += (i ? ", " : "") + f.maps_not_compared[i];
    out += ")";
  }
  out += "\n\n";
  out += "engine           ns/run   min..max          ratio  insns/run  code bytes   load us  (verify + compile)\n";
  for (const auto& e : f.engines) {
    if (e.skipped()) continue;
    const auto ns = spread_of(e.round_ns);
    const auto ratio = spread_of(e.round_ratio);
    std::string line = e.name;
    line.resize(std::max<std::size_t>(line.size(), 14), ' ');
    line += pad(format("%.1f", ns.median), 9);
    line += "   " + pad(format("%.1f", ns.min), 7) + ".." + format("%-7.1f", ns.max);
    line += pad(format("%.2fx", ratio.median), 7);
    line += pad(e.insns_executed ? std::to_string(*e.insns_executed) : "-", 11);
    line += pad(e.code_bytes ? std::to_string(*e.code_bytes) : "-", 12);
    line += pad(format("%.0f", e.load_us), 10);
    if (e.verify_us && e.compile_us) line += "  (" + format("%.0f", *e.verify_us) + " + " + format("%.0f", *e.compile_us) + ")";
    out += line + "\n";
  }
  out += "\n" + f.timing_note + "\n";
  return out;
}

std::string bench_json(const BenchFigures& f) {
  std::string out = "{";
  out += "\"object\": " + json_string(f.object) + ", \"program\": " + json_string(f.program) +
         ", \"program_type\": " + json_string(f.program_type);
  out += ", \"data_bytes\": " + std::to_string(f.data_bytes) + ", \"ctx_bytes\": " + std::to_string(f.ctx_bytes);
  out += ", \"repeat\": " + std::to_string(f.repeat) + ", \"rounds\": " + std::to_string(f.rounds);
  out += ", \"agree\": " + std::string(f.agree ? "true" : "false");
  out += ", \"disagreements\": " + json_list(f.disagreements);
  char r0[32];
  std::snprintf(r0, sizeof r0, "0x%llx", static_cast<unsigned long long>(f.r0));
  out += ", \"result\": {\"retval\": " + std::to_string(f.retval) + ", \"r0\": " + json_string(r0) +
         ", \"data_out_bytes\": " + std::to_string(f.data_out_bytes) + ", \"maps_compared\": " + json_list(f.maps_compared) +
         ", \"maps_not_compared\": " + json_list(f.maps_not_compared) + "}";
  std::string base;
  for (const auto& e : f.engines)
    if (!e.skipped()) {
      base = e.name;
      break;
    }
  out += ", \"ratio_base\": " + json_string(base);  // the first engine that ran
  out += ", \"engines\": [";
  for (std::size_t i = 0; i < f.engines.size(); ++i) {
    const auto& e = f.engines[i];
    out += i ? ", {" : "{";
    out += "\"name\": " + json_string(e.name);
    if (e.skipped()) {
      out += ", \"status\": \"skipped\", \"reason\": " + json_string(e.skip_reason) + "}";
      continue;
    }
    const auto ns = spread_of(e.round_ns);
    const auto ratio = spread_of(e.round_ratio);
    out += ", \"status\": \"ok\"";
    out += ", \"ns_per_run\": {\"median\": " + json_number(ns.median) + ", \"min\": " + json_number(ns.min) +
           ", \"max\": " + json_number(ns.max) + ", \"rounds\": [";
    for (std::size_t r = 0; r < e.round_ns.size(); ++r) out += (r ? ", " : "") + json_number(e.round_ns[r]);
    out += "]}";
    out += ", \"ratio_to_first\": {\"median\": " + json_number(ratio.median) + ", \"min\": " + json_number(ratio.min) +
           ", \"max\": " + json_number(ratio.max) + "}";
    out += ", \"insns_executed\": " + json_optional(e.insns_executed);
    out += ", \"code_bytes\": " + json_optional(e.code_bytes) + ", \"entry_bytes\": " + json_optional(e.entry_bytes);
    out += ", \"load_us\": " + json_number(e.load_us) + ", \"verify_us\": " + json_optional(e.verify_us) +
           ", \"compile_us\": " + json_optional(e.compile_us);
    out += ", \"batches\": " + std::to_string(e.batches) + ", \"batches_dropped\": " + std::to_string(e.batches_dropped);
    out += "}";
  }
  out += "], \"timing\": " + json_string(f.timing_note) + "}\n";
  return out;
}

}  // namespace bpfvm::tools
