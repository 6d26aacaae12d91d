// KernelTypes: the running kernel's types (its BTF, e.g. /sys/kernel/btf/vmlinux) as the verifier asks
// about them for kernel object pointers (PTR_TO_BTF_ID). The verifier knows no BTF format; the API
// answers from the loader's BTF parser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bpfvm::verifier {

/// What a load of `size` bytes at an offset of a kernel struct reads (the kernel's btf_struct_walk).
struct BtfFieldLoad {
  enum class Kind : std::uint8_t {
    Scalar,          // a number (an int, enum, bitfield, or a pointer to something that is not a struct)
    Pointer,         // a whole pointer member to a struct: `type_id` is the pointee's id
    BeyondStruct,    // the access leaves the struct ("access beyond struct")
    PartialPointer,  // part of a pointer member ("cannot access ptr member ... with off/size")
    BeyondMember,    // starts in a scalar member and ends past it ("access beyond the end of member")
    NoField,         // no member at the offset ("struct ... doesn't have field at offset")
  };
  Kind kind = Kind::NoField;
  std::uint32_t type_id = 0;
};

/// A kernel variable a typed __ksym names (lddw BPF_PSEUDO_BTF_ID: a VAR of the kernel's BTF), or the
/// type a per-CPU pointer points to: what the kernel's check_pseudo_btf_id makes of it.
struct KernelVariable {
  std::uint32_t type_id = 0;    // its type, modifiers and typedefs skipped
  bool is_struct = false;       // a struct or union: a kernel object pointer (PTR_TO_BTF_ID)
  std::uint64_t size_bytes = 0; // otherwise read-only memory of this size (PTR_TO_MEM | MEM_RDONLY)
  bool percpu = false;          // declared in .data..percpu (MEM_PERCPU): only bpf_this_cpu_ptr/per_cpu_ptr take it
  std::string name;
};

class KernelTypes {
 public:
  virtual ~KernelTypes() = default;
  /// The id of the struct with this name, or nullopt.
  virtual std::optional<std::uint32_t> struct_id(std::string_view name) const = 0;
  /// "task_struct" for messages.
  virtual std::string struct_name(std::uint32_t id) const = 0;
  /// A load of `size` bytes at byte `off` (>= 0) of struct `id`.
  virtual BtfFieldLoad load(std::uint32_t id, std::uint64_t off, std::uint32_t size) const = 0;
  /// The VAR with this id; nullopt when `id` is no VAR or its type has no size.
  virtual std::optional<KernelVariable> variable(std::uint32_t id) const = 0;
  /// A type by id, as variable() describes a VAR's type (percpu false).
  virtual std::optional<KernelVariable> type(std::uint32_t id) const = 0;
  /// The byte offset of the member named `name` (not a bitfield) directly in struct `id`, or nullopt.
  virtual std::optional<std::uint64_t> member_offset(std::uint32_t id, std::string_view name) const = 0;
};

}  // namespace bpfvm::verifier
