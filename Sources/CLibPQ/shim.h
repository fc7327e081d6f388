#ifndef GEOREP_CLIBPQ_H
#define GEOREP_CLIBPQ_H
#include <libpq-fe.h>
#endif
