/* pgtable/x86_fs.h — x86-64 paging entries as VT-d's first stage reads them.
 * Bit positions as the VT-d 3.x specification (chapter 9, first-stage paging
 * entries) and the Intel SDM (IA-32e / 5-level paging) give them.
 */
#ifndef VSVA_PGTABLE_X86_FS_H
#define VSVA_PGTABLE_X86_FS_H

#include "util/bits.h"

#define X86_P        BIT(0)    /* present */
#define X86_RW       BIT(1)    /* writable */
#define X86_US       BIT(2)    /* user accessible */
#define X86_PWT      BIT(3)
#define X86_PCD      BIT(4)
#define X86_A        BIT(5)    /* accessed */
#define X86_D        BIT(6)    /* dirty (leaf only) */
#define X86_PS       BIT(7)    /* large page in PDPTE/PDE; PAT in a PTE */
#define X86_PAT_PTE  BIT(7)
#define X86_G        BIT(8)    /* global: ignored by VT-d */
#define X86_EA       BIT(10)   /* extended accessed, with EAFE: ignored here */
#define X86_PAT_LG   BIT(12)   /* PAT of a 2M/1G page */
#define X86_XD       BIT(63)   /* execute disable (reserved unless NXE) */
#define X86_ADDR     GENMASK(51, 12)
#define X86_LG2M_RSVD GENMASK(20, 13)
#define X86_LG1G_RSVD GENMASK(29, 13)

#endif
