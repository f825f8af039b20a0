# Runs ptxas (through nvcc, sm_90, cubin only) on one kernels/cuda/*.cu and keeps its resource
# report: -DNVCC= -DSOURCE= -DINCLUDES=a;b -DOUT=report.txt. The emulator profiler's registers and
# static shared memory come from these reports (docs/perf.md).
list(TRANSFORM INCLUDES PREPEND "-I")
get_filename_component(dir "${OUT}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
execute_process(
  COMMAND "${NVCC}" -std=c++17 -O3 -arch=sm_90 -cubin --resource-usage ${INCLUDES} -o "${OUT}.cubin" "${SOURCE}"
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "ptxas report: nvcc failed on ${SOURCE}:\n${out}${err}")
endif()
file(REMOVE "${OUT}.cubin")
file(WRITE "${OUT}" "${out}${err}")
