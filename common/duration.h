/* duration.h — parses and prints durations the way Go and Kubernetes users write them ("50ms", "1m30s"). */
#ifndef SM_DURATION_H
#define SM_DURATION_H

/* Parses "300ms", "2s", "1m30s", "1.5h", "250us", "0". A bare number other than 0 is an
 * error (a unit is required). Returns 0 and *seconds, or -1 with a reason in why. */
int duration_parse(const char *text, double *seconds, const char **why);

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): for deadlines and elapsed times, never wall time. */
double mono_seconds(void);

#endif
