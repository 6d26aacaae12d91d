// The kfunc table: how helpers/ registers the kernel functions bpfvm implements (vm::KfuncEntry, by
// name). A family's file registers its kfuncs with kfunc_entry(); register_kernel_helpers adds every
// family. Availability follows the kernel's registration: a set registered for BPF_PROG_TYPE_UNSPEC
// (kernel/bpf/helpers.c's common set: the dynptr kfuncs) is for every type, others name their types
// (verifier ProgramTypeInfo::name). A kfunc not in the table is refused "not supported yet".
#pragma once

#include <initializer_list>
#include <string>

#include "helpers/runtime.hpp"
#include "vm/helper_registry.hpp"

namespace bpfvm::helpers::detail {

inline vm::KfuncEntry kfunc_entry(const char* name, vm::HelperFn fn, HelperRuntime& rt, KfuncRet ret,
                                  std::initializer_list<KfuncArg> args,
                                  std::initializer_list<const char*> program_types = {}) {
  vm::KfuncEntry e;
  e.call.name = name;
  e.call.fn = fn;
  e.call.user = &rt;
  e.signature.ret = ret;
  e.signature.args.fill(KfuncArg::None);
  std::size_t i = 0;
  for (auto a : args) e.signature.args[i++] = a;
  for (const char* t : program_types) e.program_types.emplace_back(t);
  return e;
}

// One registration function per kfunc family.
void add_dynptr_kfuncs(vm::HelperRegistry& reg, HelperRuntime& rt);
void add_iter_kfuncs(vm::HelperRegistry& reg, HelperRuntime& rt);

}  // namespace bpfvm::helpers::detail
