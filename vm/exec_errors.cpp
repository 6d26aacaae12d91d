// Run-time error texts shared by every engine.
#include "vm/exec_errors.hpp"

#include <cstdio>

#include "vm/isa.hpp"

namespace bpfvm::vm {

namespace {
std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

Error memory_fault_error(std::uint32_t pc, std::uint64_t addr, unsigned size_bytes, bool write) {
  return make_error(Errc::MemoryFault,
                    "invalid " + std::to_string(size_bytes) + "-byte " + (write ? "write" : "read") +
                        " at " + hex(addr) + ": outside the stack and every region of this run",
                    pc);
}

Error budget_error(std::uint32_t pc, std::uint64_t budget_insns) {
  return make_error(Errc::BudgetExceeded,
                    "instruction budget of " + std::to_string(budget_insns) + " exhausted", pc);
}

Error call_depth_error(std::uint32_t pc) {
  return make_error(Errc::CallDepth,
                    "call nests deeper than " + std::to_string(isa::kMaxCallFrames) + " frames", pc);
}

Error helper_fault_error(std::uint32_t pc, const std::string& helper_name, const std::string& fault) {
  return make_error(Errc::HelperFault, helper_name + ": " + fault, pc);
}

Error no_packet_load_error(std::uint32_t pc, std::string_view mnemonic) {
  return make_error(Errc::Unsupported,
                    std::string(mnemonic) + ": the helper registry has no packet-load entry for legacy "
                                            "packet loads (register_kernel_helpers sets it)",
                    pc);
}

Error callx_target_error(std::uint32_t pc, std::uint64_t target) {
  return make_error(Errc::HelperFault,
                    "callx target " + hex(target) + " is neither a subprogram nor a registered helper", pc);
}

Error tail_call_target_error(std::uint32_t pc) {
  return make_error(Errc::Unsupported, "bpf_tail_call: the target program was not prepared for this engine", pc);
}

Error callback_target_error() {
  return make_error(Errc::HelperFault, "callback is not a subprogram of this program");
}

}  // namespace bpfvm::vm
