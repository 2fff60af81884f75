/*
 * store_settings.c - the agreement settings as both backends keep them:
 * rows (name, value) of a settings table, checked and read here alike.
 */
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "store.h"
#include "store_backend.h"
#include "util.h"

/* The settings by name, where they are kept in struct store_agreement. */
static const struct {
	const char *name;
	int min, max;
	size_t off;
} setting_defs[] = {
	{"min_submitters", 1, STORE_MAX_MIN_SUBMITTERS,
	 offsetof(struct store_agreement, min_submitters)},
	{"single_submitter_hours", 0, STORE_MAX_SINGLE_HOURS,
	 offsetof(struct store_agreement, single_submitter_hours)},
	{"daily_cap", 0, STORE_MAX_DAILY_CAP,
	 offsetof(struct store_agreement, daily_cap)},
};

static int *
setting_ptr(struct store_agreement *a, size_t i)
{
	return (int *)((char *)a + setting_defs[i].off);
}

/* A setting out of range, named in err; 0 when all are in range. */
int
store_settings_check(const struct store_agreement *a, const char *where,
		     char *err, size_t errlen)
{
	for (size_t i = 0; i < WW_ARRAY_LEN(setting_defs); i++) {
		int v = *setting_ptr((struct store_agreement *)a, i);

		if (v < setting_defs[i].min || v > setting_defs[i].max) {
			ww_set_err(err, errlen, "%s%s is %d: want %d to %d",
				   where, setting_defs[i].name, v,
				   setting_defs[i].min, setting_defs[i].max);
			return -1;
		}
	}
	return 0;
}

/* One row of the settings table into *a; unknown names are left alone
 * (a newer collector's). */
int
store_setting_read(struct store_agreement *a, const char *name, int64_t v)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "allow_geo_mismatch") == 0) {
		a->allow_geo_mismatch = v != 0;
		return v == 0 || v == 1 ? 0 : -1;
	}
	for (size_t i = 0; i < WW_ARRAY_LEN(setting_defs); i++)
		if (strcmp(name, setting_defs[i].name) == 0) {
			if (v < INT_MIN || v > INT_MAX)
				return -1;
			*setting_ptr(a, i) = (int)v;
		}
	return 0;
}

size_t
store_settings_n(void)
{
	return WW_ARRAY_LEN(setting_defs);
}

const char *
store_setting_name(size_t i)
{
	return setting_defs[i].name;
}

int
store_setting_value(const struct store_agreement *a, size_t i)
{
	return *setting_ptr((struct store_agreement *)a, i);
}
