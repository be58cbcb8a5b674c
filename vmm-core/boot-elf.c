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

/* The header fields both ELF classes share, widened to 64 bits. */
typedef struct ElfInfo {
  bool is64;
  uint16_t type, machine, phentsize, phnum;
  uint64_t entry, phoff;
} ElfInfo;

static bool
read_header (const uint8_t *img, size_t len, ElfInfo *e, GError **error)
{
  if (e->is64)
    {
      Elf64_Ehdr eh;
      if (len < sizeof eh)
        return bad (error, "truncated header");
      memcpy (&eh, img, sizeof eh);
      *e = (ElfInfo){ true, eh.e_type, eh.e_machine, eh.e_phentsize, eh.e_phnum,
                      eh.e_entry, eh.e_phoff };
      if (e->machine != EM_X86_64 || e->type != ET_EXEC)
        return bad (error, "not an x86-64 static executable");
    }
  else
    {
      Elf32_Ehdr eh;
      if (len < sizeof eh)
        return bad (error, "truncated header");
      memcpy (&eh, img, sizeof eh);
      *e = (ElfInfo){ false, eh.e_type, eh.e_machine, eh.e_phentsize, eh.e_phnum,
                      eh.e_entry, eh.e_phoff };
      if (e->machine != EM_386 || e->type != ET_EXEC)
        return bad (error, "not an i386 static executable");
    }
  size_t phsize = e->is64 ? sizeof (Elf64_Phdr) : sizeof (Elf32_Phdr);
  if (e->phentsize != phsize || e->phoff > len
      || (uint64_t) e->phnum * phsize > len - e->phoff)
    return bad (error, "program headers lie outside the file");
  return true;
}

/* Program header i (already bounds-checked by read_header); false unless
 * it is a PT_LOAD segment. */
static bool
read_load_segment (const uint8_t *img, const ElfInfo *e, unsigned i, Segment *s)
{
  if (e->is64)
    {
      Elf64_Phdr ph;
      memcpy (&ph, img + e->phoff + i * sizeof ph, sizeof ph);
      *s = (Segment){ ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz };
      return ph.p_type == PT_LOAD;
    }
  Elf32_Phdr ph;
  memcpy (&ph, img + e->phoff + i * sizeof ph, sizeof ph);
  *s = (Segment){ ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz };
  return ph.p_type == PT_LOAD;
}

bool
elf_load (GuestRam *ram, const uint8_t *img, size_t len, CpuState *bsp, GError **error)
{
  ElfInfo e = { 0 };

  if (len < EI_NIDENT || memcmp (img, ELFMAG, SELFMAG) != 0)
    return bad (error, "not an ELF file");
  if (img[EI_DATA] != ELFDATA2LSB)
    return bad (error, "not little-endian");
  if (img[EI_CLASS] != ELFCLASS64 && img[EI_CLASS] != ELFCLASS32)
    return bad (error, "unknown ELF class");
  e.is64 = img[EI_CLASS] == ELFCLASS64;
  if (!read_header (img, len, &e, error))
    return false;

  for (unsigned i = 0; i < e.phnum; i++)
    {
      Segment s;
      if (read_load_segment (img, &e, i, &s) && !load_segment (ram, img, len, &s, error))
        return false;
    }

  /* ELF64 starts in long mode; ELF32 as a multiboot loader would leave it. */
  if (e.is64)
    {
      if (!boot_cpu_long_mode (ram, bsp, e.entry))
        return bad (error, "guest memory too small for boot page tables");
      return true;
    }
  if (!boot_cpu_protected_mode (ram, bsp, e.entry))
    return bad (error, "guest memory too small for the boot GDT");
  bsp->regs[CPU_REG_RAX] = 0x2badb002;
  bsp->regs[CPU_REG_RBX] = 0;
  return true;
}
