#include "autoconfig.h"
#include "util/error.h"

#include <stdio.h>

void sl_error_vset(sl_error *err, sl_error_kind kind, const char *fmt, va_list ap)
{
    if (!err || err->kind != SL_ERR_NONE)
        return;
    err->kind = kind;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

void sl_error_set(sl_error *err, sl_error_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_error_vset(err, kind, fmt, ap);
    va_end(ap);
}

void sl_error_reset(sl_error *err)
{
    if (!err)
        return;
    err->kind = SL_ERR_NONE;
    err->msg[0] = '\0';
}

const char *sl_error_kind_name(sl_error_kind kind)
{
    switch (kind) {
    case SL_ERR_NONE: return "none";
    case SL_ERR_CONFIG: return "config";
    case SL_ERR_INPUT: return "input";
    case SL_ERR_PLUGIN: return "plugin";
    case SL_ERR_STORAGE: return "storage";
    case SL_ERR_TIMEOUT: return "timeout";
    case SL_ERR_INTERNAL: return "internal";
    }
    return "internal";
}
