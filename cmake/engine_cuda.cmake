# CUDA build settings shared by the kernel libraries (ENGINE_CUDA=ON).
#
# Architectures: a user's -DCMAKE_CUDA_ARCHITECTURES always wins. Otherwise the GPU's own
# (`native`) when nvidia-smi sees one, else the project's list: real code for the data-centre and
# workstation GPUs of the last generations, plus PTX for the newest (the 90 entry, compiled as
# both sm_90 and compute_90) so that newer GPUs JIT it. nvcc's own default (sm_52 up to CUDA 12,
# sm_75 from CUDA 13) is never used: the kernels target Ampere and newer.
# Must run before enable_language(CUDA), which would otherwise store nvcc's default.
set(ENGINE_CUDA_DEFAULT_ARCHITECTURES 80-real 86-real 89-real 90)

function(engine_choose_cuda_architectures)
  if(DEFINED CMAKE_CUDA_ARCHITECTURES)
    message(STATUS "CUDA architectures: ${CMAKE_CUDA_ARCHITECTURES} (given)")
    return()
  endif()
  find_program(ENGINE_NVIDIA_SMI nvidia-smi)
  set(gpu_list "")
  if(ENGINE_NVIDIA_SMI)
    execute_process(COMMAND ${ENGINE_NVIDIA_SMI} -L OUTPUT_VARIABLE gpu_list ERROR_QUIET
                    RESULT_VARIABLE status TIMEOUT 20)
    if(NOT status EQUAL 0)
      set(gpu_list "")
    endif()
  endif()
  if(gpu_list MATCHES "GPU 0")
    set(archs native)
    set(why "the GPU of this machine")
  else()
    set(archs ${ENGINE_CUDA_DEFAULT_ARCHITECTURES})
    set(why "no GPU visible: the project's list")
  endif()
  set(CMAKE_CUDA_ARCHITECTURES "${archs}" CACHE STRING
      "CUDA architectures (default: native when a GPU is visible, else ${ENGINE_CUDA_DEFAULT_ARCHITECTURES})")
  message(STATUS "CUDA architectures: ${archs} (${why})")
endfunction()

# Register use, spills and local memory. A user's build only warns: a spill on an architecture
# the user did not pick must not stop the build. ENGINE_CUDA_STRICT (CI's own stage, on the
# architectures it names) makes any warning, spill or local-memory use an error and prints the
# resource report that tools/check/check_kernel_docs.sh keeps docs/kernels.md honest with.
option(ENGINE_CUDA_STRICT "nvcc: warnings, spills and local memory are errors; print resource usage" OFF)

function(engine_cuda_ptxas_checks target)
  if(ENGINE_CUDA_STRICT)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--Werror=all-warnings
      -Xptxas=-warn-spills,-warn-lmem-usage,-Werror --resource-usage>)
  else()
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xptxas=-warn-spills,-warn-lmem-usage>)
  endif()
endfunction()
