/* pgtable/vtd_fr.h — VT-d scalable-mode fault reasons raised by page walks.
 *
 * Codes from the VT-d 3.x fault-reason table; names in the later spelling (SFS =
 * first stage, SSS = second stage, SGN = general), which revisions before the
 * "stage" renaming spell SFL/SSL. Where sources differ, the choice and the reason
 * are noted; docs/ARCHITECTURE.md lists what each walk fault becomes and
 * docs/facts/vtd-paging.md the evidence.
 */
#ifndef VSVA_PGTABLE_VTD_FR_H
#define VSVA_PGTABLE_VTD_FR_H

#define VTD_FR_FS_ENTRY_ACCESS  0x70  /* SFS.1 error reading a first-stage entry */
#define VTD_FR_FS_ENTRY_NP      0x71  /* SFS.2 P = 0 */
#define VTD_FR_FS_ENTRY_RSVD    0x72  /* SFS.3 reserved bit set in a present entry */
#define VTD_FR_FS_ROOT_ACCESS   0x73  /* SFS.4 error reading the top entry via FSPTPTR */
#define VTD_FR_FS_NEST_ADDR     0x74  /* SFS.5 nested: a table GPA beyond the SS input width */
#define VTD_FR_FS_NEST_ROOT_RD  0x75  /* SFS.6 nested: SS denies reading the top FS table */
#define VTD_FR_FS_NEST_RD       0x76  /* SFS.7 nested: SS denies reading an FS table */
#define VTD_FR_FS_NEST_WR       0x77  /* SFS.8 nested: SS denies the write of an A/D update */
#define VTD_FR_SS_ENTRY_ACCESS  0x78  /* SSS.1 error reading a second-stage entry */
#define VTD_FR_SS_ENTRY_NP      0x79  /* SSS.2 R = W = 0 (in an entry, or combined) */
#define VTD_FR_SS_ENTRY_RSVD    0x7a  /* SSS.3 reserved bit set */
#define VTD_FR_SS_ROOT_ACCESS   0x7b  /* SSS.4 error reading the top entry via SSPTPTR */
#define VTD_FR_SS_AD_NOSNOOP    0x7c  /* SSS.5 A/D update needed, page walk not snooped */
#define VTD_FR_SS_AD_FAIL       0x7d  /* SSS.6 the A/D update could not be made */
#define VTD_FR_NON_CANONICAL    0x80  /* SGN.1 first-stage input not canonical */
#define VTD_FR_USER_PRIV        0x81  /* SGN.2 user request, U/S = 0 */
#define VTD_FR_EXEC             0x82  /* SGN.3 execute request without execute permission
                                       * (XD, SLEE/X, and SMEP: the spec names no other) */
#define VTD_FR_HAW              0x83  /* SGN.4 input beyond the host address width */
#define VTD_FR_SS_INPUT_WIDTH   0x84  /* SGN.5 second-stage input beyond min(MGAW, AGAW);
                                       * also the final GPA of a nested walk */
#define VTD_FR_WRITE            0x85  /* SGN.6 write without write permission */
#define VTD_FR_READ             0x86  /* SGN.7 read without read permission */
#define VTD_FR_FS_AD_NOSNOOP    0x90  /* SFS.9 A/D update needed, page walk not snooped */
#define VTD_FR_FS_AD_FAIL       0x91  /* SFS.10 the A/D update could not be made */

#endif
