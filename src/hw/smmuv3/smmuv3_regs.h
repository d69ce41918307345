/* hw/smmuv3/smmuv3_regs.h — SMMUv3 register offsets and fields, stream table
 * entries, context descriptors, commands, event records and PRI queue entries.
 * Bit positions as the SMMUv3 specification gives them (sources and the points
 * where they disagree: docs/facts/smmuv3-structures.md).
 */
#ifndef VSVA_HW_SMMUV3_REGS_H
#define VSVA_HW_SMMUV3_REGS_H

#include "pgtable/lpae.h"
#include "util/bits.h"

/* ---- register offsets (page 0; page 1 at SMMU_PAGE1) ----------------------------------- */
#define SMMU_IDR0              0x00
#define SMMU_IDR1              0x04
#define SMMU_IDR2              0x08
#define SMMU_IDR3              0x0c
#define SMMU_IDR4              0x10
#define SMMU_IDR5              0x14
#define SMMU_IIDR              0x18
#define SMMU_AIDR              0x1c
#define SMMU_CR0               0x20
#define SMMU_CR0ACK            0x24
#define SMMU_CR1               0x28
#define SMMU_CR2               0x2c
#define SMMU_STATUSR           0x40
#define SMMU_GBPA              0x44
#define SMMU_AGBPA             0x48
#define SMMU_IRQ_CTRL          0x50
#define SMMU_IRQ_CTRLACK       0x54
#define SMMU_GERROR            0x60
#define SMMU_GERRORN           0x64
#define SMMU_GERROR_IRQ_CFG0   0x68    /* 64 */
#define SMMU_GERROR_IRQ_CFG1   0x70
#define SMMU_GERROR_IRQ_CFG2   0x74
#define SMMU_STRTAB_BASE       0x80    /* 64 */
#define SMMU_STRTAB_BASE_CFG   0x88
#define SMMU_CMDQ_BASE         0x90    /* 64 */
#define SMMU_CMDQ_PROD         0x98
#define SMMU_CMDQ_CONS         0x9c
#define SMMU_EVENTQ_BASE       0xa0    /* 64 */
#define SMMU_EVENTQ_IRQ_CFG0   0xb0    /* 64 */
#define SMMU_EVENTQ_IRQ_CFG1   0xb8
#define SMMU_EVENTQ_IRQ_CFG2   0xbc
#define SMMU_PRIQ_BASE         0xc0    /* 64 */
#define SMMU_PRIQ_IRQ_CFG0     0xd0    /* 64 */
#define SMMU_PRIQ_IRQ_CFG1     0xd8
#define SMMU_PRIQ_IRQ_CFG2     0xdc
#define SMMU_PAGE1             0x10000
#define SMMU_EVENTQ_PROD       (SMMU_PAGE1 + 0xa8)
#define SMMU_EVENTQ_CONS       (SMMU_PAGE1 + 0xac)
#define SMMU_PRIQ_PROD         (SMMU_PAGE1 + 0xc8)
#define SMMU_PRIQ_CONS         (SMMU_PAGE1 + 0xcc)

/* ---- ID registers ------------------------------------------------------------------------ */
#define IDR0_S2P               BIT(0)
#define IDR0_S1P               BIT(1)
#define IDR0_TTF               GENMASK(3, 2)
#define IDR0_TTF_AARCH64       2
#define IDR0_COHACC            BIT(4)
#define IDR0_BTM               BIT(5)
#define IDR0_HTTU              GENMASK(7, 6)
#define IDR0_HYP               BIT(9)
#define IDR0_ATS               BIT(10)
#define IDR0_NS1ATS            BIT(11)
#define IDR0_ASID16            BIT(12)
#define IDR0_MSI               BIT(13)
#define IDR0_SEV               BIT(14)
#define IDR0_PRI               BIT(16)
#define IDR0_VMID16            BIT(18)
#define IDR0_CD2L              BIT(19)
#define IDR0_TTENDIAN          GENMASK(22, 21)
#define IDR0_TTENDIAN_LE       2
#define IDR0_STALL_MODEL       GENMASK(25, 24)
#define IDR0_TERM_MODEL        BIT(26)
#define IDR0_ST_LEVEL          GENMASK(28, 27)

#define IDR1_SIDSIZE           GENMASK(5, 0)
#define IDR1_SSIDSIZE          GENMASK(10, 6)
#define IDR1_PRIQS             GENMASK(15, 11)
#define IDR1_EVENTQS           GENMASK(20, 16)
#define IDR1_CMDQS             GENMASK(25, 21)

#define IDR3_HAD               BIT(2)
#define IDR3_RIL               BIT(10)

#define IDR5_OAS               GENMASK(2, 0)
#define IDR5_GRAN4K            BIT(4)
#define IDR5_GRAN16K           BIT(5)
#define IDR5_GRAN64K           BIT(6)
#define IDR5_STALL_MAX         GENMASK(31, 16)

#define AIDR_MINOR             GENMASK(3, 0)
#define AIDR_MAJOR             GENMASK(7, 4)

/* ---- control -------------------------------------------------------------------------------- */
#define CR0_SMMUEN             BIT(0)
#define CR0_PRIQEN             BIT(1)
#define CR0_EVENTQEN           BIT(2)
#define CR0_CMDQEN             BIT(3)
#define CR0_ATSCHK             BIT(4)
#define CR0_VMW                GENMASK(8, 6)
#define CR0_MASK               (CR0_SMMUEN | CR0_PRIQEN | CR0_EVENTQEN | CR0_CMDQEN | \
				CR0_ATSCHK | CR0_VMW)

#define CR1_MASK               GENMASK(11, 0)  /* queue and table cacheability/shareability */
#define CR2_E2H                BIT(0)
#define CR2_RECINVSID          BIT(1)
#define CR2_PTM                BIT(2)
#define CR2_MASK               (CR2_E2H | CR2_RECINVSID | CR2_PTM)

#define GBPA_MEMATTR           GENMASK(3, 0)
#define GBPA_MTCFG             BIT(4)
#define GBPA_ALLOCCFG          GENMASK(11, 8)
#define GBPA_SHCFG             GENMASK(13, 12)
#define GBPA_PRIVCFG           GENMASK(17, 16)
#define GBPA_INSTCFG           GENMASK(19, 18)
#define GBPA_ABORT             BIT(20)
#define GBPA_UPDATE            BIT(31)
#define GBPA_FIELDS            (GBPA_MEMATTR | GBPA_MTCFG | GBPA_ALLOCCFG | GBPA_SHCFG | \
				GBPA_PRIVCFG | GBPA_INSTCFG | GBPA_ABORT)

#define IRQ_CTRL_GERROR_IRQEN  BIT(0)
#define IRQ_CTRL_PRIQ_IRQEN    BIT(1)
#define IRQ_CTRL_EVENTQ_IRQEN  BIT(2)
#define IRQ_CTRL_MASK          GENMASK(2, 0)

#define GERROR_CMDQ_ERR        BIT(0)
#define GERROR_EVENTQ_ABT_ERR  BIT(2)
#define GERROR_PRIQ_ABT_ERR    BIT(3)
#define GERROR_MSI_CMDQ_ABT    BIT(4)
#define GERROR_MSI_EVENTQ_ABT  BIT(5)
#define GERROR_MSI_PRIQ_ABT    BIT(6)
#define GERROR_MSI_GERROR_ABT  BIT(7)
#define GERROR_SFM_ERR         BIT(8)
#define GERROR_MASK            (GENMASK(8, 2) | BIT(0))

#define STRTAB_BASE_ADDR       GENMASK(51, 6)
#define STRTAB_BASE_RA         BIT(62)
#define STRTAB_CFG_LOG2SIZE    GENMASK(5, 0)
#define STRTAB_CFG_SPLIT       GENMASK(10, 6)
#define STRTAB_CFG_FMT         GENMASK(17, 16)
#define STRTAB_FMT_LINEAR      0
#define STRTAB_FMT_2LVL        1

/* Queue base registers (CMDQ, EVENTQ, PRIQ) and pointers. */
#define Q_BASE_LOG2SIZE        GENMASK(4, 0)
#define Q_BASE_ADDR            GENMASK(51, 5)
#define Q_BASE_WA              BIT(62)   /* EVENTQ/PRIQ; RA for CMDQ */
#define Q_OVF                  BIT(31)   /* EVENTQ/PRIQ PROD.OVFLG, CONS.OVACKFLG */
#define CMDQ_CONS_ERR          GENMASK(30, 24)
#define CMDQ_ERR_NONE          0
#define CMDQ_ERR_ILL           1
#define CMDQ_ERR_ABT           2
#define CMDQ_ERR_ATC_INV_SYNC  3

/* ---- stream table ---------------------------------------------------------------------- */
#define STE_SIZE               64
#define STE_L1_SIZE            8
#define STE_L1_SPAN            GENMASK(4, 0)
#define STE_L1_L2PTR           GENMASK(51, 6)

/* dw0 */
#define STE0_V                 BIT(0)
#define STE0_CONFIG            GENMASK(3, 1)
#define STE_CFG_ABORT          0
#define STE_CFG_BYPASS         4
#define STE_CFG_S1             5
#define STE_CFG_S2             6
#define STE_CFG_NESTED         7
#define STE0_S1FMT             GENMASK(5, 4)
#define S1FMT_LINEAR           0
#define S1FMT_4K_L2            1
#define S1FMT_64K_L2           2
#define STE0_S1CTXPTR          GENMASK(51, 6)
#define STE0_S1CDMAX           GENMASK(63, 59)
/* dw1 */
#define STE1_S1DSS             GENMASK(1, 0)
#define S1DSS_TERMINATE        0
#define S1DSS_BYPASS           1
#define S1DSS_SSID0            2
#define STE1_S1CIR             GENMASK(3, 2)
#define STE1_S1COR             GENMASK(5, 4)
#define STE1_S1CSH             GENMASK(7, 6)
#define STE1_DCP               BIT(12)
#define STE1_PPAR              BIT(18)
#define STE1_MEV               BIT(19)
#define STE1_S2FWB             BIT(25)
#define STE1_S1STALLD          BIT(27)
#define STE1_EATS              GENMASK(29, 28)
#define EATS_ABORT             0
#define EATS_TRANS             1
#define EATS_S1CHK             2
#define EATS_RSVD              3      /* DPT checks: without IDR3.DPT behaves as 0b00 */
#define STE1_STRW              GENMASK(31, 30)
#define STE1_MEMATTR           GENMASK(35, 32)
#define STE1_MTCFG             BIT(36)
#define STE1_ALLOCCFG          GENMASK(40, 37)
#define STE1_SHCFG             GENMASK(45, 44)
#define STE1_NSCFG             GENMASK(47, 46)
#define STE1_PRIVCFG           GENMASK(49, 48)
#define STE1_INSTCFG           GENMASK(51, 50)
/* dw2 */
#define STE2_S2VMID            GENMASK(15, 0)
#define STE2_S2T0SZ            GENMASK(37, 32)
#define STE2_S2SL0             GENMASK(39, 38)
#define STE2_S2IR0             GENMASK(41, 40)
#define STE2_S2OR0             GENMASK(43, 42)
#define STE2_S2SH0             GENMASK(45, 44)
#define STE2_S2TG              GENMASK(47, 46)
#define S2TG_4K                0
#define S2TG_64K               1
#define S2TG_16K               2
#define STE2_S2PS              GENMASK(50, 48)
#define STE2_S2AA64            BIT(51)
#define STE2_S2ENDI            BIT(52)
#define STE2_S2AFFD            BIT(53)
#define STE2_S2PTW             BIT(54)
#define STE2_S2HD              BIT(55)
#define STE2_S2HA              BIT(56)
#define STE2_S2S               BIT(57)
#define STE2_S2R               BIT(58)
/* dw3 */
#define STE3_S2TTB             GENMASK(51, 4)

/* ---- context descriptors ------------------------------------------------------------------ */
#define CD_SIZE                64
#define CD_L1_SIZE             8
#define CD_L1_V                BIT(0)
#define CD_L1_L2PTR            GENMASK(51, 12)
/* dw0 */
#define CD0_T0SZ               GENMASK(5, 0)
#define CD0_TG0                GENMASK(7, 6)
#define TG0_4K                 0
#define TG0_64K                1
#define TG0_16K                2
#define CD0_IR0                GENMASK(9, 8)
#define CD0_OR0                GENMASK(11, 10)
#define CD0_SH0                GENMASK(13, 12)
#define CD0_EPD0               BIT(14)
#define CD0_ENDI               BIT(15)
#define CD0_T1SZ               GENMASK(21, 16)
#define CD0_TG1                GENMASK(23, 22)
#define TG1_16K                1
#define TG1_4K                 2
#define TG1_64K                3
#define CD0_IR1                GENMASK(25, 24)
#define CD0_OR1                GENMASK(27, 26)
#define CD0_SH1                GENMASK(29, 28)
#define CD0_EPD1               BIT(30)
#define CD0_V                  BIT(31)
#define CD0_IPS                GENMASK(34, 32)
#define CD0_AFFD               BIT(35)
#define CD0_WXN                BIT(36)
#define CD0_UWXN               BIT(37)
#define CD0_TBI0               BIT(38)
#define CD0_TBI1               BIT(39)
#define CD0_PAN                BIT(40)
#define CD0_AA64               BIT(41)
#define CD0_HD                 BIT(42)
#define CD0_HA                 BIT(43)
#define CD0_S                  BIT(44)
#define CD0_R                  BIT(45)
#define CD0_A                  BIT(46)
#define CD0_ASET               BIT(47)
#define CD0_ASID               GENMASK(63, 48)
/* dw1, dw2 */
#define CD1_NSCFG0             BIT(0)
#define CD1_HAD0               BIT(1)
#define CD1_TTB0               GENMASK(51, 4)
#define CD2_NSCFG1             BIT(0)
#define CD2_HAD1               BIT(1)
#define CD2_TTB1               GENMASK(51, 4)
/* dw3: MAIR0, dw4 (with the upper half of the 64-byte CD): MAIR1, AMAIR... */

/* ---- commands (16 bytes) --------------------------------------------------------------------- */
#define CMD_SIZE               16
#define CMD0_OP                GENMASK(7, 0)
#define CMD0_SSV               BIT(11)
#define CMD0_SSID              GENMASK(31, 12)
#define CMD0_SID               GENMASK(63, 32)
#define CMD1_LEAF              BIT(0)
#define CMD1_RANGE             GENMASK(4, 0)     /* CFGI_STE_RANGE */
/* TLBI */
#define CMD0_NUM               GENMASK(16, 12)
#define CMD0_SCALE             GENMASK(24, 20)
#define CMD0_VMID              GENMASK(47, 32)
#define CMD0_ASID              GENMASK(63, 48)
#define CMD1_TTL               GENMASK(9, 8)
#define CMD1_TG                GENMASK(11, 10)
#define CMD1_VA                GENMASK(63, 12)
#define CMD1_IPA               GENMASK(51, 12)
/* ATC_INV */
#define CMD0_GLOBAL            BIT(9)
#define CMD1_ATC_SIZE          GENMASK(5, 0)
#define CMD1_ATC_ADDR          GENMASK(63, 12)
/* PRI_RESP */
#define CMD1_PRGI              GENMASK(8, 0)
#define CMD1_RESP              GENMASK(13, 12)
/* Linux's names; the spec's meanings (4.5.2): 0 ResponseFailure (PCIe 0b1111),
 * 1 InvalidRequest (0b0001), 2 Success (0b0000), 3 Reserved (CERROR_ILL). */
#define PRI_RESP_DENY          0
#define PRI_RESP_FAIL          1
#define PRI_RESP_SUCC          2
/* RESUME / STALL_TERM */
#define CMD0_RESUME_AC         BIT(12)   /* RESUME Action: 1 retry, 0 abort */
#define CMD0_RESUME_AB         BIT(13)   /* Abort: terminate with an abort (not RAZ/WI) */
#define CMD1_STAG              GENMASK(15, 0)
/* CMD_SYNC */
#define CMD0_CS                GENMASK(13, 12)
#define CS_NONE                0
#define CS_IRQ                 1
#define CS_SEV                 2
#define CMD0_MSH               GENMASK(23, 22)
#define CMD0_MSIATTR           GENMASK(27, 24)
#define CMD0_MSIDATA           GENMASK(63, 32)
#define CMD1_MSIADDR           GENMASK(51, 2)

enum smmu_cmd_op {
	CMD_PREFETCH_CONFIG = 0x01,
	CMD_PREFETCH_ADDR = 0x02,
	CMD_CFGI_STE = 0x03,
	CMD_CFGI_STE_RANGE = 0x04,       /* CFGI_ALL: Range 31 */
	CMD_CFGI_CD = 0x05,
	CMD_CFGI_CD_ALL = 0x06,
	CMD_TLBI_NH_ALL = 0x10,
	CMD_TLBI_NH_ASID = 0x11,
	CMD_TLBI_NH_VA = 0x12,
	CMD_TLBI_NH_VAA = 0x13,
	CMD_TLBI_EL3_ALL = 0x18,
	CMD_TLBI_EL3_VA = 0x1a,
	CMD_TLBI_EL2_ALL = 0x20,
	CMD_TLBI_EL2_ASID = 0x21,
	CMD_TLBI_EL2_VA = 0x22,
	CMD_TLBI_EL2_VAA = 0x23,
	CMD_TLBI_S12_VMALL = 0x28,
	CMD_TLBI_S2_IPA = 0x2a,
	CMD_TLBI_NSNH_ALL = 0x30,
	CMD_ATC_INV = 0x40,
	CMD_PRI_RESP = 0x41,
	CMD_RESUME = 0x44,
	CMD_STALL_TERM = 0x45,
	CMD_SYNC = 0x46,
};

/* ---- event records (32 bytes) ---------------------------------------------------------------- */
#define EVT_SIZE               32
#define EVT0_ID                GENMASK(7, 0)
#define EVT0_SSV               BIT(11)
#define EVT0_SSID              GENMASK(31, 12)
#define EVT0_SID               GENMASK(63, 32)
#define EVT1_STAG              GENMASK(15, 0)
#define EVT1_STALL             BIT(31)
#define EVT1_PNU               BIT(33)
#define EVT1_IND               BIT(34)
#define EVT1_RNW               BIT(35)
#define EVT1_S2                BIT(39)
#define EVT1_CLASS             GENMASK(41, 40)
#define EVT_CLASS_CD           0
#define EVT_CLASS_TT           1
#define EVT_CLASS_IN           2
#define EVT1_TTRNW             BIT(44)
/* IMPLEMENTATION DEFINED Reason of F_UUT, F_STE_FETCH, F_CD_FETCH, F_VMS_FETCH: record
 * bits 79:64 (spec 7.3; bit 80 is GPCF). F_TLB_CONFLICT and F_CFG_CONFLICT have it in
 * 95:64 (dw1 31:0). It is not at 63:32, where PnU/InD/RnW/S2/CLASS lie. */
#define EVT1_REASON            GENMASK(15, 0)
#define EVT1_REASON_CONFLICT   GENMASK(31, 0)
#define EVT3_IPA               GENMASK(51, 12)
#define EVT3_FETCH_ADDR        GENMASK(51, 3)

enum smmu_event_id {
	EVT_F_UUT = 0x01,
	EVT_C_BAD_STREAMID = 0x02,
	EVT_F_STE_FETCH = 0x03,
	EVT_C_BAD_STE = 0x04,
	EVT_F_BAD_ATS_TREQ = 0x05,
	EVT_F_STREAM_DISABLED = 0x06,
	EVT_F_TRANSL_FORBIDDEN = 0x07,
	EVT_C_BAD_SUBSTREAMID = 0x08,
	EVT_F_CD_FETCH = 0x09,
	EVT_C_BAD_CD = 0x0a,
	EVT_F_WALK_EABT = SMMU_EVT_F_WALK_EABT,
	EVT_F_TRANSLATION = SMMU_EVT_F_TRANSLATION,
	EVT_F_ADDR_SIZE = SMMU_EVT_F_ADDR_SIZE,
	EVT_F_ACCESS = SMMU_EVT_F_ACCESS,
	EVT_F_PERMISSION = SMMU_EVT_F_PERMISSION,
	EVT_F_TLB_CONFLICT = 0x20,
	EVT_F_CFG_CONFLICT = 0x21,
	EVT_E_PAGE_REQUEST = 0x24,
	EVT_F_VMS_FETCH = 0x25,
};

/* ---- PRI queue entries (16 bytes) ------------------------------------------------------------ */
#define PRI_SIZE               16
#define PRI0_SID               GENMASK(31, 0)
#define PRI0_SSID              GENMASK(51, 32)
#define PRI0_PRIV              BIT(58)
#define PRI0_EXEC              BIT(59)
#define PRI0_READ              BIT(60)
#define PRI0_WRITE             BIT(61)
#define PRI0_LAST              BIT(62)
#define PRI0_SSV               BIT(63)
#define PRI1_PRGI              GENMASK(8, 0)
#define PRI1_ADDR              GENMASK(63, 12)

#endif
