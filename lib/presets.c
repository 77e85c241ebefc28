/* The preset architectures: one row per preset, holding its specification
 * and its training recipe, which the specification parser, the training
 * options and the name tables all read. */
#include <string.h>

#include "internal.h"

const fnn__preset fnn__presets[] = {
    {"mlp", "input:28x28x1,dense:256,relu,dense:128,relu,dense:10",
     "two hidden dense layers (256, 128) for 28x28 images: SGD, lr 0.05, momentum "
     "0.9, batch 128",
     FNN_OPTIMIZER_SGD, 0.05, 0.9, 128, 0.7},
    {"paper-cnn",
     "input:28x28x1,conv2d:32:3,relu,conv2d:64:3,relu,maxpool:2,dropout:0.25,flatten,"
     "dense:128,relu,dropout:0.5,dense:10",
     "the FNN paper's convolutional network for 28x28 images: Adam, lr 0.001, batch 64",
     FNN_OPTIMIZER_ADAM, 0.001, 0.9, 64, 0.7},
};

const size_t fnn__n_presets = FNN__COUNT(fnn__presets);

const fnn__preset *fnn__preset_find(const char *name)
{
    for (size_t i = 0; name && i < fnn__n_presets; i++)
        if (strcmp(name, fnn__presets[i].name) == 0)
            return &fnn__presets[i];
    return NULL;
}
