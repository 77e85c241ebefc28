/* Method `none`: leaves the model as it is, the do-nothing reference of
 * every comparison (its figures are the original model's). */
#include "unlearn.h"

static int run(fnn__run *r)
{
    (void)r;
    return FNN_OK;
}

const fnn__method fnn__method_none = {
    FNN_METHOD_NONE, "none", "leaves the model as it is: the do-nothing reference",
    NULL, NULL, NULL, run, 0,
};
