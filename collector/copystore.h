/*
 * copystore.h - `wallwatch-collector copy-store --from SQLITE_PATH --to
 * CONNINFO`: move a deployment's measurements, keys and settings from one
 * store to another (docs/deployment.md).
 */
#ifndef WW_COPYSTORE_H
#define WW_COPYSTORE_H

/* argv[0] is "copy-store"; returns the exit status. */
int copystore_main(int argc, char **argv);

#endif
