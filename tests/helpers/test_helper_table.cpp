// The helper table against the installed kernel header: every id and name from __BPF_FUNC_MAPPER.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "helper_call.hpp"

namespace {

// Names in __BPF_FUNC_MAPPER order: index = enum bpf_func_id value.
std::vector<std::string> kernel_helper_names() {
  std::ifstream f("/usr/include/linux/bpf.h");
  std::vector<std::string> names;
  std::string line;
  bool in_mapper = false;
  const std::regex fn(R"(^\s*FN\((\w+)(,\s*(\d+))?)");
  while (std::getline(f, line)) {
    if (line.find("#define ___BPF_FUNC_MAPPER") != std::string::npos ||
        line.find("#define __BPF_FUNC_MAPPER") != std::string::npos) {
      in_mapper = true;
      continue;
    }
    if (!in_mapper) continue;
    std::smatch m;
    if (std::regex_search(line, m, fn)) {
      if (m[3].matched) REQUIRE(std::stoul(m[3]) == names.size());
      names.push_back(m[1]);
    } else if (line.find('\\') == std::string::npos) {
      if (!names.empty()) break;
    }
  }
  return names;
}

}  // namespace

TEST_CASE("every registered helper has the kernel's id, name and a known signature") {
  auto names = kernel_helper_names();
  REQUIRE(names.size() > 200);
  REQUIRE(names[1] == "map_lookup_elem");
  // The 6.2 kernel's last two helpers, after the installed (6.1) header's end: the kernel has 212 ids.
  if (names.size() == 210) names.insert(names.end(), {"cgrp_storage_get", "cgrp_storage_delete"});
  REQUIRE(names.size() == 212);
  HelperCall h;
  for (const auto& [id, e] : h.registry.all()) {
    INFO("helper id " << id << " " << e.name);
    REQUIRE(id < names.size());
    CHECK(e.name == "bpf_" + names[id]);
    CHECK(e.signature.known);
    CHECK(e.user == &h.runtime);
  }
  // Every id the kernel defines is known (issue #15: 22, 55, 189 were "no helper with this id").
  for (std::uint32_t id = 1; id < names.size(); ++id) {
    INFO("helper id " << id << " bpf_" << names[id]);
    CHECK(h.registry.find(id) != nullptr);
  }
}

TEST_CASE("ids the brief names are where the kernel puts them") {
  HelperCall h;
  const std::pair<std::uint32_t, const char*> expect[] = {
      {1, "bpf_map_lookup_elem"}, {6, "bpf_trace_printk"}, {12, "bpf_tail_call"}, {28, "bpf_csum_diff"},
      {44, "bpf_xdp_adjust_head"}, {54, "bpf_xdp_adjust_meta"}, {65, "bpf_xdp_adjust_tail"},
      {105, "bpf_strtol"}, {118, "bpf_jiffies64"}, {125, "bpf_ktime_get_boot_ns"},
      {130, "bpf_ringbuf_output"}, {164, "bpf_for_each_map_elem"}, {165, "bpf_snprintf"}, {181, "bpf_loop"}};
  for (const auto& [id, name] : expect) {
    INFO(id);
    REQUIRE(h.registry.find(id) != nullptr);
    CHECK(h.registry.find(id)->name == name);
  }
}
