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

class KernelTypes {
 public:
  virtual ~KernelTypes() = default;
  /// The id of the struct with this name, or nullopt.
  virtual std::optional<std::uint32_t> struct_id(std::string_view name) const = 0;
  /// "task_struct" for messages.
  virtual std::string struct_name(std::uint32_t id) const = 0;
  /// A load of `size` bytes at byte `off` (>= 0) of struct `id`.
  virtual BtfFieldLoad load(std::uint32_t id, std::uint64_t off, std::uint32_t size) const = 0;
};

}  // namespace bpfvm::verifier
