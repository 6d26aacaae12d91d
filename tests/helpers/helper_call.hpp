// Test fixture: calls kernel helpers directly, the way an engine would.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "helpers/kernel_helpers.hpp"
#include "helpers/runtime.hpp"
#include "vm/helper_registry.hpp"
#include "vm/run_context.hpp"

struct HelperCall {
  bpfvm::vm::HelperRegistry registry;
  bpfvm::helpers::HelperRuntime runtime;
  bpfvm::helpers::HelperRun state;
  bpfvm::vm::RunContext run;
  std::vector<std::string> trace;

  HelperCall() {
    runtime.trace_sink = [this](std::string_view m) { trace.emplace_back(m); };
    bpfvm::helpers::register_kernel_helpers(registry, runtime);
    run.host = &state;
  }
  /// Stands in for an engine's callback hook: `f(fn, args)` answers RunContext::call_back.
  template <class F>
  void set_callback(const F& f) {
    run.engine = &f;
    run.invoke_callback = [](const void* e, bpfvm::vm::RunContext&, std::uint64_t fn,
                             std::span<const std::uint64_t, 5> a) { return (*static_cast<const F*>(e))(fn, a); };
  }
  template <class... A>
  std::int64_t operator()(std::uint32_t id, A... a) {
    const std::uint64_t v[5] = {static_cast<std::uint64_t>(a)...};
    run.current_helper = registry.find(id);
    run.helper_fault.clear();
    return static_cast<std::int64_t>(run.current_helper->fn(v[0], v[1], v[2], v[3], v[4], &run));
  }
};

template <class T>
std::uint64_t addr(T* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}
