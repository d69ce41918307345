/* hw/vtd/vtd_regs.h — VT-d 3.x register offsets and fields, structure layouts,
 * invalidation and page-request descriptors, fault reasons of the structures.
 * Bit positions as the VT-d specification gives them (see docs/facts/
 * vtd-structures.md for the sources and the disagreements among them).
 */
#ifndef VSVA_HW_VTD_REGS_H
#define VSVA_HW_VTD_REGS_H

#include "pgtable/vtd_fr.h"
#include "util/bits.h"

/* ---- register offsets ---------------------------------------------------------- */
#define VTD_VER       0x000   /* 32 */
#define VTD_CAP       0x008
#define VTD_ECAP      0x010
#define VTD_GCMD      0x018   /* 32, write-only */
#define VTD_GSTS      0x01c   /* 32, read-only */
#define VTD_RTADDR    0x020
#define VTD_CCMD      0x028
#define VTD_FSTS      0x034   /* 32 */
#define VTD_FECTL     0x038   /* 32 */
#define VTD_FEDATA    0x03c   /* 32 */
#define VTD_FEADDR    0x040   /* 32 */
#define VTD_FEUADDR   0x044   /* 32 */
#define VTD_IQH       0x080
#define VTD_IQT       0x088
#define VTD_IQA       0x090
#define VTD_ICS       0x09c   /* 32 */
#define VTD_IECTL     0x0a0   /* 32 */
#define VTD_IEDATA    0x0a4   /* 32 */
#define VTD_IEADDR    0x0a8   /* 32 */
#define VTD_IEUADDR   0x0ac   /* 32 */
#define VTD_IQERCD    0x0b0
#define VTD_IRTA      0x0b8
#define VTD_PQH       0x0c0
#define VTD_PQT       0x0c8
#define VTD_PQA       0x0d0
#define VTD_PRS       0x0dc   /* 32 */
#define VTD_PECTL     0x0e0   /* 32 */
#define VTD_PEDATA    0x0e4   /* 32 */
#define VTD_PEADDR    0x0e8   /* 32 */
#define VTD_PEUADDR   0x0ec   /* 32 */
/* Virtual command registers, VT-d 3.3 layout (earlier drafts: 0xe10/0xe20/0xe00). */
#define VTD_VCCAP     0xe30
#define VTD_VCMD      0xe00
#define VTD_VCRSP     0xe10
#define VTD_REG_SIZE  0x1000  /* one 4 KiB page of registers */
#define VTD_FRCD_BASE 0x200   /* vsva's CAP.FRO * 16: fault recording registers */

/* ---- CAP ------------------------------------------------------------------------- */
#define CAP_ND        GENMASK(2, 0)
#define CAP_RWBF      BIT(4)
#define CAP_CM        BIT(7)
#define CAP_SAGAW     GENMASK(12, 8)   /* bit 1: 39-bit, bit 2: 48-bit, bit 3: 57-bit */
#define CAP_MGAW      GENMASK(21, 16)  /* MGAW - 1 */
#define CAP_ZLR       BIT(22)
#define CAP_FRO       GENMASK(33, 24)  /* fault recording offset / 16 */
#define CAP_SLLPS     GENMASK(37, 34)  /* bit 34: 2 MiB, bit 35: 1 GiB */
#define CAP_SLLPS_2M  BIT(34)
#define CAP_SLLPS_1G  BIT(35)
#define CAP_PSI       BIT(39)
#define CAP_NFR       GENMASK(47, 40)  /* fault recording registers - 1 */
#define CAP_MAMV      GENMASK(53, 48)
#define CAP_DWD       BIT(54)
#define CAP_DRD       BIT(55)
#define CAP_FL1GP     BIT(56)
#define CAP_PI        BIT(59)
#define CAP_FL5LP     BIT(60)
#define CAP_ESIRTPS   BIT(62)
#define CAP_ESRTPS    BIT(63)

/* ---- ECAP ------------------------------------------------------------------------ */
#define ECAP_C        BIT(0)
#define ECAP_QI       BIT(1)
#define ECAP_DT       BIT(2)
#define ECAP_IR       BIT(3)
#define ECAP_EIM      BIT(4)
#define ECAP_PT       BIT(6)
#define ECAP_SC       BIT(7)
#define ECAP_IRO      GENMASK(17, 8)
#define ECAP_MHMV     GENMASK(23, 20)
#define ECAP_MTS      BIT(25)
#define ECAP_NEST     BIT(26)
#define ECAP_PRS      BIT(29)
#define ECAP_ERS      BIT(30)
#define ECAP_SRS      BIT(31)
#define ECAP_NWFS     BIT(33)
#define ECAP_EAFS     BIT(34)
#define ECAP_PSS      GENMASK(39, 35)  /* PASID width - 1 */
#define ECAP_PASID    BIT(40)
#define ECAP_DIT      BIT(41)
#define ECAP_PDS      BIT(42)
#define ECAP_SMTS     BIT(43)
#define ECAP_VCS      BIT(44)
#define ECAP_SLADS    BIT(45)
#define ECAP_SLTS     BIT(46)
#define ECAP_FLTS     BIT(47)
#define ECAP_SMPWCS   BIT(48)
#define ECAP_RPS      BIT(49)
#define ECAP_ADMS     BIT(52)
#define ECAP_RPRIVS   BIT(53)

/* ---- GCMD / GSTS ----------------------------------------------------------------- */
#define GCMD_TE       BIT(31)
#define GCMD_SRTP     BIT(30)
#define GCMD_SFL      BIT(29)
#define GCMD_EAFL     BIT(28)
#define GCMD_WBF      BIT(27)
#define GCMD_QIE      BIT(26)
#define GCMD_IRE      BIT(25)
#define GCMD_SIRTP    BIT(24)
#define GCMD_CFI      BIT(23)
#define GSTS_TES      BIT(31)
#define GSTS_RTPS     BIT(30)
#define GSTS_FLS      BIT(29)
#define GSTS_AFLS     BIT(28)
#define GSTS_WBFS     BIT(27)
#define GSTS_QIES     BIT(26)
#define GSTS_IRES     BIT(25)
#define GSTS_IRTPS    BIT(24)
#define GSTS_CFIS     BIT(23)
#define GCMD_ONESHOT  (GCMD_SRTP | GCMD_SFL | GCMD_WBF | GCMD_SIRTP)

/* ---- RTADDR ---------------------------------------------------------------------- */
#define RTADDR_TTM    GENMASK(11, 10)
#define RTADDR_RTA    GENMASK(63, 12)
#define TTM_LEGACY    0
#define TTM_SCALABLE  1
#define TTM_ABORT     3

/* ---- FSTS, FECTL, fault recording ------------------------------------------------ */
#define FSTS_PFO      BIT(0)
#define FSTS_PPF      BIT(1)
#define FSTS_AFO      BIT(2)
#define FSTS_APF      BIT(3)
#define FSTS_IQE      BIT(4)
#define FSTS_ICE      BIT(5)
#define FSTS_ITE      BIT(6)
#define FSTS_FRI      GENMASK(15, 8)
#define FSTS_RW1C     (FSTS_PFO | FSTS_AFO | FSTS_APF | FSTS_IQE | FSTS_ICE | FSTS_ITE)
#define XECTL_IM      BIT(31)          /* FECTL / IECTL / PECTL */
#define XECTL_IP      BIT(30)

/* Fault recording register, low and high 64-bit halves. */
#define FRCD_LO_FI    GENMASK(63, 12)
#define FRCD_HI_SID   GENMASK(15, 0)
#define FRCD_HI_T2    BIT(28)
#define FRCD_HI_PRIV  BIT(29)
#define FRCD_HI_EXE   BIT(30)
#define FRCD_HI_PP    BIT(31)
#define FRCD_HI_FR    GENMASK(39, 32)
#define FRCD_HI_PV    GENMASK(59, 40)
#define FRCD_HI_AT    GENMASK(61, 60)
#define FRCD_HI_T1    BIT(62)
#define FRCD_HI_F     BIT(63)

/* ---- invalidation queue ----------------------------------------------------------- */
#define IQA_QS        GENMASK(2, 0)
#define IQA_DW        BIT(11)
#define IQA_IQA       GENMASK(63, 12)
#define IQ_PTR        GENMASK(18, 4)   /* IQH / IQT byte offset */
#define ICS_IWC       BIT(0)
#define IQERCD_IQEI   GENMASK(3, 0)
#define IQERCD_ITESID GENMASK(47, 32)
#define IQERCD_ICESID GENMASK(63, 48)
#define IQEI_NONE         0
#define IQEI_TAIL         1   /* invalid tail pointer */
#define IQEI_FETCH        2   /* descriptor fetch error */
#define IQEI_TYPE         3   /* invalid descriptor type */
#define IQEI_RSVD         4   /* reserved field set in a valid descriptor */
#define IQEI_WIDTH        5   /* invalid descriptor width in IQA */
#define IQEI_TAIL_ALIGN   6   /* tail not 256-bit aligned with DW = 1 */
#define IQEI_TTM          7   /* invalid TTM */

/* Descriptor type: bits 3:0 plus bits 11:9 as type[6:4]. */
#define QI_TYPE_LO    GENMASK(3, 0)
#define QI_TYPE_HI    GENMASK(11, 9)
#define QI_CC         0x1   /* context-cache */
#define QI_IOTLB      0x2
#define QI_DEV_TLB    0x3
#define QI_IEC        0x4   /* interrupt entry cache */
#define QI_WAIT       0x5
#define QI_PIOTLB     0x6   /* PASID-based IOTLB */
#define QI_PC         0x7   /* PASID cache */
#define QI_PDEV_TLB   0x8   /* PASID-based device-TLB */
#define QI_PGRP_RESP  0x9   /* page group response */

#define QI_G          GENMASK(5, 4)
#define QI_DID        GENMASK(31, 16)
#define QI_CC_SID     GENMASK(47, 32)
#define QI_CC_FM      GENMASK(49, 48)
#define QI_IOTLB_DW   BIT(6)
#define QI_IOTLB_DR   BIT(7)
#define QI_ADDR_AM    GENMASK(5, 0)    /* qw1 */
#define QI_ADDR_IH    BIT(6)           /* qw1 */
#define QI_ADDR       GENMASK(63, 12)  /* qw1 */
#define QI_PASID      GENMASK(51, 32)
#define QI_DT_PFSID_LO GENMASK(15, 12)
#define QI_DT_MIP     GENMASK(20, 16)
#define QI_DT_SID     GENMASK(47, 32)
#define QI_DT_PFSID_HI GENMASK(63, 52)
#define QI_DT_S       BIT(0)           /* qw1 */
#define QI_PDT_MIP    GENMASK(8, 4)
#define QI_PDT_SID    GENMASK(31, 16)
#define QI_PDT_G      BIT(0)           /* qw1 */
#define QI_PDT_S      BIT(11)          /* qw1 */
#define QI_WAIT_IF    BIT(4)
#define QI_WAIT_SW    BIT(5)
#define QI_WAIT_FN    BIT(6)
#define QI_WAIT_PD    BIT(7)
#define QI_WAIT_SDATA GENMASK(63, 32)
#define QI_WAIT_SADDR GENMASK(63, 2)   /* qw1 */
#define QI_PGR_PP     BIT(4)
#define QI_PGR_PDP    BIT(5)
#define QI_PGR_RC     GENMASK(15, 12)
#define QI_PGR_RID    GENMASK(31, 16)
#define QI_PGR_LPIG   BIT(2)           /* qw1 */
#define QI_PGR_PRGI   GENMASK(11, 3)   /* qw1 */

/* ---- page request queue ------------------------------------------------------------ */
#define PQA_PQS       GENMASK(2, 0)
#define PQA_PQA       GENMASK(63, 12)
#define PQ_PTR        GENMASK(18, 5)
#define PRS_PPR       BIT(0)
#define PRS_PRO       BIT(1)
#define PRQ_TYPE      GENMASK(7, 0)    /* qw0: 1 = page request */
#define PRQ_PP        BIT(8)
#define PRQ_PDP       BIT(9)
#define PRQ_RID       GENMASK(31, 16)
#define PRQ_PASID     GENMASK(51, 32)
#define PRQ_EXE       BIT(52)
#define PRQ_PRIV      BIT(53)
#define PRQ_R         BIT(0)           /* qw1 */
#define PRQ_W         BIT(1)
#define PRQ_LPIG      BIT(2)
#define PRQ_PRGI      GENMASK(11, 3)
#define PRQ_ADDR      GENMASK(63, 12)

/* ---- virtual commands (VT-d 3.3 layout) ------------------------------------------- */
#define VCCAP_PAS     BIT(0)
#define VCMD_CMD      GENMASK(7, 0)
#define VCMD_OPERAND  GENMASK(63, 16)  /* PASID at 35:16 */
#define VCMD_ALLOC    1
#define VCMD_FREE     2
#define VCRSP_IP      BIT(0)
#define VCRSP_SC      GENMASK(7, 1)
#define VCRSP_RESULT  GENMASK(63, 16)
#define VCRSP_SC_OK   0
#define VCRSP_SC_NOPASID 16            /* 3.3: no PASID available / invalid PASID */

/* ---- scalable-mode structures ------------------------------------------------------ */
/* Root entry (lo, hi). */
#define RE_P          BIT(0)
#define RE_RSVD       GENMASK(11, 1)
#define RE_CTP        GENMASK(63, 12)
/* Context entry, words 0 and 1 (words 2, 3 reserved). */
#define CE0_P         BIT(0)
#define CE0_FPD       BIT(1)
#define CE0_DTE       BIT(2)
#define CE0_PASIDE    BIT(3)
#define CE0_PRE       BIT(4)
#define CE0_RSVD      GENMASK(8, 5)
#define CE0_PDTS      GENMASK(11, 9)
#define CE0_PDTP      GENMASK(63, 12)
#define CE1_RID_PASID GENMASK(19, 0)
#define CE1_RID_PRIV  BIT(20)
#define CE1_RSVD      GENMASK(63, 21)
/* PASID directory entry. */
#define PDE_P         BIT(0)
#define PDE_FPD       BIT(1)
#define PDE_RSVD      GENMASK(11, 2)
#define PDE_PTP       GENMASK(63, 12)
/* PASID table entry, words 0..7. */
#define PTE0_P        BIT(0)
#define PTE0_FPD      BIT(1)
#define PTE0_AW       GENMASK(4, 2)
#define PTE0_SLEE     BIT(5)
#define PTE0_PGTT     GENMASK(8, 6)
#define PTE0_SLADE    BIT(9)
#define PTE0_RSVD     GENMASK(11, 10)
#define PTE0_SLPTPTR  GENMASK(63, 12)
#define PTE1_DID      GENMASK(15, 0)
#define PTE1_RSVD     GENMASK(22, 16)
#define PTE1_PWSNP    BIT(23)
#define PTE1_PGSNP    BIT(24)
#define PTE1_CD       BIT(25)
#define PTE1_EMTE     BIT(26)
#define PTE1_EMT      GENMASK(29, 27)
#define PTE1_PWT      BIT(30)
#define PTE1_PCD      BIT(31)
#define PTE1_PAT      GENMASK(63, 32)
#define PTE1_MTS_FIELDS (PTE1_CD | PTE1_EMTE | PTE1_EMT | PTE1_PWT | PTE1_PCD | PTE1_PAT)
#define PTE2_SRE      BIT(0)
#define PTE2_ERE      BIT(1)
#define PTE2_FLPM     GENMASK(3, 2)
#define PTE2_WPE      BIT(4)
#define PTE2_NXE      BIT(5)
#define PTE2_SMEP     BIT(6)
#define PTE2_EAFE     BIT(7)
#define PTE2_RSVD     GENMASK(11, 8)
#define PTE2_FLPTPTR  GENMASK(63, 12)
#define PGTT_FS       1
#define PGTT_SS       2
#define PGTT_NESTED   3
#define PGTT_PT       4

/* ---- structure fault reasons (scalable mode) --------------------------------------- */
#define VTD_FR_RTA_INVALID     0x30  /* root table address / TTM invalid */
#define VTD_FR_LEGACY_PASID    0x31  /* legacy mode, request with PASID */
#define VTD_FR_LEGACY_PRQ      0x32  /* legacy mode, page request */
#define VTD_FR_RE_ACCESS       0x38
#define VTD_FR_RE_NP           0x39
#define VTD_FR_RE_RSVD         0x3a
#define VTD_FR_CE_ACCESS       0x40
#define VTD_FR_CE_NP           0x41
#define VTD_FR_CE_RSVD         0x42
#define VTD_FR_CE_INVALID      0x43
#define VTD_FR_CE_DTE          0x44  /* DTE = 0 for a translation / translated request */
#define VTD_FR_CE_PASIDE       0x45  /* PASIDE = 0 for a request with PASID */
#define VTD_FR_CE_PASID_RANGE  0x46  /* PASID beyond the PASID directory (PDTS) */
#define VTD_FR_CE_PRE          0x47  /* PRE = 0 for a page request */
#define VTD_FR_PDE_ACCESS      0x50
#define VTD_FR_PDE_NP          0x51
#define VTD_FR_PDE_RSVD        0x52
#define VTD_FR_PTE_ACCESS      0x58
#define VTD_FR_PTE_NP          0x59
#define VTD_FR_PTE_RSVD        0x5a
#define VTD_FR_PTE_INVALID     0x5b
#define VTD_FR_PTE_ERE         0x5c  /* execute requested, ERE = 0 */
#define VTD_FR_PTE_SRE         0x5d  /* privileged request, SRE = 0 */
#define VTD_FR_INTR_RANGE      0x87  /* SGN.8: output in the interrupt range */

#endif
