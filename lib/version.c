/* Runtime version queries. */
#include "internal.h"

FNN_API unsigned fnn_version_number(void)
{
    return FNN_VERSION_NUMBER;
}

FNN_API const char *fnn_version_string(void)
{
    return FNN_VERSION_STRING;
}
