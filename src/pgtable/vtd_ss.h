/* pgtable/vtd_ss.h — VT-d second-stage paging entries (scalable mode).
 * Bit positions as the VT-d 3.x specification (chapter 9, second-stage paging
 * entries) gives them.
 */
#ifndef VSVA_PGTABLE_VTD_SS_H
#define VSVA_PGTABLE_VTD_SS_H

#include "util/bits.h"

#define SS_R         BIT(0)
#define SS_W         BIT(1)
#define SS_X         BIT(2)
#define SS_EMT       GENMASK(5, 3)   /* leaf only */
#define SS_IPAT      BIT(6)          /* leaf only */
#define SS_PS        BIT(7)
#define SS_A         BIT(8)          /* with SSADE */
#define SS_D         BIT(9)          /* with SSADE, leaf only */
#define SS_SNP       BIT(11)         /* leaf only */
#define SS_ADDR      GENMASK(51, 12)
#define SS_TM        BIT(62)

#endif
