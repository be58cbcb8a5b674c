#include "vmm-core/boot-elf.h"

#include <elf.h>
#include <string.h>
#include <gio/gio.h>

#include "vmm-core/boot-cpu.h"

static bool
bad (GError **error, const char *msg)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "guest ELF: %s", msg);
  return false;
}

typedef struct Segment {
  uint64_t offset, paddr, filesz, memsz;
} Segment;

/* Copies one segment after checking it lies in the file and in RAM. */
static bool
load_segment (GuestRam *ram, const uint8_t *img, size_t len, const Segment *s, GError **error)
{
  if (s->filesz > s->memsz || s->offset > len || s->filesz > len - s->offset)
    return bad (error, "segment lies outside the file");
  if (s->memsz == 0)
    return true;
  uint8_t *dst = guest_ram_ptr (ram, s->paddr, s->memsz);
  if (!dst)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "guest ELF: segment at %#" G_GINT64_MODIFIER "x (+%#" G_GINT64_MODIFIER
                   "x) is not in guest RAM", s->paddr, s->memsz);
      return false;
    }
  memcpy (dst, img + s->offset, s->filesz);
  memset (dst + s->filesz, 0, s->memsz - s->filesz);
  return true;
}

bool
elf_load (GuestRam *ram, const uint8_t *img, size_t len, CpuState *bsp, GError **error)
{
  if (len < EI_NIDENT || memcmp (img, ELFMAG, SELFMAG) != 0)
    return bad (error, "not an ELF file");
  if (img[EI_DATA] != ELFDATA2LSB)
    return bad (error, "not little-endian");

  if (img[EI_CLASS] == ELFCLASS64)
    {
      Elf64_Ehdr eh;
      if (len < sizeof eh)
        return bad (error, "truncated header");
      memcpy (&eh, img, sizeof eh);
      if (eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC)
        return bad (error, "not an x86-64 static executable");
      if (eh.e_phentsize != sizeof (Elf64_Phdr) || eh.e_phoff > len
          || (uint64_t) eh.e_phnum * sizeof (Elf64_Phdr) > len - eh.e_phoff)
        return bad (error, "program headers lie outside the file");
      for (unsigned i = 0; i < eh.e_phnum; i++)
        {
          Elf64_Phdr ph;
          memcpy (&ph, img + eh.e_phoff + i * sizeof ph, sizeof ph);
          if (ph.p_type != PT_LOAD)
            continue;
          Segment s = { ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz };
          if (!load_segment (ram, img, len, &s, error))
            return false;
        }
      if (!boot_cpu_long_mode (ram, bsp, eh.e_entry))
        return bad (error, "guest memory too small for boot page tables");
      return true;
    }
  if (img[EI_CLASS] == ELFCLASS32)
    {
      Elf32_Ehdr eh;
      if (len < sizeof eh)
        return bad (error, "truncated header");
      memcpy (&eh, img, sizeof eh);
      if (eh.e_machine != EM_386 || eh.e_type != ET_EXEC)
        return bad (error, "not an i386 static executable");
      if (eh.e_phentsize != sizeof (Elf32_Phdr) || eh.e_phoff > len
          || (uint64_t) eh.e_phnum * sizeof (Elf32_Phdr) > len - eh.e_phoff)
        return bad (error, "program headers lie outside the file");
      for (unsigned i = 0; i < eh.e_phnum; i++)
        {
          Elf32_Phdr ph;
          memcpy (&ph, img + eh.e_phoff + i * sizeof ph, sizeof ph);
          if (ph.p_type != PT_LOAD)
            continue;
          Segment s = { ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz };
          if (!load_segment (ram, img, len, &s, error))
            return false;
        }
      if (!boot_cpu_protected_mode (ram, bsp, eh.e_entry))
        return bad (error, "guest memory too small for the boot GDT");
      bsp->regs[CPU_REG_RAX] = 0x2badb002;
      bsp->regs[CPU_REG_RBX] = 0;
      return true;
    }
  return bad (error, "unknown ELF class");
}
