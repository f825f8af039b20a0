// Run-time addresses of this executable's functions -> their mangled names, from its ELF symbol
// table (.symtab holds the file-local kernels the dynamic symbol table lacks). Used by the
// kernel-coverage test and by the profiler (kernel names, then their ptxas resources).
#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/emu.h"

namespace kernels::emu {
namespace {

int main_program_bias(dl_phdr_info* info, size_t, void* out) {
  *static_cast<uintptr_t*>(out) = info->dlpi_addr;
  return 1;  // the first object is the executable itself
}

}  // namespace

std::multimap<uintptr_t, std::string> function_symbols() {
  std::ifstream file("/proc/self/exe", std::ios::binary);
  const std::vector<char> image((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::multimap<uintptr_t, std::string> symbols;
  Elf64_Ehdr header;
  if (image.size() < sizeof header) return symbols;
  std::memcpy(&header, image.data(), sizeof header);
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shoff + header.e_shnum * sizeof(Elf64_Shdr) > image.size())
    return symbols;
  std::vector<Elf64_Shdr> sections(header.e_shnum);
  std::memcpy(sections.data(), image.data() + header.e_shoff, header.e_shnum * sizeof(Elf64_Shdr));
  uintptr_t bias = 0;
  dl_iterate_phdr(main_program_bias, &bias);
  for (const Elf64_Shdr& table : sections) {
    if (table.sh_type != SHT_SYMTAB || table.sh_link >= sections.size()) continue;
    const Elf64_Shdr& strings = sections[table.sh_link];
    if (table.sh_offset + table.sh_size > image.size() || strings.sh_offset + strings.sh_size > image.size()) continue;
    for (size_t at = 0; at + sizeof(Elf64_Sym) <= table.sh_size; at += sizeof(Elf64_Sym)) {
      Elf64_Sym symbol;
      std::memcpy(&symbol, image.data() + table.sh_offset + at, sizeof symbol);
      if (ELF64_ST_TYPE(symbol.st_info) != STT_FUNC || symbol.st_value == 0 || symbol.st_name >= strings.sh_size)
        continue;
      const char* name = image.data() + strings.sh_offset + symbol.st_name;
      if (std::memchr(name, '\0', strings.sh_size - symbol.st_name) == nullptr) continue;
      symbols.emplace(bias + symbol.st_value, name);
    }
  }
  return symbols;
}

namespace detail {
std::string kernel_symbol(const void* kernel) {
  static std::mutex mutex;
  static std::multimap<uintptr_t, std::string> symbols;
  static bool loaded = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (!loaded) symbols = function_symbols(), loaded = true;
  const auto it = symbols.find(reinterpret_cast<uintptr_t>(kernel));
  return it == symbols.end() ? std::string("unknown kernel") : it->second;
}
}  // namespace detail

}  // namespace kernels::emu
