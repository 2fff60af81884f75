/*
 * keys.h - `wallwatch-collector keys list|add|revoke --db PATH ...`: the
 * operator's view of the submitter keys (docs/submitters.md).
 */
#ifndef WW_KEYS_H
#define WW_KEYS_H

/* argv[0] is "keys"; returns the exit status. */
int keys_main(int argc, char **argv);

#endif
