// CoverageReport: edge totals over runs, turned into lcov line and branch records via BTF line info.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

#include "bpfvm/fuzz.hpp"
#include "fuzz/program_graph.hpp"

namespace bpfvm::fuzz {

struct CoverageReport::State {
  std::string name;
  std::optional<ProgramGraph> graph;
  std::vector<SourceLine> lines;
  std::vector<std::uint32_t> counters;
  std::vector<std::uint64_t> totals;
  std::uint64_t runs = 0;
};

namespace {

struct LineRecord {
  std::uint64_t count = 0;
  bool has_insn = false;
  struct Branch {
    std::uint32_t pc;
    bool reached;
    std::uint64_t not_taken, taken;
  };
  std::vector<Branch> branches;
};

using FileRecords = std::map<std::string, std::map<std::uint32_t, LineRecord>>;

// Per file and line: the most any of its instructions ran, and its conditional jumps.
FileRecords collect(const CoverageReport::State& s) {
  FileRecords files;
  if (!s.graph || s.lines.empty()) return files;
  const auto& g = *s.graph;
  const auto counts = g.block_counts(s.totals, s.runs);
  std::size_t b = 0, l = 0;
  for (std::uint32_t pc = 0; pc < g.size(); ++pc) {
    while (b + 1 < g.blocks().size() && g.blocks()[b + 1].first_pc <= pc) ++b;
    while (l + 1 < s.lines.size() && s.lines[l + 1].insn <= pc) ++l;
    if (!g.is_insn(pc) || s.lines[l].insn > pc || s.lines[l].line == 0) continue;
    auto& rec = files[s.lines[l].file][s.lines[l].line];
    rec.has_insn = true;
    rec.count = std::max(rec.count, counts[b]);
  }
  for (const auto& j : g.jumps()) {
    std::size_t at = 0;
    while (at + 1 < s.lines.size() && s.lines[at + 1].insn <= j.pc) ++at;
    if (s.lines[at].insn > j.pc || s.lines[at].line == 0) continue;
    const auto nt = s.totals[2 * std::size_t{j.pc}], t = s.totals[2 * std::size_t{j.pc} + 1];
    files[s.lines[at].file][s.lines[at].line].branches.push_back(LineRecord::Branch{j.pc, nt + t > 0, nt, t});
  }
  return files;
}

std::string test_name_of(std::string_view name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return out;
}

}  // namespace

CoverageReport::CoverageReport(const Program& program) : s_(std::make_unique<State>()) {
  s_->name = program.name();
  auto graph = ProgramGraph::build(program.bytecode());
  if (graph) s_->graph.emplace(std::move(*graph));
  s_->lines = program.source_lines();
  const std::size_t n = s_->graph ? s_->graph->size() : 0;
  s_->counters.assign(2 * n, 0);
  s_->totals.assign(2 * n, 0);
}

CoverageReport::CoverageReport(CoverageReport&&) noexcept = default;
CoverageReport& CoverageReport::operator=(CoverageReport&&) noexcept = default;
CoverageReport::~CoverageReport() = default;

std::span<std::uint32_t> CoverageReport::counters() { return s_->counters; }

void CoverageReport::add_run(std::uint64_t runs) {
  add_edges(s_->counters, runs);
  std::fill(s_->counters.begin(), s_->counters.end(), 0);
}

void CoverageReport::add_edges(std::span<const std::uint32_t> counters, std::uint64_t runs) {
  s_->runs += runs;
  if (!s_->graph) return;
  for (const auto& j : s_->graph->jumps()) {
    for (std::size_t t = 0; t < 2; ++t) {
      const std::size_t i = 2 * std::size_t{j.pc} + t;
      if (i < counters.size()) s_->totals[i] += counters[i];
    }
  }
}

CoverageReport::Summary CoverageReport::summary() const {
  Summary sum;
  for (const auto& [file, lines] : collect(*s_)) {
    for (const auto& [line, rec] : lines) {
      ++sum.lines_found;
      if (rec.count > 0) ++sum.lines_hit;
      for (const auto& br : rec.branches) {
        sum.branches_found += 2;
        sum.branches_hit += (br.not_taken > 0) + (br.taken > 0);
      }
    }
  }
  return sum;
}

std::string CoverageReport::lcov(std::string_view test_name) const {
  std::string out = "TN:" + test_name_of(test_name) + "\n";
  const auto files = collect(*s_);
  // The program's own function record goes with the line of its first instruction.
  const SourceLine* entry = !s_->lines.empty() && s_->lines.front().insn == 0 ? &s_->lines.front() : nullptr;
  for (const auto& [file, lines] : files) {
    out += "SF:" + file + "\n";
    if (entry != nullptr && entry->file == file) {
      out += "FN:" + std::to_string(entry->line) + "," + s_->name + "\n";
      out += "FNDA:" + std::to_string(s_->runs) + "," + s_->name + "\n";
      out += "FNF:1\nFNH:" + std::string(s_->runs > 0 ? "1" : "0") + "\n";
    }
    std::size_t brf = 0, brh = 0, lf = 0, lh = 0;
    for (const auto& [line, rec] : lines) {
      for (const auto& br : rec.branches) {
        // BRDA:line,block,branch,taken: branch 0 falls through, 1 jumps; "-" when never reached.
        for (int t = 0; t < 2; ++t) {
          const auto hits = t ? br.taken : br.not_taken;
          out += "BRDA:" + std::to_string(line) + "," + std::to_string(br.pc) + "," + std::to_string(t) + "," +
                 (br.reached ? std::to_string(hits) : std::string("-")) + "\n";
          ++brf;
          brh += hits > 0;
        }
      }
    }
    out += "BRF:" + std::to_string(brf) + "\nBRH:" + std::to_string(brh) + "\n";
    for (const auto& [line, rec] : lines) {
      out += "DA:" + std::to_string(line) + "," + std::to_string(rec.count) + "\n";
      ++lf;
      lh += rec.count > 0;
    }
    out += "LF:" + std::to_string(lf) + "\nLH:" + std::to_string(lh) + "\nend_of_record\n";
  }
  return out;
}

Result<void> CoverageReport::write_lcov(const std::string& path, std::string_view test_name) const {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return make_error(Errc::Io, path + ": cannot open for writing");
  f << lcov(test_name);
  f.close();
  if (!f) return make_error(Errc::Io, path + ": write failed");
  return {};
}

}  // namespace bpfvm::fuzz
