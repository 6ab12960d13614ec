/* diagnosis.h: the internal side of diagnosis.c (fx_diagnosis_*, fx_session_next_question). */
#ifndef FX_DIAGNOSIS_H
#define FX_DIAGNOSIS_H

#include "session.h"

#endif
