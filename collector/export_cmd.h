/*
 * export_cmd.h - `wallwatch-collector export`: the stored measurements
 * as JSON Lines or CSV, with the filters of GET /api/v1/export.
 */
#ifndef WW_EXPORT_CMD_H
#define WW_EXPORT_CMD_H

/* argv[0] is "export"; returns the exit status. */
int export_main(int argc, char **argv);

#endif
