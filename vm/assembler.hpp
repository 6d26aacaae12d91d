// The conformance-dialect assembler: text to instruction slots, every encoding taken from isa::kOps.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "bpfvm/result.hpp"
#include "vm/program.hpp"

namespace bpfvm::vm {

/// Assemble a program written in the bpf_conformance dialect (see shared/conformance/README.md):
/// one instruction or `label:` per line, `#` comments, `+N`/`-N` or label jump targets, the
/// implicit `exit` label, `lddw` in two slots, and the table's `lddw_<pseudo>` forms.
///
/// The assembler checks syntax and ranges only; field rules (r10 written, reserved bits) are the
/// decoder's job, so decode_program() can be tested with any encodable program.
/// Errors are Errc::Malformed with a one-line reason "line 3: unknown mnemonic 'foo'";
/// `first_line` is the number given to the first line of `text` (a .data file's asm section).
Result<std::vector<Insn>> assemble(std::string_view text, std::size_t first_line = 1);

}  // namespace bpfvm::vm
