// Kernel struct layouts from BTF, as the kernel's btf_struct_walk and btf_ctx_access read them.
#include "api/kernel_types.hpp"

namespace bpfvm {

namespace {
using loader::BtfKind;
using Load = verifier::BtfFieldLoad;
constexpr std::uint32_t kBpfTraceRawTp = 23;  // BPF_TRACE_RAW_TP (tp_btf)
constexpr std::uint32_t kBpfTraceFentry = 24;  // BPF_TRACE_FENTRY
constexpr std::uint32_t kBpfTraceFexit = 25;   // BPF_TRACE_FEXIT
constexpr std::size_t kMaxFuncArgs = 12;      // MAX_BPF_FUNC_ARGS
}  // namespace

std::optional<std::uint32_t> KernelBtfTypes::struct_id(std::string_view name) const {
  for (const std::uint32_t id : target_->named(name))
    if (target_->btf().kind(id) == BtfKind::Struct && target_->btf().name(id) == name) return id;
  return std::nullopt;
}

std::string KernelBtfTypes::struct_name(std::uint32_t id) const {
  const auto& btf = target_->btf();
  return btf.valid_id(id) ? std::string(btf.name(id)) : "?";
}

verifier::BtfFieldLoad KernelBtfTypes::load(std::uint32_t id, std::uint64_t off, std::uint32_t size) const {
  const auto& btf = target_->btf();
  if (!btf.valid_id(id)) return {Load::Kind::NoField};
  std::uint32_t t = btf.skip_mods_and_typedefs(id);
  // Each round enters one nested struct; BTF chains are at most 32 deep (validated), so are nestings.
  for (int depth = 0; depth <= loader::Btf::kMaxChainDepth; ++depth) {
    if (!btf.is_composite(t)) return {Load::Kind::NoField};
    if (off + size > btf.size_or_type(t)) return {Load::Kind::BeyondStruct};
    bool entered = false;
    for (std::uint32_t i = 0; i < btf.vlen(t) && !entered; ++i) {
      const auto m = btf.member(t, i);
      if (m.bitfield_size != 0) {
        const std::uint64_t first = m.bit_offset / 8, end = (m.bit_offset + m.bitfield_size + 7) / 8;
        if (off >= first && off < end) return {Load::Kind::Scalar};
        continue;
      }
      if (m.bit_offset % 8 != 0) continue;
      std::uint64_t moff = m.bit_offset / 8;
      if (off + size <= moff) break;  // members are in offset order: nothing later can hold it
      std::uint32_t mtype = btf.skip_mods_and_typedefs(m.type);
      auto msize = btf.resolve_size(mtype);
      if (!msize || off >= moff + *msize) continue;
      // A number may span the elements of an array of numbers up to the array's end (the kernel's
      // mtrue_end: "an array of int as a scratch space").
      const std::uint64_t true_end = moff + *msize;
      // An array: the element the access starts in (arrays of arrays flatten to their innermost element).
      for (int d = 0; d <= loader::Btf::kMaxChainDepth && btf.kind(mtype) == BtfKind::Array; ++d) {
        const std::uint32_t elem = btf.skip_mods_and_typedefs(btf.array(mtype).type);
        const auto esize = btf.resolve_size(elem);
        if (!esize || *esize == 0) return {Load::Kind::NoField};
        moff += (off - moff) / *esize * *esize;
        mtype = elem;
        msize = esize;
      }
      if (btf.is_composite(mtype)) {
        off -= moff;
        t = mtype;
        entered = true;
        continue;
      }
      if (btf.kind(mtype) == BtfKind::Ptr) {
        if (off != moff || size != 8) return {Load::Kind::PartialPointer};
        const std::uint32_t pointee = btf.skip_mods_and_typedefs(btf.size_or_type(mtype));
        if (btf.is_composite(pointee)) return {Load::Kind::Pointer, pointee};
        return {Load::Kind::Scalar};
      }
      if (off + size > true_end) return {Load::Kind::BeyondMember};
      return {Load::Kind::Scalar};
    }
    if (!entered) return {Load::Kind::NoField};
  }
  return {Load::Kind::NoField};
}

std::optional<std::uint64_t> KernelBtfTypes::member_offset(std::uint32_t id, std::string_view name) const {
  const auto& btf = target_->btf();
  if (!btf.valid_id(id)) return std::nullopt;
  const std::uint32_t t = btf.skip_mods_and_typedefs(id);
  if (!btf.is_composite(t)) return std::nullopt;
  for (std::uint32_t i = 0; i < btf.vlen(t); ++i) {
    const auto m = btf.member(t, i);
    if (m.bitfield_size == 0 && m.bit_offset % 8 == 0 && btf.string_at(m.name_off) == name) return m.bit_offset / 8;
  }
  return std::nullopt;
}

std::optional<verifier::KernelVariable> KernelBtfTypes::type(std::uint32_t id) const {
  const auto& btf = target_->btf();
  if (!btf.valid_id(id)) return std::nullopt;
  verifier::KernelVariable v;
  v.type_id = btf.skip_mods_and_typedefs(id);
  v.is_struct = btf.is_composite(v.type_id);
  const auto size = btf.resolve_size(v.type_id);
  if (!size || *size == 0) return std::nullopt;  // check_pseudo_btf_id: "unable to resolve the size"
  v.size_bytes = *size;
  v.name = btf.name(v.type_id);
  return v;
}

std::optional<verifier::KernelVariable> KernelBtfTypes::variable(std::uint32_t id) const {
  const auto& btf = target_->btf();
  if (!btf.valid_id(id) || btf.kind(id) != BtfKind::Var) return std::nullopt;
  auto v = type(btf.size_or_type(id));
  if (!v) return std::nullopt;
  v->name = btf.name(id);
  for (const std::uint32_t ds : target_->named(".data..percpu")) {
    if (btf.kind(ds) != BtfKind::Datasec) continue;
    for (std::uint32_t i = 0; i < btf.vlen(ds) && !v->percpu; ++i) v->percpu = btf.secinfo(ds, i).type == id;
  }
  return v;
}

Result<std::vector<verifier::program_types::TracingArg>> KernelBtfTypes::tracing_args(std::uint32_t expected_attach_type,
                                                                                      std::string_view target) const {
  const auto& btf = target_->btf();
  const bool raw_tp = expected_attach_type == kBpfTraceRawTp;
  const bool fexit = expected_attach_type == kBpfTraceFexit;
  if (!raw_tp && !fexit && expected_attach_type != kBpfTraceFentry)
    return make_error(Errc::Unsupported, "tracing programs other than tp_btf, fentry and fexit (fmod_ret, iter, ...) are not supported yet");
  // tp_btf/<name>: the btf_trace_<name> typedef, a pointer to the prototype; fentry/fexit/<name>: the FUNC.
  const std::string name = raw_tp ? "btf_trace_" + std::string(target) : std::string(target);
  const BtfKind kind = raw_tp ? BtfKind::Typedef : BtfKind::Func;
  std::optional<std::uint32_t> found;
  for (const std::uint32_t id : target_->named(name))
    if (btf.kind(id) == kind && btf.name(id) == name) found = id;
  if (!found)
    return make_error(Errc::InvalidArgument, (raw_tp ? "tp_btf target '" + std::string(target) + "': the kernel's BTF has no " + name
                                                     : "attach target '" + name + "': the kernel's BTF has no function of that name"));
  std::uint32_t proto = btf.skip_mods_and_typedefs(btf.size_or_type(*found));
  if (raw_tp) proto = btf.kind(proto) == BtfKind::Ptr ? btf.skip_mods_and_typedefs(btf.size_or_type(proto)) : 0;
  if (proto == 0 || btf.kind(proto) != BtfKind::FuncProto || (raw_tp && btf.vlen(proto) == 0))
    return make_error(Errc::InvalidArgument, name + (raw_tp ? " is not a pointer to a function prototype with a context argument"
                                                            : " has no function prototype"));
  // btf_ctx_access: a pointer to a struct is that object (PTR_TO_BTF_ID), any other number or pointer a
  // scalar; a struct passed by value takes slots of its own size, which bpfvm does not lay out yet.
  auto arg_of = [&](std::uint32_t type, bool pointer_is_object) -> Result<verifier::program_types::TracingArg> {
    const std::uint32_t t = btf.skip_mods_and_typedefs(type);
    verifier::program_types::TracingArg a;
    if (btf.kind(t) == BtfKind::Ptr) {
      const std::uint32_t pointee = btf.skip_mods_and_typedefs(btf.size_or_type(t));
      if (pointer_is_object && btf.is_composite(pointee)) a = {true, pointee};
    } else if (btf.is_composite(t)) {
      return make_error(Errc::Unsupported, name + ": struct arguments passed by value are not supported yet");
    }
    return a;
  };
  std::vector<verifier::program_types::TracingArg> args;
  for (std::uint32_t i = raw_tp ? 1 : 0; i < btf.vlen(proto); ++i) {  // tp_btf: the first is the tracepoint's void *__data
    auto a = arg_of(btf.param(proto, i).type, true);
    if (!a) return std::move(a).error();
    args.push_back(*a);
  }
  // fexit: the return value after the arguments, when there is one. A returned pointer is a number
  // here (bpfvm does not model whether it may be NULL): loads through it are refused.
  if (fexit && btf.size_or_type(proto) != 0) {
    auto ret = arg_of(btf.size_or_type(proto), false);
    if (!ret) return std::move(ret).error();
    args.push_back(*ret);
  }
  if (args.size() > kMaxFuncArgs + (fexit ? 1 : 0)) return make_error(Errc::InvalidArgument, name + " has more than 12 arguments");
  return args;
}

Result<std::string> KernelBtfTypes::function_name(std::uint32_t id) const {
  const auto& btf = target_->btf();
  if (id == 0 || !btf.valid_id(id) || btf.kind(id) != BtfKind::Func)
    return make_error(Errc::Rejected, "kernel btf_id " + std::to_string(id) + " is not a function");
  return std::string(btf.name(id));
}

}  // namespace bpfvm
