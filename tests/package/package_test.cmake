# Installs the build tree into WORK_DIR/prefix and builds both embedding examples as outside projects
# against it: examples/embed-cpp with find_package(bpfvm) (shared and static), examples/embed-c with
# pkg-config (shared and static). Each host runs its BPF object and must print the expected totals.
# cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... [-DCMAKE_GENERATOR=Ninja] -P package_test.cmake
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "package_test.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT CMAKE_GENERATOR)
  set(CMAKE_GENERATOR "Unix Makefiles")
endif()

function(run)
  string(REPLACE ";" " " shown "${ARGN}")
  message(STATUS "package test: ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${shown}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

# A host run must count all 12 IPv4 packets, each hashed by the host helper once.
function(check_host label)
  run(${ARGN})
  if(NOT run_output MATCHES "total 12, host_hash calls 12")
    message(FATAL_ERROR "${label}: unexpected output:\n${run_output}")
  endif()
  message(STATUS "${label}: ok")
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

foreach(f include/bpfvm/bpfvm.h include/bpfvm/bpfvm.hpp bin/bpfvm)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(GLOB_RECURSE pc_files ${prefix}/*/bpfvm.pc)
file(GLOB_RECURSE config_files ${prefix}/*/bpfvmConfig.cmake)
if(NOT pc_files OR NOT config_files)
  message(FATAL_ERROR "bpfvm.pc or bpfvmConfig.cmake not installed")
endif()
get_filename_component(pc_dir ${pc_files} DIRECTORY)

# C++: find_package(bpfvm) -> bpfvm::bpfvm / bpfvm::bpfvm_static. No package registry, only the prefix.
foreach(variant shared static)
  set(static_flag OFF)
  if(variant STREQUAL "static")
    set(static_flag ON)
  endif()
  set(dir ${WORK_DIR}/embed-cpp-${variant})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/embed-cpp -B ${dir} -G ${CMAKE_GENERATOR}
      -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
      -DEMBED_LINK_STATIC=${static_flag})
  run(${CMAKE_COMMAND} --build ${dir})
  check_host("embed-cpp (${variant}, interpreter)" ${dir}/embed_cpp ${dir}/flow_hash.bpf.o)
  check_host("embed-cpp (${variant}, jit)" ${dir}/embed_cpp ${dir}/flow_hash.bpf.o jit)
endforeach()
# The shared build must really use the installed libbpfvm.so.
run(ldd ${WORK_DIR}/embed-cpp-shared/embed_cpp)
if(NOT run_output MATCHES "libbpfvm\\.so\\.0 => ${prefix}")
  message(FATAL_ERROR "embed_cpp does not load libbpfvm.so from ${prefix}:\n${run_output}")
endif()

# C: pkg-config --cflags --libs bpfvm, with make, shared and static.
set(dir ${WORK_DIR}/embed-c)
set(make_env ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pc_dir})
if(C_COMPILER)
  list(APPEND make_env CC=${C_COMPILER})
endif()
run(${make_env} make -C ${SOURCE_DIR}/examples/embed-c O=${dir} all static)
check_host("embed-c (shared, interpreter)" ${dir}/embed_c ${dir}/flow_hash.bpf.o)
check_host("embed-c (shared, jit)" ${dir}/embed_c ${dir}/flow_hash.bpf.o jit)
check_host("embed-c (static, jit)" ${dir}/embed_c_static ${dir}/flow_hash.bpf.o jit)
run(ldd ${dir}/embed_c_static)
if(run_output MATCHES "libbpfvm")
  message(FATAL_ERROR "embed_c_static loads libbpfvm.so:\n${run_output}")
endif()
