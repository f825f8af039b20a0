# Turns the ptxas reports (cmake/ptxas_report.cmake) into a C++ table: -DREPORTS=a;b -DOUT=x.cpp.
# Each entry: the mangled kernel name, registers per thread, static shared bytes (sm_90).
set(rows "")
foreach(report IN LISTS REPORTS)
  file(STRINGS "${report}" lines)
  set(kernel "")
  foreach(line IN LISTS lines)
    if(line MATCHES "Compiling entry function '([^']+)' for 'sm_90'")
      set(kernel "${CMAKE_MATCH_1}")
    elseif(kernel AND line MATCHES "Used ([0-9]+) registers")
      set(registers "${CMAKE_MATCH_1}")
      set(shared 0)
      if(line MATCHES "([0-9]+) bytes smem")
        set(shared "${CMAKE_MATCH_1}")
      endif()
      string(APPEND rows "    {\"${kernel}\", ${registers}, ${shared}},\n")
      set(kernel "")
    endif()
  endforeach()
endforeach()
file(WRITE "${OUT}.tmp" "// Generated at build time by cmake/ptxas_table.cmake from nvcc's resource report for sm_90.\n"
  "#include \"ptxas_table.h\"\n\nnamespace kernels::emu::detail {\n"
  "const PtxasEntry kPtxasTable[] = {\n${rows}    {nullptr, 0, 0}};\n}  // namespace kernels::emu::detail\n")
file(RENAME "${OUT}.tmp" "${OUT}")
