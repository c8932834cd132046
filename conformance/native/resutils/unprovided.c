/* The Resource Utility functions this resutils.dll exports but does not provide yet
 * (unprovided.h): each answers ERROR_CALL_NOT_IMPLEMENTED and is noted (include/rescheck_unprovided.h). */
#include "../include/rescheck_unprovided.h"
#include "internal.h"

#include "unprovided.h"
