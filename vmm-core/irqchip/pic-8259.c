/* 8259A PIC pair (Intel 8259A datasheet: ICW1-4, OCW1-3, priority rotation,
 * poll mode; ELCR as on PIIX). */
#include "vmm-core/irqchip/pic-8259.h"

#include "vmm-core/io-bus.h"
#include "vmm-core/log.h"
#include "vmm-core/snapshot-stream.h"

#include <gio/gio.h>

#define PIC_SECTION_VERSION 1

/* Priority (0 = highest) of the best bit in mask, 8 if none. */
static int
get_priority (const Pic8259Chip *s, uint8_t mask)
{
  if (!mask)
    return 8;
  int p = 0;
  while (!(mask & (1u << ((p + s->priority_add) & 7))))
    p++;
  return p;
}

/* The IR this chip would request INTR for, or -1. */
static int
get_irq (const Pic8259Chip *s, bool master)
{
  int p = get_priority (s, s->irr & ~s->imr);
  if (p == 8)
    return -1;
  uint8_t in_service = s->isr;
  if (s->special_mask)
    in_service &= ~s->imr;
  /* Special fully nested: the slave may interrupt its own in-service IRQ. */
  if (master && s->special_fully_nested_mode)
    in_service &= ~(1u << 2);
  int cur = get_priority (s, in_service);
  return p < cur ? (p + s->priority_add) & 7 : -1;
}

static void
chip_set_irq (Pic8259Chip *s, unsigned irq, bool level)
{
  uint8_t mask = 1u << irq;
  if (level)
    s->level |= mask;
  else
    s->level &= ~mask;
  if (s->elcr & mask)
    {
      if (level)
        s->irr |= mask, s->last_irr |= mask;
      else
        s->irr &= ~mask, s->last_irr &= ~mask;
    }
  else if (level)
    {
      if (!(s->last_irr & mask))
        s->irr |= mask;
      s->last_irr |= mask;
    }
  else
    s->last_irr &= ~mask;
}

static void
update (Pic8259 *pic)
{
  chip_set_irq (&pic->chip[0], 2, get_irq (&pic->chip[1], false) >= 0);
  bool intr = get_irq (&pic->chip[0], true) >= 0;
  if (intr != pic->intr)
    {
      pic->intr = intr;
      if (pic->output)
        pic->output (pic->output_opaque, intr);
    }
}

void
pic_set_irq (Pic8259 *pic, unsigned irq, bool level)
{
  if (irq >= 16)
    return;
  chip_set_irq (&pic->chip[irq >> 3], irq & 7, level);
  update (pic);
}

bool
pic_has_interrupt (Pic8259 *pic)
{
  return get_irq (&pic->chip[0], true) >= 0;
}

static void
intack (Pic8259Chip *s, int irq)
{
  if (s->auto_eoi)
    {
      if (s->rotate_on_auto_eoi)
        s->priority_add = (irq + 1) & 7;
    }
  else
    s->isr |= 1u << irq;
  /* Edge requests are consumed by the acknowledge; level ones stay while
   * the line is high. */
  if (!(s->elcr & (1u << irq)))
    s->irr &= ~(1u << irq);
}

uint8_t
pic_acknowledge (Pic8259 *pic)
{
  Pic8259Chip *m = &pic->chip[0], *sl = &pic->chip[1];
  int irq = get_irq (m, true);
  uint8_t vector;
  if (irq < 0)
    vector = m->irq_base + 7; /* spurious IRQ7: ISR untouched */
  else if (irq == 2 && !m->single_mode)
    {
      int irq2 = get_irq (sl, false);
      if (irq2 >= 0)
        {
          intack (sl, irq2);
          vector = sl->irq_base + irq2;
        }
      else
        vector = sl->irq_base + 7; /* spurious IRQ15 */
      intack (m, 2);
    }
  else
    {
      intack (m, irq);
      vector = m->irq_base + irq;
    }
  update (pic);
  return vector;
}

static void
init_reset (Pic8259Chip *s)
{
  s->last_irr = 0;
  s->irr &= s->elcr;
  s->imr = 0;
  s->isr = 0;
  s->priority_add = 0;
  s->irq_base = 0;
  s->read_reg_select = 0;
  s->poll = 0;
  s->special_mask = 0;
  s->init_state = 0;
  s->auto_eoi = 0;
  s->rotate_on_auto_eoi = 0;
  s->special_fully_nested_mode = 0;
  s->init4 = 0;
  s->single_mode = 0;
}

static void
write_command (Pic8259 *pic, Pic8259Chip *s, uint8_t val)
{
  if (val & 0x10)
    {
      /* ICW1 */
      init_reset (s);
      s->init_state = 1;
      s->init4 = val & 1;
      s->single_mode = (val >> 1) & 1;
      if (val & 0x08)
        VMM_GUEST_ERROR ("pic", "ICW1 level-triggered mode ignored (use the ELCR)");
      update (pic);
      return;
    }
  if (val & 0x08)
    {
      /* OCW3 */
      if (val & 0x04)
        s->poll = 1;
      if (val & 0x02)
        s->read_reg_select = val & 1;
      if (val & 0x40)
        s->special_mask = (val >> 5) & 1;
      update (pic);
      return;
    }
  /* OCW2 */
  unsigned cmd = val >> 5;
  switch (cmd)
    {
    case 0: /* clear rotate in auto-EOI mode */
    case 4: /* set */
      s->rotate_on_auto_eoi = cmd >> 2;
      break;
    case 1: /* non-specific EOI */
    case 5: /* rotate on non-specific EOI */
      {
        int p = get_priority (s, s->isr);
        if (p != 8)
          {
            int irq = (p + s->priority_add) & 7;
            s->isr &= ~(1u << irq);
            if (cmd == 5)
              s->priority_add = (irq + 1) & 7;
          }
        break;
      }
    case 3: /* specific EOI */
      s->isr &= ~(1u << (val & 7));
      break;
    case 6: /* set priority: IR val&7 becomes lowest */
      s->priority_add = (val + 1) & 7;
      break;
    case 7: /* rotate on specific EOI */
      s->isr &= ~(1u << (val & 7));
      s->priority_add = (val + 1) & 7;
      break;
    default: /* 2: no operation */
      break;
    }
  update (pic);
}

static void
write_data (Pic8259 *pic, Pic8259Chip *s, uint8_t val)
{
  switch (s->init_state)
    {
    case 0: /* OCW1 */
      s->imr = val;
      break;
    case 1: /* ICW2 */
      s->irq_base = val & 0xf8;
      s->init_state = s->single_mode ? (s->init4 ? 3 : 0) : 2;
      break;
    case 2: /* ICW3: the cascade wiring is fixed (slave on IR2) */
      s->init_state = s->init4 ? 3 : 0;
      break;
    default: /* ICW4 */
      if (!(val & 1))
        VMM_GUEST_ERROR ("pic", "ICW4 MCS-80/85 mode not supported, using 8086 mode");
      s->special_fully_nested_mode = (val >> 4) & 1;
      s->auto_eoi = (val >> 1) & 1;
      s->init_state = 0;
      break;
    }
  update (pic);
}

/* Poll mode: the read is the INTA; returns 0x80 | level, or 0. */
static uint8_t
poll_read (Pic8259 *pic, unsigned idx)
{
  Pic8259Chip *s = &pic->chip[idx];
  s->poll = 0;
  int irq = get_irq (s, idx == 0);
  if (irq < 0)
    return 0;
  intack (s, irq);
  update (pic);
  return 0x80 | (uint8_t) irq;
}

uint8_t
pic_ioport_read (Pic8259 *pic, uint16_t port)
{
  switch (port)
    {
    case 0x20:
    case 0x21:
    case 0xa0:
    case 0xa1:
      {
        unsigned idx = port >= 0xa0;
        Pic8259Chip *s = &pic->chip[idx];
        if (s->poll)
          return poll_read (pic, idx);
        if (port & 1)
          return s->imr;
        return s->read_reg_select ? s->isr : s->irr;
      }
    case 0x4d0:
      return pic->chip[0].elcr;
    case 0x4d1:
      return pic->chip[1].elcr;
    default:
      return 0xff;
    }
}

void
pic_ioport_write (Pic8259 *pic, uint16_t port, uint8_t value)
{
  switch (port)
    {
    case 0x20:
    case 0xa0:
      write_command (pic, &pic->chip[port >= 0xa0], value);
      break;
    case 0x21:
    case 0xa1:
      write_data (pic, &pic->chip[port >= 0xa0], value);
      break;
    case 0x4d0:
    case 0x4d1:
      {
        Pic8259Chip *s = &pic->chip[port & 1];
        s->elcr = value & s->elcr_mask;
        /* Pins switched to level take their current line state. */
        s->irr = (s->irr & ~s->elcr) | (s->level & s->elcr);
        update (pic);
        break;
      }
    default:
      break;
    }
}

/* One IoOps per range: the bus passes offsets relative to each base. */
#define PIC_RANGE_OPS(name, base)                                              \
  static uint64_t name##_read (void *opaque, uint64_t offset, unsigned size)  \
  {                                                                            \
    uint64_t v = 0;                                                            \
    for (unsigned i = 0; i < size && offset + i < 2; i++)                      \
      v |= (uint64_t) pic_ioport_read (opaque, (base) + offset + i) << (8 * i); \
    return v;                                                                  \
  }                                                                            \
  static void name##_write (void *opaque, uint64_t offset, uint64_t value,    \
                            unsigned size)                                     \
  {                                                                            \
    for (unsigned i = 0; i < size && offset + i < 2; i++)                      \
      pic_ioport_write (opaque, (base) + offset + i, (uint8_t) (value >> (8 * i))); \
  }                                                                            \
  static const IoOps name##_ops = { name##_read, name##_write };

PIC_RANGE_OPS (pic_master, 0x20)
PIC_RANGE_OPS (pic_slave, 0xa0)
PIC_RANGE_OPS (pic_elcr, 0x4d0)

void
pic_reset (Pic8259 *pic)
{
  for (unsigned i = 0; i < 2; i++)
    {
      Pic8259Chip *s = &pic->chip[i];
      uint8_t level = s->level;
      init_reset (s);
      s->elcr = 0;
      s->irr = 0;
      s->level = level;
      s->elcr_mask = i == 0 ? 0xf8 : 0xde; /* IRQ0-2, 8 and 13 are edge only */
    }
  update (pic);
}

Pic8259 *
pic_new (IoBus *io, PicOutputFn output, void *opaque)
{
  Pic8259 *pic = g_new0 (Pic8259, 1);
  pic->output = output;
  pic->output_opaque = opaque;
  pic_reset (pic);
  if (io)
    {
      if (!io_bus_register (io, 0x20, 2, &pic_master_ops, pic, "pic-master"))
        g_warning ("irqchip: I/O range already claimed (%s)", G_STRLOC);
      if (!io_bus_register (io, 0xa0, 2, &pic_slave_ops, pic, "pic-slave"))
        g_warning ("irqchip: I/O range already claimed (%s)", G_STRLOC);
      if (!io_bus_register (io, 0x4d0, 2, &pic_elcr_ops, pic, "pic-elcr"))
        g_warning ("irqchip: I/O range already claimed (%s)", G_STRLOC);
    }
  return pic;
}

void
pic_unregister (Pic8259 *pic, IoBus *io)
{
  io_bus_unregister (io, 0x20, pic);
  io_bus_unregister (io, 0xa0, pic);
  io_bus_unregister (io, 0x4d0, pic);
}

void
pic_free (Pic8259 *pic)
{
  g_free (pic);
}

void
pic_save (Pic8259 *pic, SnapWriter *w)
{
  snap_section_begin (w, "pic", PIC_SECTION_VERSION);
  for (unsigned i = 0; i < 2; i++)
    {
      const Pic8259Chip *s = &pic->chip[i];
      snap_put_u8 (w, s->last_irr);
      snap_put_u8 (w, s->irr);
      snap_put_u8 (w, s->imr);
      snap_put_u8 (w, s->isr);
      snap_put_u8 (w, s->priority_add);
      snap_put_u8 (w, s->irq_base);
      snap_put_u8 (w, s->read_reg_select);
      snap_put_u8 (w, s->poll);
      snap_put_u8 (w, s->special_mask);
      snap_put_u8 (w, s->init_state);
      snap_put_u8 (w, s->auto_eoi);
      snap_put_u8 (w, s->rotate_on_auto_eoi);
      snap_put_u8 (w, s->special_fully_nested_mode);
      snap_put_u8 (w, s->init4);
      snap_put_u8 (w, s->single_mode);
      snap_put_u8 (w, s->elcr);
      snap_put_u8 (w, s->level);
    }
  snap_section_end (w);
}

bool
pic_load (Pic8259 *pic, SnapReader *r, GError **error)
{
  uint32_t version;
  Pic8259Chip c[2];
  if (!snap_reader_open (r, "pic", PIC_SECTION_VERSION, &version, error))
    return false;
  for (unsigned i = 0; i < 2; i++)
    {
      Pic8259Chip *s = &c[i];
      s->last_irr = snap_get_u8 (r);
      s->irr = snap_get_u8 (r);
      s->imr = snap_get_u8 (r);
      s->isr = snap_get_u8 (r);
      s->priority_add = snap_get_u8 (r);
      s->irq_base = snap_get_u8 (r);
      s->read_reg_select = snap_get_u8 (r);
      s->poll = snap_get_u8 (r);
      s->special_mask = snap_get_u8 (r);
      s->init_state = snap_get_u8 (r);
      s->auto_eoi = snap_get_u8 (r);
      s->rotate_on_auto_eoi = snap_get_u8 (r);
      s->special_fully_nested_mode = snap_get_u8 (r);
      s->init4 = snap_get_u8 (r);
      s->single_mode = snap_get_u8 (r);
      s->elcr = snap_get_u8 (r);
      s->level = snap_get_u8 (r);
      s->elcr_mask = i == 0 ? 0xf8 : 0xde;
    }
  if (!snap_reader_check (r, error))
    return false;
  for (unsigned i = 0; i < 2; i++)
    {
      Pic8259Chip *s = &c[i];
      if (s->priority_add > 7 || s->init_state > 3 || (s->irq_base & 7)
          || (s->elcr & ~s->elcr_mask) || s->read_reg_select > 1 || s->poll > 1
          || s->special_mask > 1 || s->auto_eoi > 1 || s->rotate_on_auto_eoi > 1
          || s->special_fully_nested_mode > 1 || s->init4 > 1 || s->single_mode > 1)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "section pic: invalid state of the %s", i ? "slave" : "master");
          return false;
        }
    }
  pic->chip[0] = c[0];
  pic->chip[1] = c[1];
  /* Re-evaluate INTR and tell the output whatever the loaded state says. */
  update (pic);
  if (pic->output)
    pic->output (pic->output_opaque, pic->intr);
  return true;
}
