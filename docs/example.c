/* A complete libfnn program: make a small synthetic data set, split it, train
 * a network, evaluate it, save it, load it back and check the copy agrees.
 *
 *   cc example.c $(pkg-config --cflags --libs fnn) -o example
 *   ./example [MODEL_FILE]
 */
#include <stdio.h>
#include <stdlib.h>

#include <fnn/fnn.h>

enum { N = 1000, FEATURES = 4 };

/* Reports a failed call; returns non-zero when rc is not FNN_OK. */
static int failed(int rc, const char *what, const char *message)
{
    if (rc != FNN_OK)
        fprintf(stderr, "example: %s: %s (%s)\n", what, message, fnn_strerror(rc));
    return rc != FNN_OK;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "example.fnn";
    static float x[N * FEATURES];
    static int32_t y[N];
    char err[256] = "";
    fnn_dataset *all = NULL, *train = NULL, *test = NULL;
    fnn_model *model = NULL, *copy = NULL;
    fnn_train_options *opts = NULL;
    double acc = 0, loss = 0, copy_acc = 0;
    int status = EXIT_FAILURE;

    /* Four features in [-1, 1); the class is whether x0 + x1 > x2 + x3. */
    uint32_t state = 12345;
    for (size_t i = 0; i < N; i++) {
        float *xi = &x[i * FEATURES];
        for (size_t j = 0; j < FEATURES; j++) {
            state = state * 1664525u + 1013904223u;
            xi[j] = (float)(state >> 8) / 8388608.0f - 1.0f;
        }
        y[i] = xi[0] + xi[1] > xi[2] + xi[3];
    }

    /* N samples of shape 4 x 1 x 1 and 2 classes; 80% for training. */
    if (failed(fnn_dataset_from_arrays(&all, x, y, N, FEATURES, 1, 1, 2, err, sizeof err),
               "dataset", err) ||
        failed(fnn_dataset_split(all, 0.8, 1, &train, &test), "split",
               fnn_dataset_errmsg(all)) ||
        failed(fnn_model_create(&model, "input:4,dense:8,relu,dense:2", 1, err, sizeof err),
               "model", err) ||
        failed(fnn_train_options_create(&opts), "options", ""))
        goto done;

    /* Adam (the default optimizer), 30 epochs of batches of 32. */
    if (failed(fnn_train_options_set(opts, FNN_TRAIN_EPOCHS, 30), "epochs",
               fnn_train_options_errmsg(opts)) ||
        failed(fnn_train_options_set(opts, FNN_TRAIN_BATCH_SIZE, 32), "batch size",
               fnn_train_options_errmsg(opts)) ||
        failed(fnn_train_options_set(opts, FNN_TRAIN_LEARNING_RATE, 0.01), "learning rate",
               fnn_train_options_errmsg(opts)) ||
        failed(fnn_model_train(model, train, opts), "train", fnn_model_errmsg(model)) ||
        failed(fnn_model_evaluate(model, test, &acc, &loss), "evaluate",
               fnn_model_errmsg(model)))
        goto done;
    printf("test accuracy %.2f%%, mean loss %.4f\n", 100.0 * acc, loss);

    if (failed(fnn_model_save(model, path), "save", fnn_model_errmsg(model)) ||
        failed(fnn_model_load(&copy, path, err, sizeof err), "load", err) ||
        failed(fnn_model_evaluate(copy, test, &copy_acc, NULL), "evaluate copy",
               fnn_model_errmsg(copy)))
        goto done;
    printf("reloaded from %s: test accuracy %.2f%%\n", path, 100.0 * copy_acc);
    if (copy_acc != acc) {
        fprintf(stderr, "example: the reloaded model disagrees with the original\n");
        goto done;
    }
    status = EXIT_SUCCESS;
done:
    fnn_train_options_free(opts);
    fnn_model_free(copy);
    fnn_model_free(model);
    fnn_dataset_free(test);
    fnn_dataset_free(train);
    fnn_dataset_free(all);
    return status;
}
