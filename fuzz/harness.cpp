// Harness: one input through the checked, coverage-counting interpreter, the properties, and (on new
// coverage) the JIT, with maps restored between runs.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "bpfvm/fuzz.hpp"
#include "fuzz/map_state.hpp"
#include "fuzz/mutator.hpp"
#include "fuzz/program_graph.hpp"

namespace bpfvm::fuzz {

namespace {

// BPF_PROG_TYPE_* whose input is a packet (Program::run goes through test_run for them).
bool is_packet_type(const ProgramType& type) {
  if (type.entry != ProgramType::Entry::Context) return false;
  switch (type.kernel_type) {
    case 1:  // SOCKET_FILTER
    case 3:  // SCHED_CLS
    case 4:  // SCHED_ACT
    case 6:  // XDP
      return true;
    default:
      return false;
  }
}

constexpr std::size_t kEthHeaderBytes = 14;  // test_run refuses shorter packets (EINVAL)
constexpr std::size_t kMaxPacketBytes = 1514;
constexpr std::size_t kMaxBufferBytes = 4096;

// AFL's hit-count buckets: a loop running 5 instead of 4 times is not new, 8 instead of 4 is.
std::uint8_t bucket(std::uint32_t hits) {
  if (hits <= 3) return static_cast<std::uint8_t>(hits == 3 ? 4 : hits);
  if (hits <= 7) return 8;
  if (hits <= 15) return 16;
  if (hits <= 31) return 32;
  if (hits <= 127) return 64;
  return 128;
}

bool holds(Property::Op op, std::uint64_t a, std::uint64_t b) {
  switch (op) {
    case Property::Op::Eq: return a == b;
    case Property::Op::Ne: return a != b;
    case Property::Op::Lt: return a < b;
    case Property::Op::Le: return a <= b;
    case Property::Op::Gt: return a > b;
    case Property::Op::Ge: return a >= b;
  }
  return true;
}

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < bytes.size() && i < 32; ++i) {
    s += kDigits[bytes[i] >> 4];
    s += kDigits[bytes[i] & 15];
  }
  if (bytes.size() > 32) s += "..";
  return s;
}

struct BoundProperty {
  Property property;
  std::optional<Map> map;
  std::vector<std::uint8_t> key;
};

// The first way two runs differ, "" when they agree.
std::string compare_runs(const Result<RunOutput>& a, const Result<RunOutput>& b, const char* an, const char* bn) {
  auto say = [&](const Result<RunOutput>& r) {
    return r ? "retval " + std::to_string(r->retval) : "error '" + r.error().message() + "'";
  };
  if (a.has_value() != b.has_value()) return std::string(an) + " " + say(a) + ", " + bn + " " + say(b);
  if (!a) {
    if (a.error().code != b.error().code || a.error().pc != b.error().pc)
      return std::string(an) + " " + say(a) + ", " + bn + " " + say(b);
    return {};
  }
  if (a->r0 != b->r0)
    return "r0: " + std::string(an) + " " + std::to_string(a->r0) + ", " + bn + " " + std::to_string(b->r0);
  if (a->data_out != b->data_out)
    return "data out: " + std::string(an) + " " + hex(a->data_out) + ", " + bn + " " + hex(b->data_out);
  if (a->ctx_out != b->ctx_out)
    return "ctx out: " + std::string(an) + " " + hex(a->ctx_out) + ", " + bn + " " + hex(b->ctx_out);
  if (a->redirect_ifindex != b->redirect_ifindex)
    return "redirect: " + std::string(an) + " " + std::to_string(a->redirect_ifindex.value_or(0)) + ", " + bn + " " +
           std::to_string(b->redirect_ifindex.value_or(0));
  return {};
}

}  // namespace

struct Harness::State {
  State(Object o, Program i, HarnessOptions opts, ProgramGraph g)
      : object(std::move(o)), interp(std::move(i)), options(std::move(opts)), graph(std::move(g)),
        maps(object, options.restore_maps_max_entries) {}

  Object object;
  Program interp;  // checked, budget, edge coverage
  std::optional<Program> jit;
  std::string jit_note;
  HarnessOptions options;
  ProgramGraph graph;
  MapState maps;
  MapSnapshots state, jit_state, again_state;  // reused buffers
  std::vector<BoundProperty> properties;
  std::vector<SourceLine> lines;
  std::vector<std::uint32_t> counters;  // 2 per slot, as the interpreter writes them
  std::vector<std::uint8_t> seen;       // per edge (2 per jump): buckets reached so far
  std::size_t covered = 0;
  bool ran = false;  // the first accepted input counts as new coverage (programs without jumps)
  bool packet = false;
  std::size_t min_input = 0, max_input = kMaxBufferBytes;
  std::optional<Mutator> mutator;  // for mutate(), made on first use
  std::vector<std::uint8_t> mutate_buffer;  // mutate()'s working copy
  RunOutput out;  // run()'s interpreter output, reused

  bool note_coverage();
  std::optional<Finding> check_properties(const RunOutput& out) const;
  std::string where(std::uint32_t pc) const;
};

bool Harness::State::note_coverage() {
  bool fresh = false;
  const auto& jumps = graph.jumps();
  for (std::size_t k = 0; k < jumps.size(); ++k) {
    for (std::size_t t = 0; t < 2; ++t) {
      const auto hits = counters[2 * std::size_t{jumps[k].pc} + t];
      if (hits == 0) continue;
      const auto b = bucket(hits);
      auto& s = seen[2 * k + t];
      if ((s & b) == 0) {
        if (s == 0) ++covered;
        s |= b;
        fresh = true;
      }
    }
  }
  return fresh;
}

std::optional<Finding> Harness::State::check_properties(const RunOutput& out) const {
  for (std::size_t i = 0; i < properties.size(); ++i) {
    const auto& [p, map, key] = properties[i];
    std::string what;
    if (p.subject == Property::Subject::Retval) {
      if (holds(p.op, out.retval, p.value)) continue;
      what = "retval " + std::to_string(out.retval);
    } else {
      std::vector<std::uint8_t> value(map->host_value_size());
      const bool present = map->lookup(key, value) == 0;
      if (!present) continue;
      if (p.subject == Property::Subject::MapValue) {
        std::uint64_t v = 0;
        for (std::size_t b = 0; b < value.size() && b < 8 && b < map->value_size(); ++b)
          v |= std::uint64_t{value[b]} << (8 * b);
        if (holds(p.op, v, p.value)) continue;
        what = p.map + "[" + std::to_string(p.key) + "] = " + std::to_string(v);
      } else {
        what = p.map + "[" + std::to_string(p.key) + "] exists (value " + hex(value) + ")";
      }
    }
    return Finding{Finding::Kind::Property, "property:" + std::to_string(i),
                   "property '" + p.text + "' violated: " + what +
                       (p.subject == Property::Subject::Retval ? "" : " (retval " + std::to_string(out.retval) + ")")};
  }
  return std::nullopt;
}

std::string Harness::State::where(std::uint32_t pc) const {
  const SourceLine* best = nullptr;
  for (const auto& l : lines) {
    if (l.insn > pc) break;
    best = &l;
  }
  if (best == nullptr) return {};
  return best->file.substr(best->file.find_last_of('/') + 1) + ":" + std::to_string(best->line) + ": " + best->text;
}

Result<Harness> Harness::open(const std::string& elf_path, std::string_view program, const HarnessOptions& options) {
  Vm vm(VmOptions{.nr_cpus = 1});
  auto object = vm.open_elf_file(elf_path);
  if (!object) return std::move(object).error();
  return create(std::move(*object), program, options);
}

Result<Harness> Harness::create(Object object, std::string_view program, const HarnessOptions& options) {
  ProgramOptions po;
  po.checked = true;
  po.budget_insns = options.budget_insns;
  po.coverage = true;
  po.verify = options.verify;
  po.max_verifier_time_us = options.max_verifier_time_us;
  auto interp = object.load(program, po);
  if (!interp) return std::move(interp).error();
  auto graph = ProgramGraph::build(interp->bytecode());
  if (!graph) return std::move(graph).error();
  auto s = std::make_unique<State>(std::move(object), std::move(*interp), options, std::move(*graph));
  if (options.compare_jit) {
    ProgramOptions jo;
    jo.engine = Engine::Jit;
    jo.checked = true;
    jo.budget_insns = options.budget_insns;
    jo.verify = options.verify;
    jo.max_verifier_time_us = options.max_verifier_time_us;
    auto jit = s->object.load(program, jo);
    if (jit) s->jit.emplace(std::move(*jit));
    else s->jit_note = "JIT not compared: " + jit.error().message();
  } else {
    s->jit_note = "JIT not compared (off)";
  }
  for (const auto& p : options.properties) {
    BoundProperty bound{p, std::nullopt, {}};
    if (p.subject != Property::Subject::Retval) {
      bound.map = s->object.map(p.map);
      if (!bound.map) return make_error(Errc::InvalidArgument, "property '" + p.text + "': no map '" + p.map + "'");
      const auto key_size = bound.map->key_size();
      if (key_size > 8 || (key_size < 8 && (p.key >> (8 * key_size)) != 0))
        return make_error(Errc::InvalidArgument, "property '" + p.text + "': the key does not fit the map's " +
                                                     std::to_string(key_size) + "-byte keys");
      for (std::uint32_t b = 0; b < key_size; ++b) bound.key.push_back(static_cast<std::uint8_t>(p.key >> (8 * b)));
    }
    s->properties.push_back(std::move(bound));
  }
  s->lines = s->interp.source_lines();
  s->counters.assign(2 * s->graph.size(), 0);
  s->seen.assign(2 * s->graph.jumps().size(), 0);
  const auto& type = s->interp.type();
  s->packet = is_packet_type(type);
  if (s->packet) {
    s->min_input = kEthHeaderBytes;
    s->max_input = kMaxPacketBytes;
  } else if (type.entry == ProgramType::Entry::PlainMemory) {
    s->max_input = type.ctx_size_bytes ? type.ctx_size_bytes : kMaxBufferBytes;
  } else if (type.ctx_size_bytes != 0) {
    s->min_input = s->max_input = type.ctx_size_bytes;
  }
  return Harness(std::move(s));
}

Harness::Harness(std::unique_ptr<State> state) : s_(std::move(state)) {}
Harness::Harness(Harness&&) noexcept = default;
Harness& Harness::operator=(Harness&&) noexcept = default;
Harness::~Harness() = default;

RunVerdict Harness::run(std::span<const std::uint8_t> input) {
  State& s = *s_;
  RunVerdict v;
  for (const auto& j : s.graph.jumps()) {
    s.counters[2 * std::size_t{j.pc}] = 0;
    s.counters[2 * std::size_t{j.pc} + 1] = 0;
  }
  RunInput in{input, {}, 1, nullptr, s.counters};
  // Into the reused output (no allocation per input once warm).
  const auto ran = s.interp.run(in, s.out);
  // test_run's own input checks (EINVAL/ENOSPC before the program runs) carry no pc.
  if (!ran && ran.error().code == Errc::InvalidArgument && ran.error().pc == kNoPc) {
    v.rejected = true;
    return v;
  }
  v.new_coverage = s.note_coverage() || !s.ran;
  s.ran = true;
  const bool track_maps = !s.maps.empty();
  if (track_maps) s.maps.read(s.state);
  const auto& state = s.state;
  if (!ran) {
    const auto& e = ran.error();
    std::string at = e.pc == kNoPc ? std::string() : " (" + s.where(e.pc) + ")";
    if (at == " ()") at.clear();
    v.finding = Finding{Finding::Kind::Fault,
                        std::string("fault:") + errc_name(e.code) + ":pc " + (e.pc == kNoPc ? "-" : std::to_string(e.pc)),
                        std::string(errc_name(e.code)) + ": " + e.message() + at};
  } else {
    v.retval = s.out.retval;
    v.finding = s.check_properties(s.out);
  }
  if (track_maps) s.maps.restore(state);

  if (s.jit && !v.finding && (v.new_coverage || s.options.compare_every_input)) {
    const Result<RunOutput> out = ran ? Result<RunOutput>(s.out) : Result<RunOutput>(ran.error());
    auto jit_out = s.jit->run(RunInput{input, {}, 1, nullptr, {}});
    if (track_maps) {
      s.maps.read(s.jit_state);
      s.maps.restore(s.jit_state);
    }
    // Something the JIT does not implement yet (bpf_loop callbacks come back as a helper fault that
    // says so): a gap, not a disagreement.
    const bool jit_gap = !jit_out && (jit_out.error().code == Errc::Unsupported ||
                                      jit_out.error().reason.find("not supported") != std::string::npos);
    if (jit_gap && (out || out.error().code != jit_out.error().code)) {
      s.jit_note = "JIT comparison stopped: " + jit_out.error().message();
      s.jit.reset();
      return v;
    }
    std::string diff = compare_runs(out, jit_out, "interpreter", "jit");
    if (diff.empty() && track_maps && !s.maps.same(state, s.jit_state))
      diff = s.maps.describe_difference(state, s.jit_state, "interpreter", "jit");
    if (!diff.empty()) {
      // A program that reads the clock or bpf_get_prandom_u32 disagrees with itself: not an engine bug.
      auto again = s.interp.run(RunInput{input, {}, 1, nullptr, {}});
      if (track_maps) {
        s.maps.read(s.again_state);
        s.maps.restore(s.again_state);
      }
      const bool deterministic =
          compare_runs(out, again, "first", "second").empty() && (!track_maps || s.maps.same(s.again_state, state));
      if (deterministic) {
        const auto touched = track_maps ? s.maps.touched(state) : std::vector<std::string>{};
        std::string maps_note;
        for (const auto& m : touched) maps_note += (maps_note.empty() ? "; maps written: " : ", ") + m;
        v.finding = Finding{Finding::Kind::EngineMismatch, "mismatch:" + diff.substr(0, diff.find_first_of(": ")),
                            "interpreter and JIT disagree: " + diff + maps_note};
      }
    }
  }
  return v;
}

int Harness::test_one_input(const std::uint8_t* data, std::size_t size) {
  auto v = run(std::span<const std::uint8_t>(data, size));
  if (v.finding) {
    std::fprintf(stderr, "bpfvm fuzz: %s: %s\n", kind_name(v.finding->kind), v.finding->message.c_str());
    std::fflush(stderr);
    std::abort();
  }
  return 0;
}

std::size_t Harness::mutate(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned int seed) {
  State& s = *s_;
  if (!s.mutator) s.mutator.emplace(seed, s.graph.dictionary(), 0, s.max_input);
  s.mutator->rng() = Rng(seed);
  auto& bytes = s.mutate_buffer;  // reused: no allocation per input once warm
  bytes.assign(data, data + size);
  s.mutator->mutate(bytes, {});
  if (bytes.size() > max_size) bytes.resize(max_size);
  std::copy(bytes.begin(), bytes.end(), data);
  return bytes.size();
}

std::span<const std::uint32_t> Harness::edge_counters() const { return s_->counters; }

void Harness::export_edges(std::span<std::uint8_t> out) const {
  if (out.empty()) return;
  const auto& jumps = s_->graph.jumps();
  for (std::size_t k = 0; k < jumps.size(); ++k) {
    for (std::size_t t = 0; t < 2; ++t) {
      const auto hits = s_->counters[2 * std::size_t{jumps[k].pc} + t];
      if (hits == 0) continue;
      auto& slot = out[(2 * k + t) % out.size()];
      slot = static_cast<std::uint8_t>(std::min<std::uint64_t>(255, std::uint64_t{slot} + hits));
    }
  }
}

std::size_t Harness::edges_total() const { return 2 * s_->graph.jumps().size(); }
std::size_t Harness::edges_covered() const { return s_->covered; }
const std::vector<std::vector<std::uint8_t>>& Harness::dictionary() const { return s_->graph.dictionary(); }
std::size_t Harness::min_input_bytes() const { return s_->min_input; }
std::size_t Harness::max_input_bytes() const { return s_->max_input; }
bool Harness::packet_input() const { return s_->packet; }
bool Harness::compares_jit() const { return s_->jit.has_value(); }
const std::string& Harness::jit_note() const { return s_->jit_note; }
const Program& Harness::program() const { return s_->interp; }
const Object& Harness::object() const { return s_->object; }
std::string Harness::source_line(std::uint32_t pc) const { return s_->where(pc); }

}  // namespace bpfvm::fuzz
