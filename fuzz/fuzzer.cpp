// run_fuzzer: the coverage-guided loop — seeds, mutation, corpus, reproducers and progress.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "bpfvm/fuzz.hpp"
#include "fuzz/mutator.hpp"

namespace bpfvm::fuzz {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string fnv1a_hex(std::span<const std::uint8_t> bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (auto b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool write_bytes(const fs::path& path, std::span<const std::uint8_t> bytes) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(f);
}

// Ethernet + IPv4 + UDP (port 1234 → 53) and Ethernet + IPv4 + TCP (→ 80): shapes most packet
// programs parse, so mutation starts past the first header checks.
std::vector<std::uint8_t> packet_seed(std::uint8_t ip_proto) {
  std::vector<std::uint8_t> p(64, 0);
  const std::uint8_t eth[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
  std::copy(std::begin(eth), std::end(eth), p.begin());
  const std::uint8_t ip[20] = {0x45, 0, 0, 50, 0, 1, 0x40, 0, 64, ip_proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
  std::copy(std::begin(ip), std::end(ip), p.begin() + 14);
  const std::uint8_t l4[8] = {0x04, 0xd2, 0, static_cast<std::uint8_t>(ip_proto == 17 ? 53 : 80), 0, 30, 0, 0};
  std::copy(std::begin(l4), std::end(l4), p.begin() + 34);
  if (ip_proto == 6) p[46] = 0x50;  // TCP data offset: 5 words
  return p;
}

std::vector<std::vector<std::uint8_t>> read_corpus(const std::string& dir, std::size_t max_bytes) {
  std::vector<std::vector<std::uint8_t>> out;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());  // directory order varies; seeds must not
  for (const auto& path : files) {
    std::ifstream f(path, std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (bytes.size() > max_bytes) bytes.resize(max_bytes);
    out.push_back(std::move(bytes));
  }
  return out;
}

}  // namespace

Result<FuzzStatus> run_fuzzer(Harness& harness, const FuzzOptions& options) {
  const std::size_t min_bytes = harness.min_input_bytes();
  const std::size_t max_bytes = std::max(min_bytes, options.max_input_bytes ? options.max_input_bytes
                                                                            : harness.max_input_bytes());
  Mutator mutator(options.seed, harness.dictionary(), min_bytes, max_bytes);
  const auto start = Clock::now();
  auto last_status = start;
  FuzzStatus status;
  status.edges_total = harness.edges_total();
  std::vector<std::vector<std::uint8_t>> corpus;
  std::set<std::string> signatures;
  bool stop = false;

  auto update = [&] {
    status.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    status.edges_covered = harness.edges_covered();
    status.corpus_size = corpus.size();
  };
  // One execution: coverage, findings (deduplicated, reproducer written), corpus growth.
  auto execute = [&](const std::vector<std::uint8_t>& input, bool seed) {
    auto v = harness.run(input);
    ++status.execs;
    if (options.coverage && !v.rejected) options.coverage->add_edges(harness.edge_counters());
    if (v.finding && signatures.insert(v.finding->signature).second) {
      ++status.findings;
      std::string artifact;
      const fs::path path = fs::path(options.artifacts_dir.empty() ? "." : options.artifacts_dir) /
                            (std::string(kind_name(v.finding->kind)) + "-" + fnv1a_hex(input));
      if (write_bytes(path, input)) artifact = path.string();
      update();
      if (options.on_finding) options.on_finding(*v.finding, artifact, status);
      if (options.stop_on_finding) stop = true;
    }
    if (!v.rejected && (v.new_coverage || (seed && corpus.empty()))) {
      corpus.push_back(input);
      if (!options.corpus_dir.empty()) (void)write_bytes(fs::path(options.corpus_dir) / fnv1a_hex(input), input);
      if (!seed && options.on_new_coverage) {
        update();
        options.on_new_coverage(status);
      }
    }
  };

  auto seeds = read_corpus(options.corpus_dir, max_bytes);
  if (harness.packet_input()) {
    seeds.push_back(packet_seed(17));
    seeds.push_back(packet_seed(6));
  }
  seeds.emplace_back(std::clamp<std::size_t>(64, min_bytes, max_bytes), 0);
  for (auto& s : seeds) {
    if (stop) break;
    mutator.fit(s);
    execute(s, true);
  }
  if (corpus.empty()) corpus.emplace_back(min_bytes, 0);  // every seed was refused: start from zeros

  std::vector<std::uint8_t> child;
  while (!stop) {
    if (options.max_runs != 0 && status.execs >= options.max_runs) break;
    if ((status.execs & 63) == 0) {
      const auto now = Clock::now();
      if (options.max_seconds > 0 && std::chrono::duration<double>(now - start).count() >= options.max_seconds) break;
      if (options.on_status && now - last_status >= std::chrono::milliseconds(250)) {
        last_status = now;
        update();
        options.on_status(status);
      }
    }
    // Newer entries found rarer paths: half the picks come from the most recent eighth.
    const std::size_t n = corpus.size();
    const std::size_t recent = std::max<std::size_t>(1, n / 8);
    const std::size_t pick = mutator.rng().below(2) ? n - 1 - mutator.rng().below(recent) : mutator.rng().below(n);
    child = corpus[pick];
    mutator.mutate(child, corpus[mutator.rng().below(n)]);
    execute(child, false);
  }
  update();
  if (options.on_status) options.on_status(status);
  return status;
}

}  // namespace bpfvm::fuzz
