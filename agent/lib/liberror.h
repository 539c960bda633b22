/* liberror.h — builds the public appdeploy_error from a message worded as the pipeline words it (lib.c, fuzz_liberror). */
#ifndef SM_LIBERROR_H
#define SM_LIBERROR_H

#include "appdeploy.h"

/*
 * A new error whose message is msg; "FILE:LINE:COL: ...", "FILE:LINE: ..." and Go's
 * "template: NAME:LINE[:COL]: ..." also give file, line and col (FILE never holds ": "). NULL when
 * out of memory. Free with appdeploy_error_free.
 */
appdeploy_error *liberror_from_message(const char *msg);

#endif
