# bpfvm_settings: one INTERFACE target carrying warnings, -Werror and sanitizer flags for every module.
add_library(bpfvm_settings INTERFACE)
target_compile_options(bpfvm_settings INTERFACE
  -Wall -Wextra -Werror -Werror=switch -Wno-missing-field-initializers
  # GCC 12 reports false -Wrestrict and -Wstringop-overread positives inside libstdc++ at -O3
  # (GCC bugs 105329, 106199).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict -Wno-stringop-overread>)
target_include_directories(bpfvm_settings INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>)

# Sanitizer instrumentation makes GCC 12's -Wmaybe-uninitialized report libstdc++ internals
# (std::regex's std::function moves, GCC bug 105562); it stays an error in the plain build.
if(BPFVM_SANITIZE OR BPFVM_TSAN)
  target_compile_options(bpfvm_settings INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
endif()
if(BPFVM_SANITIZE)
  target_compile_options(bpfvm_settings INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(bpfvm_settings INTERFACE -fsanitize=address,undefined)
endif()
if(BPFVM_TSAN)
  target_compile_options(bpfvm_settings INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(bpfvm_settings INTERFACE -fsanitize=thread)
endif()
if(BPFVM_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # Coverage feedback and sanitizers for everything the harnesses link.
  target_compile_options(bpfvm_settings INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(bpfvm_settings INTERFACE -fsanitize=address,undefined)
endif()
