# bpfvm_add_bpf_objects(<target> OUTPUT_DIR <dir> SOURCES <abs .bpf.c>... [DEPENDS <headers>...] [ALL]
#                       [NO_DEBUG_INFO])
# Compiles each BPF C source as libbpf users build theirs (clang -O2 -g -target bpf, warnings as
# errors, the multiarch include directory that <linux/bpf.h> needs for <asm/types.h>) into
# <dir>/<name>.bpf.o, adds the custom target <target> over them (built by default with ALL), and
# sets <target>_OBJECTS in the caller's scope. BPFVM_BPF_CLANG is empty when no clang is installed;
# callers check it before asking for objects. NO_DEBUG_INFO drops -g: objects without .BTF/.BTF.ext, as
# older toolchains and iproute2's examples built them.
find_program(BPFVM_BPF_CLANG NAMES clang-14 clang)

function(bpfvm_add_bpf_objects target)
  cmake_parse_arguments(arg "ALL;NO_DEBUG_INFO" "OUTPUT_DIR" "SOURCES;DEPENDS" ${ARGN})
  set(objects)
  set(debug_info -g)
  if(arg_NO_DEBUG_INFO)
    set(debug_info)
  endif()
  foreach(src ${arg_SOURCES})
    get_filename_component(file ${src} NAME)
    string(REPLACE ".bpf.c" ".bpf.o" obj ${file})
    set(out ${arg_OUTPUT_DIR}/${obj})
    file(RELATIVE_PATH shown ${PROJECT_SOURCE_DIR} ${src})
    add_custom_command(
      OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${arg_OUTPUT_DIR}
      COMMAND ${BPFVM_BPF_CLANG} -O2 ${debug_info} -target bpf -Wall -Werror
              -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE} -c ${src} -o ${out}
      DEPENDS ${src} ${arg_DEPENDS}
      COMMENT "BPF ${shown}"
      VERBATIM)
    list(APPEND objects ${out})
  endforeach()
  if(arg_ALL)
    add_custom_target(${target} ALL DEPENDS ${objects})
  else()
    add_custom_target(${target} DEPENDS ${objects})
  endif()
  set(${target}_OBJECTS ${objects} PARENT_SCOPE)
endfunction()
