// Kernel object pointers: the kernel's check_ptr_to_btf_access / btf_struct_walk rules, asked of the
// kernel's BTF through VerifierOptions::kernel_types.
#include "verifier/btf_pointer.hpp"

#include <algorithm>

namespace bpfvm::verifier {

RegValue btf_pointer(std::uint32_t btf_id) { return RegValue::pointer(RegType::BtfId, btf_id); }

RegValue kernel_variable_pointer(const KernelVariable& var) {
  if (var.percpu || var.is_struct) {
    RegValue v = btf_pointer(var.type_id);
    v.percpu = var.percpu;
    return v;
  }
  // PTR_TO_MEM | MEM_RDONLY: sizes past u32 are clamped (a bound below the real one is sound).
  RegValue v = RegValue::pointer(RegType::Mem, static_cast<std::uint32_t>(std::min<std::uint64_t>(var.size_bytes, UINT32_MAX)));
  v.read_only = true;
  return v;
}

Check btf_pointer_access(const VerifierOptions& opts, std::uint32_t pc, ViolationDetail d, const RegValue& p,
                         std::int64_t lo, std::int64_t hi, bool bounded, int size, bool write, RegValue* loaded) {
  d.off_min = lo;
  d.off_max = hi;
  d.size = size;
  d.limit = p.aux;
  if (opts.unprivileged) {
    d.note = "kernel struct access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN";
    return violation(pc, ViolationKind::BtfAccess, d);
  }
  if (p.maybe_null) return violation(pc, ViolationKind::MaybeNullAccess, d);
  if (p.percpu) {
    d.note = "per-CPU memory is read through bpf_this_cpu_ptr or bpf_per_cpu_ptr";
    return violation(pc, ViolationKind::BtfAccess, d);
  }
  if (!bounded || lo != hi) {
    d.note = "variable offset access to a kernel object is not allowed";
    return violation(pc, ViolationKind::BtfAccess, d);
  }
  if (lo < 0) {
    d.note = "invalid negative access";
    return violation(pc, ViolationKind::BtfAccess, d);
  }
  if (write) {
    d.note = "only read is supported";
    return violation(pc, ViolationKind::BtfAccess, d);
  }
  if (opts.kernel_types == nullptr) {
    d.note = "loads through kernel object pointers without the kernel's BTF";
    return violation(pc, ViolationKind::Unsupported, d);
  }
  const BtfFieldLoad f = opts.kernel_types->load(p.aux, static_cast<std::uint64_t>(lo), static_cast<std::uint32_t>(size));
  using K = BtfFieldLoad::Kind;
  switch (f.kind) {
    case K::Scalar:
      if (loaded)
        *loaded = size >= 8 ? RegValue::unknown()
                            : RegValue::scalar(ScalarDomain::unsigned_range(0, (std::uint64_t{1} << (8 * size)) - 1));
      return std::nullopt;
    case K::Pointer:
      // A pointer read out of an object is not trusted (PTR_UNTRUSTED): it may be NULL; loads through
      // it are still allowed, as the kernel's PROBE_MEM loads read 0 where they fault.
      if (loaded) {
        *loaded = btf_pointer(f.type_id);
        loaded->untrusted = true;
      }
      return std::nullopt;
    case K::BeyondStruct: d.note = "access beyond struct"; break;
    case K::PartialPointer: d.note = "cannot access a pointer member partially (only its whole 8 bytes)"; break;
    case K::BeyondMember: d.note = "access beyond the end of member"; break;
    case K::NoField: d.note = "struct doesn't have field at offset"; break;
  }
  return violation(pc, ViolationKind::BtfAccess, d);
}

std::optional<BtfReturn> helper_btf_return(std::uint32_t helper) {
  switch (helper) {  // enum bpf_func_id -> the kernel's bpf_func_proto ret_btf_id
    case 158: return BtfReturn{"task_struct", false};        // bpf_get_current_task_btf: RET_PTR_TO_BTF_ID_TRUSTED
    case 175: return BtfReturn{"pt_regs", false};            // bpf_task_pt_regs: RET_PTR_TO_BTF_ID_TRUSTED
    case 136: return BtfReturn{"tcp6_sock", true};           // bpf_skc_to_tcp6_sock
    case 137: return BtfReturn{"tcp_sock", true};            // bpf_skc_to_tcp_sock
    case 138: return BtfReturn{"tcp_timewait_sock", true};   // bpf_skc_to_tcp_timewait_sock
    case 139: return BtfReturn{"tcp_request_sock", true};    // bpf_skc_to_tcp_request_sock
    case 140: return BtfReturn{"udp6_sock", true};           // bpf_skc_to_udp6_sock
    case 178: return BtfReturn{"unix_sock", true};           // bpf_skc_to_unix_sock
    case 196: return BtfReturn{"mptcp_sock", true};          // bpf_skc_to_mptcp_sock
    default: return std::nullopt;
  }
}

std::optional<std::string_view> helper_btf_arg(std::uint32_t helper, int arg) {
  switch (helper) {  // enum bpf_func_id -> the kernel's bpf_func_proto argN_btf_id
    case 175:                                         // bpf_task_pt_regs(task)
    case 141:                                         // bpf_get_task_stack(task, ...)
    case 180:                                         // bpf_find_vma(task, ...)
      if (arg == 1) return "task_struct";
      break;
    case 191:                                         // bpf_copy_from_user_task(dst, size, ptr, task, flags)
      if (arg == 4) return "task_struct";
      break;
    case 156: case 157:                               // bpf_task_storage_get/delete(map, task, ...)
      if (arg == 2) return "task_struct";
      break;
    case 145: case 146:                               // bpf_inode_storage_get/delete(map, inode, ...)
      if (arg == 2) return "inode";
      break;
    case 210: case 211:                               // bpf_cgrp_storage_get/delete(map, cgroup, ...)
      if (arg == 2) return "cgroup";
      break;
    case 162: case 193:                               // bpf_sock_from_file(file), bpf_ima_file_hash(file, ...)
      if (arg == 1) return "file";
      break;
    case 161: if (arg == 1) return "inode"; break;    // bpf_ima_inode_hash
    case 147: if (arg == 1) return "path"; break;     // bpf_d_path
    case 126: case 127: case 150:                     // bpf_seq_printf, bpf_seq_write, bpf_seq_printf_btf
      if (arg == 1) return "seq_file";
      break;
    case 111: if (arg == 1) return "sk_buff"; break;  // bpf_skb_output
    case 121: if (arg == 1) return "xdp_buff"; break; // bpf_xdp_output
    case 116: if (arg == 1) return "tcp_sock"; break; // bpf_tcp_send_ack
    case 159: if (arg == 1) return "linux_binprm"; break;  // bpf_bprm_opts_set
    default: break;
  }
  return std::nullopt;
}

}  // namespace bpfvm::verifier
