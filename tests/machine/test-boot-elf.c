/* The ELF loader for tiny guests, with hand-made images. */
#include <elf.h>
#include <string.h>
#include <gio/gio.h>

#include "vmm-core/boot-elf.h"

static GByteArray *
elf64 (uint64_t paddr, uint64_t filesz, uint64_t memsz, uint64_t entry)
{
  GByteArray *a = g_byte_array_new ();
  size_t off = sizeof (Elf64_Ehdr) + sizeof (Elf64_Phdr);
  g_byte_array_set_size (a, off + filesz);
  memset (a->data, 0, a->len);
  Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                    .e_entry = entry, .e_phoff = sizeof eh, .e_ehsize = sizeof eh,
                    .e_phentsize = sizeof (Elf64_Phdr), .e_phnum = 1 };
  memcpy (eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  Elf64_Phdr ph = { .p_type = PT_LOAD, .p_offset = off, .p_vaddr = paddr, .p_paddr = paddr,
                    .p_filesz = filesz, .p_memsz = memsz };
  memcpy (a->data, &eh, sizeof eh);
  memcpy (a->data + sizeof eh, &ph, sizeof ph);
  for (size_t i = 0; i < filesz; i++)
    a->data[off + i] = (uint8_t) (0x90 + i);
  return a;
}

static GByteArray *
elf32 (uint32_t paddr, uint32_t filesz, uint32_t entry)
{
  GByteArray *a = g_byte_array_new ();
  size_t off = sizeof (Elf32_Ehdr) + sizeof (Elf32_Phdr);
  g_byte_array_set_size (a, off + filesz);
  memset (a->data, 0, a->len);
  Elf32_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
                    .e_entry = entry, .e_phoff = sizeof eh, .e_ehsize = sizeof eh,
                    .e_phentsize = sizeof (Elf32_Phdr), .e_phnum = 1 };
  memcpy (eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS32;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  Elf32_Phdr ph = { .p_type = PT_LOAD, .p_offset = off, .p_vaddr = paddr, .p_paddr = paddr,
                    .p_filesz = filesz, .p_memsz = filesz };
  memcpy (a->data, &eh, sizeof eh);
  memcpy (a->data + sizeof eh, &ph, sizeof ph);
  return a;
}

static void
test_elf64 (void)
{
  GuestRam ram;
  CpuState s;
  g_autoptr (GError) error = NULL;
  g_assert_true (guest_ram_init (&ram, 4 << 20, &error));
  memset (guest_ram_ptr (&ram, 0x200000, 0x100), 0xee, 0x100);
  g_autoptr (GByteArray) img = elf64 (0x200000, 16, 0x100, 0x200004);
  cpu_state_reset (&s, 0, true);
  g_assert_true (elf_load (&ram, img->data, img->len, &s, &error));
  g_assert_no_error (error);
  const uint8_t *p = guest_ram_ptr (&ram, 0x200000, 0x100);
  g_assert_cmpuint (p[0], ==, 0x90);
  g_assert_cmpuint (p[15], ==, 0x9f);
  g_assert_cmpuint (p[16], ==, 0);   /* bss zeroed */
  g_assert_cmpuint (p[0xff], ==, 0);
  g_assert_cmphex (s.rip, ==, 0x200004);
  g_assert_cmphex (s.efer & 0x500, ==, 0x500);
  g_assert_cmpuint (s.seg[CPU_SEG_CS].l, ==, 1);
  guest_ram_destroy (&ram);
}

static void
test_elf32 (void)
{
  GuestRam ram;
  CpuState s;
  g_autoptr (GError) error = NULL;
  g_assert_true (guest_ram_init (&ram, 4 << 20, &error));
  g_autoptr (GByteArray) img = elf32 (0x100000, 32, 0x100010);
  cpu_state_reset (&s, 0, true);
  g_assert_true (elf_load (&ram, img->data, img->len, &s, &error));
  g_assert_cmphex (s.rip, ==, 0x100010);
  g_assert_cmphex (s.cr0 & 0x80000001, ==, 1); /* PE, no paging */
  g_assert_cmphex (s.efer, ==, 0);
  g_assert_cmpuint (s.seg[CPU_SEG_CS].db, ==, 1);
  g_assert_cmphex (s.regs[CPU_REG_RAX], ==, 0x2badb002);
  guest_ram_destroy (&ram);
}

static void
expect_bad (GByteArray *img, const char *fragment)
{
  GuestRam ram;
  CpuState s;
  g_autoptr (GError) error = NULL;
  g_assert_true (guest_ram_init (&ram, 4 << 20, NULL));
  cpu_state_reset (&s, 0, true);
  g_assert_false (elf_load (&ram, img->data, img->len, &s, &error));
  if (!strstr (error->message, fragment))
    g_error ("message '%s' lacks '%s'", error->message, fragment);
  guest_ram_destroy (&ram);
}

static void
test_hostile (void)
{
  g_autoptr (GByteArray) outside = elf64 (0x3ff000, 16, 0x2000, 0x3ff000);
  expect_bad (outside, "not in guest RAM");
  g_autoptr (GByteArray) wrap = elf64 (0xfffffffffffff000ull, 16, 0x2000, 0);
  expect_bad (wrap, "not in guest RAM");
  g_autoptr (GByteArray) trunc = elf64 (0x100000, 64, 64, 0x100000);
  g_byte_array_set_size (trunc, trunc->len - 10);
  expect_bad (trunc, "outside the file");
  g_autoptr (GByteArray) phdrs = elf64 (0x100000, 0, 0, 0x100000);
  ((Elf64_Ehdr *) phdrs->data)->e_phnum = 1000;
  expect_bad (phdrs, "outside the file");
  g_autoptr (GByteArray) arm = elf64 (0x100000, 4, 4, 0x100000);
  ((Elf64_Ehdr *) arm->data)->e_machine = EM_AARCH64;
  expect_bad (arm, "x86-64");
  g_autoptr (GByteArray) junk = g_byte_array_new ();
  g_byte_array_append (junk, (const guint8 *) "hello", 5);
  expect_bad (junk, "not an ELF");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/boot-elf/elf64", test_elf64);
  g_test_add_func ("/boot-elf/elf32", test_elf32);
  g_test_add_func ("/boot-elf/hostile", test_hostile);
  return g_test_run ();
}
