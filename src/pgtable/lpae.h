/* pgtable/lpae.h — Arm VMSAv8-64 long descriptors (stage 1 and stage 2) and the
 * SMMUv3 event IDs of translation faults. Bit positions as the Arm ARM (D8,
 * VMSAv8-64 translation table format descriptors) and the SMMUv3 spec give them.
 */
#ifndef VSVA_PGTABLE_LPAE_H
#define VSVA_PGTABLE_LPAE_H

#include "util/bits.h"

#define LPAE_VALID       BIT(0)
#define LPAE_TABLE       BIT(1)      /* with VALID: table (levels 0-2) or page (level 3) */
#define LPAE_TYPE        GENMASK(1, 0)
#define LPAE_TYPE_BLOCK  1
#define LPAE_TYPE_TABLE  3
#define LPAE_ATTRINDX    GENMASK(4, 2) /* stage 1 */
#define LPAE_MEMATTR     GENMASK(5, 2) /* stage 2 */
#define LPAE_NS          BIT(5)        /* stage 1 */
#define LPAE_AP1         BIT(6)        /* stage 1: EL0 access */
#define LPAE_AP2         BIT(7)        /* stage 1: read-only */
#define LPAE_S2AP_R      BIT(6)        /* stage 2 */
#define LPAE_S2AP_W      BIT(7)        /* stage 2 */
#define LPAE_SH          GENMASK(9, 8)
#define LPAE_AF          BIT(10)
#define LPAE_NG          BIT(11)       /* stage 1 */
#define LPAE_DBM         BIT(51)
#define LPAE_CONT        BIT(52)
#define LPAE_PXN         BIT(53)       /* stage 1 */
#define LPAE_UXN         BIT(54)       /* stage 1 (XN with one VA range); stage 2 XN */
#define LPAE_S2_XN       BIT(54)
#define LPAE_PXNTABLE    BIT(59)
#define LPAE_XNTABLE     BIT(60)
#define LPAE_APTABLE0    BIT(61)       /* no EL0 access below */
#define LPAE_APTABLE1    BIT(62)       /* no write access below */
#define LPAE_NSTABLE     BIT(63)
#define LPAE_OA_LO       GENMASK(47, 12)
#define LPAE_OA_HI       GENMASK(51, 48)
#define LPAE_64K_OA_HI   GENMASK(15, 12) /* 64K granule, 52-bit OA: OA[51:48] */

/* SMMUv3 event IDs for translation faults. */
#define SMMU_EVT_F_WALK_EABT     0x0b
#define SMMU_EVT_F_TRANSLATION   0x10
#define SMMU_EVT_F_ADDR_SIZE     0x11
#define SMMU_EVT_F_ACCESS        0x12
#define SMMU_EVT_F_PERMISSION    0x13

#endif
