/* Trains a model as include/fnn/fnn.h tells a C program to (the recipe of
 * fnn_train_options_preset()), so that tests/check_cli_forget.sh can check
 * that `fnn train` saves the same bytes:
 *
 *   train_like_cli DIR ARCH EPOCHS SEED OUT */
#include <stdio.h>
#include <stdlib.h>

#include <fnn/fnn.h>

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: train_like_cli DIR ARCH EPOCHS SEED OUT\n");
        return 2;
    }
    uint64_t seed = strtoull(argv[4], NULL, 10);
    char err[256] = "";
    fnn_dataset *train = NULL;
    fnn_model *m = NULL;
    fnn_train_options *o = NULL;
    int st = fnn_dataset_load_dir(&train, argv[1], FNN_SPLIT_TRAIN, err, sizeof err);
    if (st == FNN_OK)
        st = fnn_model_create(&m, argv[2], seed, err, sizeof err);
    if (st == FNN_OK && (st = fnn_train_options_create(&o)) == FNN_OK &&
        (st = fnn_train_options_preset(o, argv[2])) == FNN_OK &&
        (st = fnn_train_options_set(o, FNN_TRAIN_EPOCHS, atof(argv[3]))) == FNN_OK &&
        (st = fnn_train_options_set_u64(o, FNN_TRAIN_SEED, seed)) == FNN_OK &&
        (st = fnn_model_train(m, train, o)) == FNN_OK)
        st = fnn_model_save(m, argv[5]);
    if (st != FNN_OK)
        fprintf(stderr, "train_like_cli: %s %s\n", fnn_strerror(st),
                m ? fnn_model_errmsg(m) : err);
    fnn_train_options_free(o);
    fnn_model_free(m);
    fnn_dataset_free(train);
    return st == FNN_OK ? 0 : 1;
}
