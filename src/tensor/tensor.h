/*
 * tensor.h — internal declarations of the tensor layer: the per-type row
 * functions that fill the traits table in type.c.
 */
#ifndef TG_TENSOR_H
#define TG_TENSOR_H

#include "tinglado.h"

#endif /* TG_TENSOR_H */
