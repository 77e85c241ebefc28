/* Prints every training and unlearning option key as the library describes
 * it, one per line: "train NAME DOMAIN" or "forget NAME DOMAIN" (deprecated
 * keys are left out). tests/check_cli_forget.sh compares the command line's
 * help and usage errors with it. */
#include <stdio.h>

#include <fnn/fnn.h>

int main(void)
{
    char domain[256];
    for (size_t k = 0; k < fnn_names_count(FNN_NAMES_TRAIN_KEY); k++) {
        fnn_train_key_describe((int)k, domain, sizeof domain);
        printf("train\t%s\t%s\n", fnn_name(FNN_NAMES_TRAIN_KEY, (int)k), domain);
    }
    for (size_t k = 0; k < fnn_names_count(FNN_NAMES_FORGET_KEY); k++) {
        uint32_t flags = 0;
        fnn_forget_key_bounds((int)k, NULL, NULL, &flags, NULL);
        if (flags & FNN_BOUND_DEPRECATED)
            continue;
        fnn_forget_key_describe((int)k, domain, sizeof domain);
        printf("forget\t%s\t%s\n", fnn_name(FNN_NAMES_FORGET_KEY, (int)k), domain);
    }
    return 0;
}
