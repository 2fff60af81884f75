/*
 * reanalyze_cmd.h - `wallwatch-collector reanalyze --db PATH
 * [--fingerprints DIR]` (docs/verdicts.md, "Version").
 */
#ifndef WW_REANALYZE_CMD_H
#define WW_REANALYZE_CMD_H

/* argv[0] is "reanalyze"; returns the exit status. */
int reanalyze_main(int argc, char **argv);

#endif
