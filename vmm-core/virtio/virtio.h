/* Virtio 1.x constants shared by the transport and the devices (numbers from
 * the OASIS virtio 1.1 specification). */
#pragma once

#include <stdint.h>

/* Device status bits (virtio 1.1, 2.1). */
enum
{
  VIRTIO_STATUS_ACKNOWLEDGE = 1,
  VIRTIO_STATUS_DRIVER = 2,
  VIRTIO_STATUS_DRIVER_OK = 4,
  VIRTIO_STATUS_FEATURES_OK = 8,
  VIRTIO_STATUS_DEVICE_NEEDS_RESET = 0x40,
  VIRTIO_STATUS_FAILED = 0x80,
};

/* Transport-level feature bits. */
enum
{
  VIRTIO_F_INDIRECT_DESC = 28,
  VIRTIO_F_RING_EVENT_IDX = 29,
  VIRTIO_F_VERSION_1 = 32,
};

#define VIRTIO_FEATURE(bit) (1ull << (bit))

/* Device types (PCI device ID = 0x1040 + type). */
enum
{
  VIRTIO_ID_NET = 1,
  VIRTIO_ID_BLOCK = 2,
  VIRTIO_ID_CONSOLE = 3,
  VIRTIO_ID_RNG = 4,
};

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* ISR status bits (INTx mode). */
enum
{
  VIRTIO_ISR_QUEUE = 1,
  VIRTIO_ISR_CONFIG = 2,
};

/* Split ring descriptor flags. */
enum
{
  VIRTQ_DESC_F_NEXT = 1,
  VIRTQ_DESC_F_WRITE = 2,
  VIRTQ_DESC_F_INDIRECT = 4,
};

enum
{
  VIRTQ_AVAIL_F_NO_INTERRUPT = 1,
  VIRTQ_USED_F_NO_NOTIFY = 1,
};

/* Vendor capability cfg_type values (virtio 1.1, 4.1.4). */
enum
{
  VIRTIO_PCI_CAP_COMMON_CFG = 1,
  VIRTIO_PCI_CAP_NOTIFY_CFG = 2,
  VIRTIO_PCI_CAP_ISR_CFG = 3,
  VIRTIO_PCI_CAP_DEVICE_CFG = 4,
  VIRTIO_PCI_CAP_PCI_CFG = 5,
};

/* Common configuration structure offsets (virtio 1.1, 4.1.4.3). */
enum
{
  VIRTIO_PCI_COMMON_DFSELECT = 0x00,
  VIRTIO_PCI_COMMON_DF = 0x04,
  VIRTIO_PCI_COMMON_GFSELECT = 0x08,
  VIRTIO_PCI_COMMON_GF = 0x0c,
  VIRTIO_PCI_COMMON_MSIX = 0x10,
  VIRTIO_PCI_COMMON_NUMQ = 0x12,
  VIRTIO_PCI_COMMON_STATUS = 0x14,
  VIRTIO_PCI_COMMON_CFGGENERATION = 0x15,
  VIRTIO_PCI_COMMON_Q_SELECT = 0x16,
  VIRTIO_PCI_COMMON_Q_SIZE = 0x18,
  VIRTIO_PCI_COMMON_Q_MSIX = 0x1a,
  VIRTIO_PCI_COMMON_Q_ENABLE = 0x1c,
  VIRTIO_PCI_COMMON_Q_NOFF = 0x1e,
  VIRTIO_PCI_COMMON_Q_DESCLO = 0x20,
  VIRTIO_PCI_COMMON_Q_DESCHI = 0x24,
  VIRTIO_PCI_COMMON_Q_AVAILLO = 0x28,
  VIRTIO_PCI_COMMON_Q_AVAILHI = 0x2c,
  VIRTIO_PCI_COMMON_Q_USEDLO = 0x30,
  VIRTIO_PCI_COMMON_Q_USEDHI = 0x34,
  VIRTIO_PCI_COMMON_SIZE = 0x38,
};
